"""0x0200 location report body (also each item of a 0x0704 batch): the decoder's hot path.

Body (big-endian)::

    alarm flags u32, status u32, latitude u32, longitude u32 (1e-6 degree),
    altitude u16 (m), speed u16 (0.1 km/h), heading u16 (degree), time BCD[6]  28 bytes
    then extras, each: id u8, length u8, value[length]

Status bit 1 = positioned, bit 2 = south latitude, bit 3 = west longitude. The time is
YYMMDDhhmmss in GMT+8 (20YY). Extras read here: 0x01 odometer (u32, 0.1 km), 0x31
satellites (u8), and our driving-mode item (default id 0xE1, length 1: 1 autonomous,
0 manual); other extras are skipped by their length.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from telemetry.jt808._twins import twin
from telemetry.jt808.errors import Jt808Error

#: Our driving-mode extra id (the Django setting JT808_MODE_EXTRA_ID passes another).
MODE_EXTRA_ID = 0xE1

STATUS_POSITIONED = 1 << 1
STATUS_SOUTH = 1 << 2
STATUS_WEST = 1 << 3

EXTRA_ODOMETER = 0x01
EXTRA_SATELLITES = 0x31

_BASIC = struct.Struct(">IIIIHHH6s")  # 28 bytes
_U32 = struct.Struct(">I")
_GMT8 = timedelta(hours=8)
_TIME_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Location:
    """One fix. Latitude and longitude are signed micro-degrees (south and west negative).

    `time` is an aware UTC datetime. `speed_kmh_x10` and `odometer_km_x10` are in the
    protocol's 0.1 km/h and 0.1 km (`speed_kmh`, `odometer_m` convert). `autonomous` is
    True only when the driving-mode extra says 1; a fix without it counts as manual.
    `status` is as sent, except that encoding sets the south/west bits from the signs.
    """

    alarm: int
    status: int
    lat_e6: int
    lon_e6: int
    altitude_m: int
    speed_kmh_x10: int
    heading_deg: int
    time: datetime
    odometer_km_x10: int | None = None
    satellites: int | None = None
    autonomous: bool = False

    @property
    def lat(self) -> float:
        return self.lat_e6 / 1e6

    @property
    def lon(self) -> float:
        return self.lon_e6 / 1e6

    @property
    def speed_kmh(self) -> float:
        return self.speed_kmh_x10 / 10

    @property
    def odometer_m(self) -> int | None:
        return None if self.odometer_km_x10 is None else self.odometer_km_x10 * 100

    @property
    def positioned(self) -> bool:
        return bool(self.status & STATUS_POSITIONED)


_LocationTwin = twin(Location)
_time_cache: dict[bytes, datetime] = {}
# Byte -> its two BCD digits as a number, -1 when a nibble is over 9.
_BCD = tuple((b >> 4) * 10 + (b & 15) if b >> 4 < 10 and b & 15 < 10 else -1 for b in range(256))


def decode_bcd_time(bcd: bytes) -> datetime:
    """BCD[6] YYMMDDhhmmss in GMT+8 -> aware UTC datetime; "bad_time" if not a valid time.

    Fixes of a fleet share their seconds, so recent answers are kept (bounded).
    """
    cached = _time_cache.get(bcd)
    if cached is not None:
        return cached
    if len(bcd) != 6:
        raise Jt808Error("bad_time", f"BCD time {bcd.hex()!r}")
    year, month, day, hour, minute, second = (_BCD[b] for b in bcd)
    try:
        if min(year, month, day, hour, minute, second) < 0:
            raise ValueError
        value = datetime(2000 + year, month, day, hour, minute, second, tzinfo=UTC) - _GMT8
    except ValueError:
        raise Jt808Error("bad_time", f"BCD time {bcd.hex()!r}") from None
    if len(_time_cache) >= _TIME_CACHE_SIZE:
        _time_cache.clear()
    _time_cache[bcd] = value
    return value


def encode_bcd_time(time: datetime) -> bytes:
    """An aware datetime (years 2000-2099 in GMT+8) -> BCD[6] in GMT+8."""
    if time.tzinfo is None:
        raise ValueError("the time must be aware")
    local = time.astimezone(UTC) + _GMT8
    if not 2000 <= local.year <= 2099:
        raise ValueError(f"{local.year} does not fit a two-digit BCD year")
    return bytes.fromhex(local.strftime("%y%m%d%H%M%S"))


def decode_location(  # noqa: PLR0912 - the hot path stays one call per fix
    body: bytes,
    offset: int = 0,
    end: int | None = None,
    *,
    mode_extra_id: int | None = MODE_EXTRA_ID,
) -> Location:
    """Decode the location in `body[offset:end]`. `mode_extra_id` None: no mode extra read.

    Raises Jt808Error: "truncated" (short basic part or extra), "bad_time", "bad_extra"
    (a known extra with the wrong length, or a mode other than 0/1).
    """
    if end is None:
        end = len(body)
    if end - offset < 28:
        raise Jt808Error("truncated", f"a location needs 28 bytes, has {end - offset}")
    alarm, status, lat, lon, altitude, speed, heading, bcd = _BASIC.unpack_from(body, offset)
    if status & STATUS_SOUTH:
        lat = -lat
    if status & STATUS_WEST:
        lon = -lon
    time = _time_cache.get(bcd) or decode_bcd_time(bcd)
    odometer: int | None = None
    satellites: int | None = None
    autonomous = False
    at = offset + 28
    while at < end:
        if at + 2 > end:
            raise Jt808Error("truncated", f"extra header at byte {at - offset}")
        item, size = body[at], body[at + 1]
        at += 2
        if at + size > end:
            raise Jt808Error("truncated", f"extra {item:#04x} needs {size} bytes")
        if item == mode_extra_id:
            if size != 1 or body[at] > 1:
                raise Jt808Error("bad_extra", f"mode extra {body[at : at + size].hex()}")
            autonomous = body[at] == 1
        elif item == EXTRA_ODOMETER:
            if size != 4:
                raise Jt808Error("bad_extra", f"odometer of {size} bytes")
            odometer = _U32.unpack_from(body, at)[0]
        elif item == EXTRA_SATELLITES:
            if size != 1:
                raise Jt808Error("bad_extra", f"satellite count of {size} bytes")
            satellites = body[at]
        at += size
    # Location(...), built as its twin (see _twins: 4x faster).
    fix: Location = _LocationTwin(
        alarm, status, lat, lon, altitude, speed, heading, time, odometer, satellites, autonomous
    )
    fix.__class__ = Location
    return fix


def encode_location(location: Location, *, mode_extra_id: int | None = MODE_EXTRA_ID) -> bytes:
    """The body of `location`: basic part, then odometer, satellites, mode (when set).

    The mode extra is written whenever `mode_extra_id` is not None (0 for manual). The
    south/west status bits follow the signs of lat_e6/lon_e6 (kept as given at 0).
    """
    status = location.status
    if location.lat_e6 < 0:
        status |= STATUS_SOUTH
    elif location.lat_e6 > 0:
        status &= ~STATUS_SOUTH
    if location.lon_e6 < 0:
        status |= STATUS_WEST
    elif location.lon_e6 > 0:
        status &= ~STATUS_WEST
    body = _BASIC.pack(
        location.alarm,
        status,
        abs(location.lat_e6),
        abs(location.lon_e6),
        location.altitude_m,
        location.speed_kmh_x10,
        location.heading_deg,
        encode_bcd_time(location.time),
    )
    if location.odometer_km_x10 is not None:
        body += bytes((EXTRA_ODOMETER, 4)) + _U32.pack(location.odometer_km_x10)
    if location.satellites is not None:
        body += bytes((EXTRA_SATELLITES, 1, location.satellites))
    if mode_extra_id is not None:
        body += bytes((mode_extra_id, 1, int(location.autonomous)))
    return body
