"""The JT/T 808 codec on published frames, hand-built frames and refusals.

Where the frames come from (Traccar's tests, Apache-2.0) and the helpers that build 2019
frames by hand: tests/telemetry/frames.py. The stream reader and sub-packages are in
test_jt808_stream.py, round trips in test_jt808_roundtrip.py.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime

import pytest

from telemetry.jt808 import (
    MAX_FRAME_BYTES,
    Authenticate,
    BatchType,
    Header,
    Heartbeat,
    Jt808Error,
    Location,
    LocationBatch,
    Packet,
    PlatformResponse,
    Register,
    RegisterResponse,
    RegisterResult,
    ResponseResult,
    UnknownMessage,
    decode_bcd_time,
    decode_frame,
    decode_location,
    decode_message,
    encode_frame,
    encode_location,
    encode_message,
    escape,
    general_response,
    reply,
    unescape,
)
from telemetry.jt808 import location as jt808_location
from tests.telemetry.frames import (
    AUTHENTICATE_2013,
    BAD_CHECKSUM,
    BATCH,
    ESCAPED,
    FIX,
    HEARTBEAT,
    LOCATION,
    REGISTER_2013,
    SOUTH,
    WEST,
    frame,
    wire,
    xor,
)


def message(hexes: str | bytes) -> object:
    data = frame(hexes) if isinstance(hexes, str) else hexes
    return decode_message(decode_frame(data))


def location_frame(body: bytes, serial: int = 1) -> bytes:
    return wire(
        bytes.fromhex("0200")
        + len(body).to_bytes(2)
        + bytes.fromhex("013833501744")
        + serial.to_bytes(2)
        + body
    )


def refusal(data: bytes) -> str:
    with pytest.raises(Jt808Error) as info:
        decode_message(decode_frame(data))
    return info.value.reason


# --- published 2013 frames ------------------------------------------------------------


def test_heartbeat_gives_phone_serial_and_a_heartbeat() -> None:
    packet = decode_frame(frame(HEARTBEAT))
    # Check code: 02^04^30^48^32^54^65^b7 = 0xca, the byte before the closing 7e.
    assert packet.header == Header(msg_id=0x0002, phone="043048325465", serial=0xB7)
    assert packet.body == b""
    assert decode_message(packet) == Heartbeat()


def test_location_gives_exact_position_and_utc_time() -> None:
    packet = decode_frame(frame(LOCATION))
    assert packet.header == Header(0x0200, "013833501744", 0x19)
    fix = decode_message(packet)
    assert isinstance(fix, Location)
    assert fix.lat_e6 == 22_642_600  # 0x01597fa8
    assert fix.lon_e6 == 114_032_984  # 0x06cc0158
    assert (fix.lat, fix.lon) == (22.6426, 114.032984)
    assert fix.altitude_m == 128  # 0x0080
    assert fix.speed_kmh_x10 == 0
    assert fix.heading_deg == 8
    # BCD 150818072121 is 2015-08-18 07:21:21 GMT+8 = 2015-08-17 23:21:21 UTC.
    assert fix.time == datetime(2015, 8, 17, 23, 21, 21, tzinfo=UTC)
    assert fix.status == 0xC2
    assert fix.positioned  # bit 1 of 0xc2
    assert fix.odometer_km_x10 == 757  # extra 01 04 000002f5: 75.7 km
    assert fix.odometer_m == 75_700
    assert fix.satellites is None  # extras 02 and 03 are skipped by length
    assert fix.autonomous is False  # no mode extra: manual
    assert all(type(v) is int for v in (fix.lat_e6, fix.lon_e6, fix.status, fix.alarm))


def test_register_2013_reads_gbk_plate_and_padded_fields() -> None:
    assert message(REGISTER_2013) == Register(
        province_id=44,  # 0x002c
        city_id=303,  # 0x012f
        maker_id="70111",
        model="BSJ-A6-BD",  # 20 bytes, 0x00-padded
        terminal_id="0567872",
        plate_colour=1,
        plate="粤B88888",  # GBK d4c1 42 3838383838
    )


def test_encoding_reproduces_the_published_2013_frames() -> None:
    register = message(REGISTER_2013)
    assert isinstance(register, Register)
    assert encode_message(register, phone="014130567872", serial=0x24) == frame(REGISTER_2013)
    assert encode_message(Heartbeat(), phone="043048325465", serial=0xB7) == frame(HEARTBEAT)
    auth = Authenticate("authentication")
    assert encode_message(auth, phone="013511221122", serial=6) == frame(AUTHENTICATE_2013)


def test_decoded_messages_are_true_frozen_instances() -> None:
    # The hot path builds Header, Packet and Location as mutable twins, then re-classes them.
    packet = decode_frame(frame(LOCATION))
    fix = decode_message(packet)
    assert type(packet) is Packet
    assert type(packet.header) is Header
    assert type(fix) is Location
    built = Location(0, 0xC2, 22_642_600, 114_032_984, 128, 0, 8, fix.time, 757)
    assert fix == built
    assert hash(fix) == hash(built)
    assert replace(fix, autonomous=True).autonomous
    with pytest.raises(FrozenInstanceError):
        fix.lat_e6 = 0  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        packet.header.serial = 0  # type: ignore[misc]


def test_register_with_a_2011_body_uses_the_8_byte_model() -> None:
    # Traccar: 33 body bytes = 2 + 2 + maker 5 + model 8 + terminal id 7 + colour 1 + plate 8.
    data = frame(
        "7E01000021013345678906000F002C012F373031313142534A2D4D3742203030303030303001D4C1423838"
        "383838B47E"
    )
    assert message(data) == Register(44, 303, "70111", "BSJ-M7B ", "0000000", 1, "粤B88888")


def test_authenticate_2013_is_the_whole_body() -> None:
    assert message(AUTHENTICATE_2013) == Authenticate("authentication")


def test_blind_area_batch_gives_each_fix() -> None:
    batch = message(BATCH)
    assert isinstance(batch, LocationBatch)
    assert batch.batch_type == BatchType.BLIND_AREA  # 0x01 after the count 0x0008
    assert len(batch.locations) == 8
    first, last = batch.locations[0], batch.locations[-1]
    assert (first.lat_e6, first.lon_e6) == (22_639_634, 114_031_952)  # 0x01597412, 0x06cbfd50
    assert first.altitude_m == 370  # 0x0172
    assert first.time == datetime(2016, 5, 27, 1, 6, 24, tzinfo=UTC)  # 09:06:24 GMT+8
    assert first.odometer_km_x10 == 29  # 0x1d
    assert last.time == datetime(2016, 5, 27, 1, 10, 2, tzinfo=UTC)


def test_escaped_7e_in_a_body_is_unescaped_and_escaped_back() -> None:
    packet = decode_frame(frame(ESCAPED))
    assert b"\x87\x02\x00\x7e" in packet.body  # 7d 02 on the wire
    assert len(packet.body) == 0x83  # the length counts unescaped bytes
    fix = decode_message(packet)
    assert isinstance(fix, Location)
    assert fix.lat_e6 == 22_583_576  # 0x01589918
    assert encode_frame(packet.header, packet.body) == frame(ESCAPED)


def test_escaped_7d_and_7e_in_the_header_and_check_code() -> None:
    # Heartbeat of serial 0x7d7e: check code 02^04^30^48^32^54^65^7d^7e = 0x7e, so the
    # serial goes out as 7d01 7d02 and the check code as 7d02.
    data = frame("7e000200000430483254657d017d027d027e")
    packet = decode_frame(data)
    assert packet.header.serial == 0x7D7E
    assert (
        encode_frame(packet.header, b"")
        == data
        == wire(bytes.fromhex("0002 0000 043048325465 7d7e"))
    )


def test_unescape_matches_traccars_frame_decoder_example() -> None:
    # Traccar HuabaoFrameDecoderTest: 7e 30 7d02 08 7d01 55 7e -> 7e 30 7e 08 7d 55 7e.
    assert unescape(bytes.fromhex("307d02087d0155")) == bytes.fromhex("307e087d55")
    assert escape(bytes.fromhex("307e087d55")) == bytes.fromhex("307d02087d0155")


def test_south_and_west_status_bits_negate_the_coordinates() -> None:
    south = message(SOUTH)
    west = message(WEST)
    assert isinstance(south, Location)
    assert isinstance(west, Location)
    assert south.lat_e6 == -6_152_508  # 0x005de13c, status 0x00040007 has bit 2
    assert south.lon_e6 == 106_720_475
    assert west.lat_e6 == 50_871_735  # 0x03083db7, status 0x0a: bits 1 and 3
    assert west.lon_e6 == -1_255_923  # 0x001329f3


# --- 2019 headers, built by hand -------------------------------------------------------

PHONE_2019 = "00000000013833501744"
YANGQUAN_PLATE = "晋C12345"  # GBK bdfa 43 3132333435


def raw_2019(msg_id: int, body: bytes, serial: int) -> bytes:
    """2019 header (msg id, properties: bit 14 | length, version 1, BCD[10] phone, serial),
    then the body."""
    return (
        msg_id.to_bytes(2)
        + (0x4000 | len(body)).to_bytes(2)
        + b"\x01"
        + bytes.fromhex(PHONE_2019)
        + serial.to_bytes(2)
        + body
    )


def test_2019_heartbeat_reads_the_version_and_20_digit_phone() -> None:
    raw = raw_2019(0x0002, b"", 5)
    # 02 ^ 40 ^ 01 ^ 01 ^ 38 ^ 33 ^ 50 ^ 17 ^ 44 ^ 05 = 0x4f
    assert xor(raw) == 0x4F
    packet = decode_frame(wire(raw))
    assert packet.header == Header(0x0002, PHONE_2019, 5, version=1)
    assert packet.header.is_2019
    assert decode_message(packet) == Heartbeat()


def test_2019_register_uses_the_wide_fields() -> None:
    body = (
        (14).to_bytes(2)  # Shanxi
        + (300).to_bytes(2)  # Yangquan 140300
        + b"YQAV0000001"  # maker, 11 bytes
        + b"L4-ROBOTAXI".ljust(30, b"\0")  # model, 30
        + b"T0001".ljust(30, b"\0")  # terminal id, 30
        + b"\x02"
        + YANGQUAN_PLATE.encode("gbk")
    )
    assert len(body) == 84  # 76 fixed + 8 plate
    data = wire(raw_2019(0x0100, body, 1))
    expected = Register(14, 300, "YQAV0000001", "L4-ROBOTAXI", "T0001", 2, YANGQUAN_PLATE)
    assert message(data) == expected
    assert encode_message(expected, phone=PHONE_2019, serial=1, version=1) == data


def test_2019_authenticate_has_code_imei_and_software_version() -> None:
    body = b"\x0a" + b"AUTH123456" + b"861234567890123" + b"V1.2.3".ljust(20, b"\0")
    assert len(body) == 46  # 1 + 10 + 15 + 20
    data = wire(raw_2019(0x0102, body, 2))
    expected = Authenticate("AUTH123456", "861234567890123", "V1.2.3")
    assert message(data) == expected
    assert encode_message(expected, phone=PHONE_2019, serial=2, version=1) == data


def test_2019_authenticate_with_a_wrong_code_length_is_refused() -> None:
    body = b"\x0b" + b"AUTH123456" + b"861234567890123" + b"V1.2.3".ljust(20, b"\0")
    assert refusal(wire(raw_2019(0x0102, body, 2))) == "truncated"  # 1 + 11 + 35 = 47 > 46


# --- platform answers ------------------------------------------------------------------


def test_general_response_answers_in_the_terminals_2013_header() -> None:
    request = decode_frame(frame(HEARTBEAT)).header
    out = general_response(request, ResponseResult.SUCCESS, serial=1)
    # 8001, length 5, phone, serial 0001; body: reply serial 00b7, reply id 0002, result 0.
    assert out == wire(bytes.fromhex("8001 0005 043048325465 0001 00b7 0002 00"))
    assert message(out) == PlatformResponse(0xB7, 0x0002, 0)


def test_general_response_answers_in_the_terminals_2019_header() -> None:
    request = Header(0x0200, PHONE_2019, 0x1234, version=1)
    out = general_response(request, ResponseResult.MESSAGE_ERROR, serial=9)
    body = bytes.fromhex("1234 0200 02")
    assert out == wire(
        bytes.fromhex("8001")
        + (0x4000 | 5).to_bytes(2)
        + b"\x01"
        + bytes.fromhex(PHONE_2019)
        + bytes.fromhex("0009")
        + body
    )


def test_register_response_carries_the_auth_code_only_when_ok() -> None:
    request = decode_frame(frame(REGISTER_2013)).header
    ok = reply(request, RegisterResponse(request.serial, RegisterResult.OK, "AK-1"), serial=3)
    # 8100, length 3 + 4, reply serial 0x0024, result 0, "AK-1".
    assert ok == wire(bytes.fromhex("8100 0007 014130567872 0003 0024 00 414b2d31"))
    refused = RegisterResponse(request.serial, RegisterResult.NO_SUCH_VEHICLE, "ignored")
    out = reply(request, refused, serial=4)
    assert out == wire(bytes.fromhex("8100 0003 014130567872 0004 0024 02"))
    assert message(out) == RegisterResponse(0x24, 2, None)


# --- the driving-mode extra --------------------------------------------------------------


def test_mode_extra_one_is_autonomous_and_zero_manual() -> None:
    body = encode_location(FIX)
    assert body.endswith(b"\xe1\x01\x01")  # id 0xe1, length 1, value 1
    assert decode_location(body).autonomous is True
    manual = encode_location(replace(FIX, autonomous=False))
    assert manual.endswith(b"\xe1\x01\x00")
    assert decode_location(manual).autonomous is False


def test_mode_extra_id_is_a_parameter() -> None:
    body = encode_location(FIX, mode_extra_id=0xF3)
    assert decode_location(body, mode_extra_id=0xF3).autonomous is True
    assert decode_location(body).autonomous is False  # 0xf3 is an unknown extra for 0xe1


def test_a_fix_without_the_mode_extra_is_manual() -> None:
    body = encode_location(FIX, mode_extra_id=None)
    assert decode_location(body).autonomous is False


def test_a_mode_value_other_than_0_or_1_is_refused() -> None:
    body = encode_location(FIX)[:-1] + b"\x02"
    with pytest.raises(Jt808Error) as info:
        decode_location(body)
    assert info.value.reason == "bad_extra"


# --- refusals ----------------------------------------------------------------------------


def test_bad_checksum_is_refused() -> None:
    assert refusal(frame(BAD_CHECKSUM)) == "checksum"
    flipped = bytearray(frame(HEARTBEAT))
    flipped[-2] ^= 0x01  # check code 0xca -> 0xcb
    assert refusal(bytes(flipped)) == "checksum"


def test_body_length_must_match_the_properties() -> None:
    # Heartbeat claiming a 1-byte body (properties 0x0001) with a correct check code.
    assert refusal(wire(bytes.fromhex("0002 0001 043048325465 00b7"))) == "length_mismatch"
    # A location claiming 0x2a bytes but carrying 0x29 (the last extra byte cut).
    raw = frame(LOCATION)[1:-2]
    assert refusal(wire(raw[:-1])) == "length_mismatch"


def test_truncated_frames_bodies_and_extras_are_refused() -> None:
    assert refusal(wire(bytes.fromhex("0002 0000 0430483254"))) == "truncated"  # 10 < 12 bytes
    short = frame(LOCATION)[13 : 13 + 27]
    assert refusal(wire(bytes.fromhex("0200 001b 013833501744 0019") + short)) == "truncated"
    # An extra announcing 4 bytes with 2 left: 01 04 0000.
    body = encode_location(FIX, mode_extra_id=None)[:28] + bytes.fromhex("01040000")
    with pytest.raises(Jt808Error, match="truncated"):
        decode_location(body)


def test_frames_over_8_kib_are_refused() -> None:
    assert MAX_FRAME_BYTES == 8192
    with pytest.raises(Jt808Error) as info:
        decode_frame(b"\x00" * 8193)
    assert info.value.reason == "too_long"


def test_encrypted_frames_are_refused() -> None:
    # Properties 0x0400: bit 10, RSA.
    assert refusal(wire(bytes.fromhex("0002 0400 043048325465 00b7"))) == "encrypted"
    assert refusal(wire(bytes.fromhex("0002 1000 043048325465 00b7"))) == "encrypted"


def test_a_lone_7d_is_a_bad_escape() -> None:
    assert refusal(frame("7e0002000004304832546500b77d037e")) == "bad_escape"


@pytest.mark.parametrize(
    "bcd",
    [
        "151318072121",  # month 13
        "150230072121",  # 30 February
        "150818250000",  # hour 25
        "000000000000",  # month 0, what unpositioned terminals send
        "1508180721a1",  # a nibble over 9
    ],
)
def test_an_invalid_bcd_time_is_refused(bcd: str) -> None:
    with pytest.raises(Jt808Error) as info:
        decode_bcd_time(bytes.fromhex(bcd))
    assert info.value.reason == "bad_time"
    body = bytearray(encode_location(FIX))
    body[22:28] = bytes.fromhex(bcd)
    assert refusal(location_frame(bytes(body))) == "bad_time"


def test_the_time_cache_answers_like_a_fresh_decode_and_stays_bounded() -> None:
    bcd = bytes.fromhex("260302090000")  # 2026-03-02 09:00:00 GMT+8
    first = decode_bcd_time(bcd)
    assert decode_bcd_time(bcd) is first  # cached
    jt808_location._time_cache.clear()
    assert decode_bcd_time(bcd) == first == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    for second in range(5000):
        decode_bcd_time(
            bytes.fromhex(f"260302{second // 3600:02d}{second // 60 % 60:02d}{second % 60:02d}")
        )
    assert len(jt808_location._time_cache) <= 4096


def test_encoding_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError, match="sub-packaged"):
        encode_message(UnknownMessage(0x0900, b"x" * 1024), phone="1", serial=1)
    with pytest.raises(ValueError, match="GBK"):
        encode_message(replace(REGISTER, maker_id="ABCDEF"), phone="1", serial=1)  # 6 > 5
    with pytest.raises(ValueError, match="digits"):
        encode_message(Heartbeat(), phone="1234567890123", serial=1)  # 13 > 12
    with pytest.raises(ValueError, match="aware"):
        encode_location(replace(FIX, time=datetime(2026, 1, 1)))  # noqa: DTZ001 - on purpose


REGISTER = Register(14, 300, "YQAV1", "L4", "T1", 1, YANGQUAN_PLATE)


def test_unknown_messages_are_returned_raw() -> None:
    packet = Packet(Header(0x0900, "013833501744", 1), b"\x01\x02")
    assert decode_message(packet) == UnknownMessage(0x0900, b"\x01\x02")


def test_a_sub_package_is_not_decoded_before_reassembly() -> None:
    packet = Packet(Header(0x0704, "013833501744", 1, None, 2, 1), b"")
    with pytest.raises(Jt808Error, match="sub_package"):
        decode_message(packet)
