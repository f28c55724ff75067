"""The stream reader (frames however TCP cuts them) and sub-package reassembly."""

from __future__ import annotations

from dataclasses import replace

import pytest

from telemetry.jt808 import (
    BatchType,
    FrameReader,
    Header,
    Jt808Error,
    LocationBatch,
    Packet,
    Reassembler,
    decode_frame,
    decode_message,
    encode_body,
    encode_packages,
)
from tests.telemetry.frames import BAD_CHECKSUM, BATCH, ESCAPED, FIX, HEARTBEAT, LOCATION, frame


def packets(items: list[Packet | Jt808Error]) -> list[Packet]:
    return [item for item in items if isinstance(item, Packet)]


def test_garbage_before_the_first_frame_is_reported_once() -> None:
    items = FrameReader().feed(b"GET / HTTP/1.1\r\n\r\n" + frame(HEARTBEAT))
    assert [type(item) for item in items] == [Jt808Error, Packet]
    assert isinstance(items[0], Jt808Error)
    assert items[0].reason == "garbage"


def test_garbage_between_frames_costs_no_good_frame() -> None:
    stream = frame(HEARTBEAT) + b"\x01\x02\x03" + frame(LOCATION) + frame(HEARTBEAT)
    items = FrameReader().feed(stream)
    # 7e HB 7e | 010203 | 7e LOC 7e 7e HB 7e: the garbage sits between two 0x7e, so it is
    # read as a (too short) frame; the 7e 7e between LOC and HB is an empty frame, skipped.
    assert [getattr(item, "reason", "ok") for item in items] == ["ok", "truncated", "ok", "ok"]


def test_a_frame_fed_byte_by_byte_comes_out_once() -> None:
    reader = FrameReader()
    items: list[Packet | Jt808Error] = []
    for byte in frame(LOCATION) + frame(ESCAPED):
        items += reader.feed(bytes((byte,)))
    assert [p.header.serial for p in packets(items)] == [0x19, 0x0A2E]
    assert len(items) == 2
    assert reader.buffered == 0


def test_frames_split_across_reads_at_any_point() -> None:
    stream = frame(HEARTBEAT) + frame(LOCATION) + frame(BATCH)
    for cut in range(1, len(stream)):
        reader = FrameReader()
        items = reader.feed(stream[:cut]) + reader.feed(stream[cut:])
        assert [p.header.msg_id for p in packets(items)] == [0x0002, 0x0200, 0x0704], cut
        assert len(items) == 3


def test_empty_frames_are_skipped() -> None:
    assert FrameReader().feed(b"\x7e\x7e\x7e" + frame(HEARTBEAT) + b"\x7e") == [
        decode_frame(frame(HEARTBEAT))
    ]


def test_an_unterminated_over_long_frame_is_dropped_up_to_the_next_7e() -> None:
    reader = FrameReader()
    items = reader.feed(b"\x7e" + b"\x00" * 5000)
    items += reader.feed(b"\x00" * 5000)  # 10,000 > 8,192 bytes without a 0x7e
    assert [getattr(item, "reason", None) for item in items] == ["too_long"]
    assert reader.buffered == 0
    items = reader.feed(b"\x00" * 3000 + frame(HEARTBEAT))  # still the same frame, then one
    assert packets(items) == [decode_frame(frame(HEARTBEAT))]
    assert len(items) == 1


def test_a_complete_over_long_frame_is_refused() -> None:
    items = FrameReader(max_frame_bytes=64).feed(b"\x7e" + b"\x01" * 65 + frame(HEARTBEAT))
    assert [getattr(item, "reason", "ok") for item in items] == ["too_long", "ok"]


def test_a_bad_frame_in_the_stream_is_reported_and_the_next_is_read() -> None:
    stream = frame(BAD_CHECKSUM) + frame(HEARTBEAT)
    items = FrameReader().feed(stream)
    assert [getattr(item, "reason", "ok") for item in items] == ["checksum", "ok"]


# --- sub-packages ------------------------------------------------------------------------


def long_batch(count: int = 40) -> LocationBatch:
    fixes = tuple(replace(FIX, lat_e6=FIX.lat_e6 + n, odometer_km_x10=n) for n in range(count))
    return LocationBatch(BatchType.BLIND_AREA, fixes)


def test_sub_packages_are_reassembled_out_of_order() -> None:
    batch = long_batch()
    msg_id, raw = encode_body(batch)
    # 3 + 40 x (2 + 28 + 6 + 3 + 3) = 1,683 bytes: packages of 1,023 and 660.
    assert len(raw) == 1683
    frames = encode_packages(msg_id, raw, phone="013833501744", first_serial=0xFFFF)
    assert len(frames) == 2
    parts = Reassembler()
    second, first = (decode_frame(f) for f in reversed(frames))
    assert second.header.serial == 0x0000  # serials wrap: 0xffff, then 0x0000
    assert parts.add(second) is None
    assert parts.pending == 1
    whole = parts.add(first)
    assert whole is not None
    assert whole.header == Header(0x0704, "013833501744", 0xFFFF)
    assert decode_message(whole) == batch
    assert parts.pending == 0


def test_three_sub_packages_in_the_order_3_1_2() -> None:
    frames = encode_packages(
        0x0900, bytes(range(256)) * 10, phone="7", first_serial=100, package_bytes=1000
    )
    assert len(frames) == 3  # 2,560 bytes: 1,000 + 1,000 + 560
    parts = Reassembler()
    reader = FrameReader()
    got = [parts.add(p) for p in packets(reader.feed(frames[2] + frames[0] + frames[1]))]
    assert got[:2] == [None, None]
    assert got[2] is not None
    assert got[2].body == bytes(range(256)) * 10
    assert got[2].header.serial == 100


def test_incomplete_sub_packages_expire_and_the_oldest_is_evicted() -> None:
    now = [0.0]
    parts = Reassembler(timeout_s=60, max_pending=2, clock=lambda: now[0])
    frames = [
        encode_packages(0x0900, b"x" * 20, phone=str(n), first_serial=1, package_bytes=10)[0]
        for n in range(3)
    ]
    for data in frames:
        assert parts.add(decode_frame(data)) is None
    assert (parts.pending, parts.dropped) == (2, 1)  # phone 0 evicted for phone 2
    assert parts.missing(("000000000002", 0x0900, 1)) == [2]
    now[0] = 60.0
    assert parts.expire() == 2
    assert (parts.pending, parts.dropped) == (0, 3)


def test_a_package_count_that_changes_is_refused() -> None:
    parts = Reassembler()
    parts.add(Packet(Header(0x0900, "1", 5, None, 3, 1), b"a"))
    with pytest.raises(Jt808Error, match="sub_package"):
        parts.add(Packet(Header(0x0900, "1", 6, None, 4, 2), b"b"))
    assert parts.pending == 0


def test_a_plain_packet_passes_the_reassembler() -> None:
    packet = decode_frame(frame(HEARTBEAT))
    assert Reassembler().add(packet) is packet
