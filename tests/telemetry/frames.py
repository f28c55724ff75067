"""Test data for the JT/T 808 codec: published frames and the slow obvious helpers.

Frames marked "Traccar" are test data published in Traccar's HuabaoProtocolDecoderTest and
HuabaoFrameDecoderTest (https://github.com/traccar/traccar, src/test/java/org/traccar/
protocol/, Apache License 2.0), used here as data only. Traccar publishes no 2019-header
frame, so the tests build 2019 frames by hand, byte by byte, with their check code computed
by a plain loop (`xor`, independent of the codec's folding XOR) and escaped by `wire`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import reduce

from telemetry.jt808 import Location

# Traccar: heartbeat, phone 043048325465, serial 0x00b7.
HEARTBEAT = "7e0002000004304832546500b7ca7e"
# Traccar: location at 22.6426 N, 114.032984 E, 2015-08-18 07:21:21 GMT+8.
LOCATION = (
    "7E0200002A013833501744001900000000000000C201597FA806CC01580080000000081508180721210104"
    "000002F502020000030200009F7E"
)
# Traccar: 2013 register (粤B88888), 2013 authenticate ("authentication").
REGISTER_2013 = (
    "7e0100002d0141305678720024002c012f373031313142534a2d41362d424400000000000000000000003035"
    "363738373201d4c14238383838386d7e"
)
AUTHENTICATE_2013 = "7E0102000E013511221122000661757468656E7469636174696F6E3F7E"
# Traccar: a blind-area batch of 8 fixes.
BATCH = (
    "7E0704014301356777777707F5000801002600000000000000030159741206CBFD5001720000000116052709"
    "062401040000001D03020000002600000000000000030159746606CBFD50016B000000011605270906530104"
    "0000001D0302000000260000000000000003015975E406CBFE58013F00000001160527090727010400000"
    "01D0302000000260000000000000003015976DE06CBFF10012E00000001160527090756010400000"
    "01D0302000000260000000000000003015976BC06CBFED0012D00000001160527090830010400000"
    "01D0302000000260000000000000003015976FE06CBFEC001080000000116052709090001040000001D0302"
    "000000260000000000000003015976FE06CBFE7800FC0000000116052709093301040000001D030200000026"
    "0000000000000003015977A606CBFF3001080000000116052709100201040000001D030200001F7E"
)
# Traccar: a location whose extra 0x87 holds 0x7e, sent escaped as 7d 02.
ESCAPED = (
    "7E020000830191715904370A2E00000000800000030158991806CA0FEB00040000010D21110819405001040000"
    "0003CC14383938363034373831303230373033313836303830011A8001AA810213888202007A8301148401AA"
    "8502189B8601338702007D028801338901148A0200998B1131323334353637383941424344454647488C0400"
    "0200A88D0200828E0114A0002E7E"
)
# Traccar: south latitude (status 0x00040007, bit 2) and west longitude (status 0x0a, bit 3).
SOUTH = (
    "7e0200002c00160128561400030000000000040007005de13c065c6cdb00160000000017011710054201040000"
    "a9002a02000030011b310104e47e"
)
WEST = (
    "7e0200002e094027587492000a000000010000000a03083db7001329f3000000140000130412164952010400"
    "000012360a0002341502cb0c20085c107e"
)
# Traccar: published with a check code (0x07) that is not the XOR of its bytes (0xd0).
BAD_CHECKSUM = (
    "7E02000032013511221122000700000000000C000301578CC006CA3A5C0047000000001407231720150104000"
    "0000030011631010BD07E"
)


def frame(hexes: str) -> bytes:
    return bytes.fromhex(hexes)


def xor(data: bytes) -> int:
    return reduce(lambda a, b: a ^ b, data, 0)


def wire(raw: bytes) -> bytes:
    """Header + body -> frame, the slow obvious way, to check the codec against."""
    out = bytearray(b"\x7e")
    for byte in raw + bytes((xor(raw),)):
        out += {0x7D: b"\x7d\x01", 0x7E: b"\x7d\x02"}.get(byte, bytes((byte,)))
    return bytes(out + b"\x7e")


FIX = Location(
    alarm=0,
    status=0b10,  # positioned
    lat_e6=37_856_000,
    lon_e6=113_583_000,
    altitude_m=720,
    speed_kmh_x10=365,  # 36.5 km/h
    heading_deg=90,
    time=datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC),  # 09:00:00 GMT+8
    odometer_km_x10=12_345,
    satellites=14,
    autonomous=True,
)
