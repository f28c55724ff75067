"""Round trips: decode(encode(x)) == x for every message, in both header versions, through
the stream reader cut at random places and through sub-packaging."""

from __future__ import annotations

from datetime import UTC, datetime
from random import Random
from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry.jt808 import (
    STATUS_SOUTH,
    STATUS_WEST,
    Authenticate,
    Deregister,
    FrameReader,
    Header,
    Heartbeat,
    Jt808Error,
    Location,
    LocationBatch,
    Message,
    Packet,
    PlatformResponse,
    Reason,
    Reassembler,
    Register,
    RegisterResponse,
    TerminalResponse,
    decode_frame,
    decode_message,
    encode_body,
    encode_message,
    encode_packages,
    escape,
    unescape,
    xor_checksum,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
versions = st.sampled_from([None, 1])
# Phones as sent: 12 digits (2013) or 20 (2019); the strategy pads to 20 and cuts for 2013.
digits = st.text("0123456789", min_size=20, max_size=20)
# Text that GBK can carry; no 0x00, which pads fixed fields and is stripped.
gbk = "ABCXYZabcxyz0123456789 -._晋京粤阳泉测试终端车"


def text(max_bytes: int) -> st.SearchStrategy[str]:
    return st.text(gbk, max_size=max_bytes).filter(lambda s: len(s.encode("gbk")) <= max_bytes)


@st.composite
def locations(draw: st.DrawFn) -> Location:
    lat = draw(st.integers(-90_000_000, 90_000_000))
    lon = draw(st.integers(-180_000_000, 180_000_000))
    status = draw(u32)
    # Canonical status: the south/west bits follow the signs (either at 0).
    if lat:
        status = status | STATUS_SOUTH if lat < 0 else status & ~STATUS_SOUTH
    if lon:
        status = status | STATUS_WEST if lon < 0 else status & ~STATUS_WEST
    # Years 2000-2099 in GMT+8, whole seconds.
    first = datetime(1999, 12, 31, 16, tzinfo=UTC).timestamp()
    last = datetime(2099, 12, 31, 15, 59, 59, tzinfo=UTC).timestamp()
    time = datetime.fromtimestamp(draw(st.integers(int(first), int(last))), UTC)
    return Location(
        alarm=draw(u32),
        status=status,
        lat_e6=lat,
        lon_e6=lon,
        altitude_m=draw(u16),
        speed_kmh_x10=draw(u16),
        heading_deg=draw(st.integers(0, 359)),
        time=time,
        odometer_km_x10=draw(st.none() | u32),
        satellites=draw(st.none() | u8),
        autonomous=draw(st.booleans()),
    )


def registers(version: int | None) -> st.SearchStrategy[Register]:
    maker, model, terminal = (5, 20, 7) if version is None else (11, 30, 30)
    return st.builds(Register, u16, u16, text(maker), text(model), text(terminal), u8, text(40))


def authenticates(version: int | None) -> st.SearchStrategy[Authenticate]:
    if version is None:
        return st.builds(Authenticate, text(100))
    return st.builds(Authenticate, text(255), text(15), text(20))


def messages(version: int | None) -> st.SearchStrategy[Message]:
    return st.one_of(
        locations(),
        st.builds(LocationBatch, u8, st.lists(locations(), max_size=5).map(tuple)),
        st.just(Heartbeat()),
        st.just(Deregister()),
        st.builds(TerminalResponse, u16, u16, u8),
        st.builds(PlatformResponse, u16, u16, u8),
        st.builds(RegisterResponse, u16, st.just(0), text(60)),
        st.builds(RegisterResponse, u16, st.integers(1, 4), st.none()),
        registers(version),
        authenticates(version),
    )


@st.composite
def framed(draw: st.DrawFn) -> tuple[Message, str, int, int | None]:
    version = draw(versions)
    phone = draw(digits)[: 12 if version is None else 20]
    return draw(messages(version)), phone, draw(u16), version


@given(framed())
def test_every_message_survives_a_frame(case: tuple[Message, str, int, int | None]) -> None:
    msg, phone, serial, version = case
    data = encode_message(msg, phone=phone, serial=serial, version=version)
    packet = decode_frame(data)
    assert (packet.header.phone, packet.header.serial, packet.header.version) == (
        phone,
        serial,
        version,
    )
    assert decode_message(packet) == msg


@given(st.lists(framed(), min_size=1, max_size=6), st.lists(st.integers(1, 200), max_size=30))
def test_a_stream_cut_anywhere_gives_every_message_in_order(
    cases: list[tuple[Message, str, int, int | None]], cuts: list[int]
) -> None:
    stream = b"".join(
        encode_message(msg, phone=phone, serial=serial, version=version)
        for msg, phone, serial, version in cases
    )
    reader = FrameReader()
    items = []
    at = 0
    for size in [*cuts, len(stream)]:
        items += reader.feed(stream[at : at + size])
        at += size
    assert all(isinstance(item, Packet) for item in items)
    assert [decode_message(p) for p in items if isinstance(p, Packet)] == [c[0] for c in cases]


@settings(max_examples=30)
@given(
    st.lists(locations(), min_size=1, max_size=80),
    versions,
    st.integers(1, 1023),
    st.randoms(use_true_random=False),
)
def test_a_batch_survives_sub_packaging_in_any_order(
    fixes: list[Location], version: int | None, package_bytes: int, random: Random
) -> None:
    batch = LocationBatch(1, tuple(fixes))
    msg_id, body = encode_body(batch, version=version)
    phone = "013833501744" if version is None else "00000000013833501744"
    frames = encode_packages(
        msg_id, body, phone=phone, first_serial=0xFFF0, version=version, package_bytes=package_bytes
    )
    random.shuffle(frames)
    parts = Reassembler(max_message_bytes=1 << 20)
    done = [p for p in (parts.add(decode_frame(f)) for f in frames) if p is not None]
    assert len(done) == 1
    assert done[0].header.serial == 0xFFF0
    assert decode_message(done[0]) == batch


@given(st.binary(max_size=300))
def test_escape_round_trips_and_leaves_no_delimiter(raw: bytes) -> None:
    escaped = escape(raw)
    assert b"\x7e" not in escaped
    assert unescape(escaped) == raw


@given(st.binary(max_size=3000))
def test_xor_checksum_is_the_xor_of_every_byte(raw: bytes) -> None:
    expected = 0
    for byte in raw:
        expected ^= byte
    assert xor_checksum(raw) == expected


@given(st.lists(st.binary(max_size=400) | st.sampled_from([b"\x7e", b"\x7d", b"\x7e\x7e"])))
def test_the_reader_never_raises_and_never_holds_more_than_the_limit(reads: list[bytes]) -> None:
    reader = FrameReader(max_frame_bytes=512)
    for data in reads:
        for item in reader.feed(data):
            assert isinstance(item, Packet | Jt808Error)
        assert reader.buffered <= 512


@given(
    st.sampled_from([0x0001, 0x0002, 0x0003, 0x0100, 0x0102, 0x0200, 0x0704, 0x8001, 0x8100]),
    versions,
    st.binary(max_size=200),
)
def test_any_body_decodes_or_raises_a_jt808_error(
    msg_id: int, version: int | None, body: bytes
) -> None:
    packet = Packet(Header(msg_id, "013833501744", 1, version), body)
    reason = None
    try:
        decode_message(packet)
    except Jt808Error as error:
        reason = error.reason
    assert reason is None or reason in get_args(Reason)
