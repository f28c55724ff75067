"""NMEA 0183: RMC and GGA sentences, read by a small reader of our own with numpy checksums."""

from __future__ import annotations

import numpy as np

from trips.reason_codes import TripReason

from .trace import Note, ParsedTrace, TraceError, build_trace

NMEA_TALKERS = frozenset({"GP", "GN", "GB", "BD", "GL", "GA"})


def _nmea_checksums_ok(data: bytes, starts: np.ndarray, stars: np.ndarray) -> np.ndarray:
    """XOR of the bytes between '$' and '*' for every sentence at once.

    A running XOR over the whole file makes each sentence's checksum acc[star-1] ^ acc[start].
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    acc = np.bitwise_xor.accumulate(buf)
    computed = acc[stars - 1] ^ acc[starts]
    given = np.full(starts.shape, -1, dtype=np.int64)
    for k, star in enumerate(stars.tolist()):
        try:
            given[k] = int(data[star + 1 : star + 3], 16)
        except ValueError:
            given[k] = -1
    return np.asarray(computed.astype(np.int64) == given, dtype=np.bool_)


def _nmea_degrees(value: str, hemisphere: str) -> float:
    number = float(value)
    degrees = int(number // 100)
    result = degrees + (number - degrees * 100) / 60.0
    if hemisphere in ("S", "W"):
        return -result
    if hemisphere not in ("N", "E"):
        raise ValueError(hemisphere)
    return result


def _nmea_seconds(value: str) -> float:
    return int(value[0:2]) * 3600 + int(value[2:4]) * 60 + float(value[4:])


def _nmea_day(value: str) -> np.datetime64:
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    # Two-digit years: receivers of this century; 80–99 are the GPS 1980s-90s.
    year += 1900 if year >= 80 else 2000
    return np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D")


_NS_PER_DAY = 86_400 * 1_000_000_000


def parse_nmea(data: bytes) -> ParsedTrace:  # noqa: PLR0912, PLR0915 - one pass of a sentence state machine
    """RMC (status A) and GGA (quality > 0) fixes, one per epoch, in file order.

    GGA has no date: it takes the last RMC's date, rolled over when its time of day goes
    back past midnight. A GGA at the same time as the adjacent RMC is the same fix.
    """
    raw_lines = data.split(b"\n")
    offsets = np.cumsum([0] + [len(s) + 1 for s in raw_lines[:-1]])
    candidates: list[int] = []
    for k, raw in enumerate(raw_lines):
        if raw[:1] == b"$" and raw[3:6] in (b"RMC", b"GGA"):
            candidates.append(k)
    starts = np.asarray([offsets[k] for k in candidates], dtype=np.int64)
    stars = np.asarray([offsets[k] + raw_lines[k].rfind(b"*") for k in candidates], dtype=np.int64)
    has_star = stars >= starts + 1
    ok = np.zeros(len(candidates), dtype=bool)
    if has_star.any():
        ok[has_star] = _nmea_checksums_ok(data, starts[has_star], stars[has_star])
    bad_checksum = [candidates[i] + 1 for i in np.flatnonzero(~ok)]
    notes: list[Note] = []
    if bad_checksum:
        notes.append(
            Note(
                TripReason.NMEA_BAD_CHECKSUM,
                "Sentences with a missing or wrong checksum were dropped.",
                len(bad_checksum),
                bad_checksum[0],
            )
        )
    t_ns: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    lines: list[int] = []
    day: np.datetime64 | None = None
    day_seconds = -1.0
    last_key: tuple[np.datetime64, float] | None = None
    epoch_kinds: set[str] = set()
    repeated: list[int] = []
    skipped_talker = 0
    unreadable: list[int] = []
    undated = 0
    for i in np.flatnonzero(ok):
        k = candidates[i]
        text = raw_lines[k].rstrip(b"\r").decode("ascii", errors="replace")
        body = text[1 : text.rfind("*")]
        fields = body.split(",")
        talker, kind = fields[0][:2], fields[0][2:5]
        if talker not in NMEA_TALKERS:
            skipped_talker += 1
            continue
        try:
            if kind == "RMC":
                if len(fields) < 10:
                    raise ValueError(body)
                if fields[9]:
                    day = _nmea_day(fields[9])
                    day_seconds = _nmea_seconds(fields[1]) if fields[1] else -1.0
                if fields[2] != "A":
                    continue
                seconds = _nmea_seconds(fields[1])
                point = (_nmea_degrees(fields[5], fields[6]), _nmea_degrees(fields[3], fields[4]))
            else:
                if len(fields) < 7 or fields[6] in ("", "0") or not fields[2]:
                    continue
                seconds = _nmea_seconds(fields[1])
                point = (_nmea_degrees(fields[4], fields[5]), _nmea_degrees(fields[2], fields[3]))
        except (ValueError, IndexError):
            unreadable.append(k + 1)
            continue
        if day is None:
            undated += 1
            continue
        fix_day = day
        if kind == "GGA" and day_seconds >= 0 and seconds < day_seconds - 43_200:
            fix_day = day + np.timedelta64(1, "D")
        key = (fix_day, seconds)
        if key == last_key:
            # The RMC and GGA of one epoch are one fix; the same sentence twice for one
            # epoch is the receiver repeating itself, and is counted.
            if kind in epoch_kinds:
                repeated.append(k + 1)
            epoch_kinds.add(kind)
            continue
        last_key = key
        epoch_kinds = {kind}
        t_ns.append(
            int(fix_day.astype("datetime64[D]").astype(np.int64)) * _NS_PER_DAY
            + round(seconds * 1e9)
        )
        lon.append(point[0])
        lat.append(point[1])
        lines.append(k + 1)
    if unreadable:
        notes.append(
            Note(
                TripReason.NMEA_UNREADABLE,
                "RMC/GGA sentences with unreadable fields were dropped.",
                len(unreadable),
                unreadable[0],
            )
        )
    if repeated:
        notes.append(
            Note(
                TripReason.NMEA_REPEATED_EPOCH,
                "Sentences repeating an epoch already read (same type, same time) were dropped.",
                len(repeated),
                repeated[0],
            )
        )
    if undated:
        notes.append(
            Note(
                TripReason.NMEA_NO_DATE,
                "GGA fixes before the first RMC (no date) were dropped.",
                undated,
            )
        )
    if skipped_talker:
        notes.append(
            Note(
                TripReason.NMEA_OTHER_TALKER,
                f"Sentences from talkers other than {', '.join(sorted(NMEA_TALKERS))} were "
                "ignored.",
                skipped_talker,
            )
        )
    if not candidates:
        raise TraceError(TripReason.NMEA_NO_FIX_SENTENCES, "The log has no RMC or GGA sentences.")
    return build_trace(
        t_ns=np.asarray(t_ns, dtype=np.int64),
        lon=np.asarray(lon, dtype=np.float64),
        lat=np.asarray(lat, dtype=np.float64),
        auto=None,
        odometer_km=None,
        fmt="nmea",
        notes=notes,
        lines=np.asarray(lines, dtype=np.int64),
    )
