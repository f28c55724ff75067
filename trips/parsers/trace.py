"""What every parser yields (`ParsedTrace`, with its `Note`s) or raises (`TraceError`), and
the checks every format ends with: impossible coordinates refuse the file, (0, 0) is dropped."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from trips.reason_codes import TripReason


class TraceError(Exception):
    """The file cannot be used at all: the trip is rejected with this reason."""

    def __init__(self, code: TripReason, message: str, line: int | None = None) -> None:
        super().__init__(f"{message} (line {line})" if line is not None else message)
        self.code = code
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Note:
    """Something dropped or odd while parsing, kept as a reason on the trip."""

    code: TripReason
    message: str
    count: int
    line: int | None = None


@dataclass
class ParsedTrace:
    t_ns: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    auto: npt.NDArray[np.bool_] | None
    odometer_km: npt.NDArray[np.float64] | None
    format: str
    notes: list[Note] = field(default_factory=list)
    # Where each fix came from, 1-based: file line (GPX, NMEA) or feature number (GeoJSON).
    # Lets verification point at the fix behind a reason. Tables (CSV, Parquet) keep no
    # array: fix i is on line first_line + i.
    line: npt.NDArray[np.int64] | None = None
    first_line: int | None = None
    # The optional speed column (km/h; NaN where empty): compared with the positions.
    speed_kmh: npt.NDArray[np.float64] | None = None

    def __len__(self) -> int:
        return int(self.t_ns.shape[0])

    def line_of(self, index: int) -> int | None:
        if self.line is not None:
            return int(self.line[index])
        return None if self.first_line is None else self.first_line + index


def _line(lines: np.ndarray | None, first_line: int | None, index: int) -> int:
    """The line of fix `index`: from `lines`, or consecutive rows from `first_line`."""
    return int(lines[index]) if lines is not None else int(first_line or 1) + index


def _check_coordinates(
    lon: np.ndarray, lat: np.ndarray, lines: np.ndarray | None, first_line: int | None
) -> None:
    # Four comparisons in place of |lat| <= 90 and |lon| <= 180: byte-sized temporaries
    # instead of two float copies. NaN fails every comparison, so it is caught too.
    ok = lat >= -90.0
    ok &= lat <= 90.0
    ok &= lon >= -180.0
    ok &= lon <= 180.0
    if not ok.all():
        i = int(np.argmin(ok))
        raise TraceError(
            TripReason.COORDINATES_IMPOSSIBLE,
            f"Impossible coordinates lat={float(lat[i])}, lon={float(lon[i])}.",
            _line(lines, first_line, i),
        )


def build_trace(
    *,
    t_ns: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    auto: np.ndarray | None,
    odometer_km: np.ndarray | None,
    fmt: str,
    notes: list[Note],
    lines: np.ndarray | None,
    first_line: int | None = None,
    speed_kmh: np.ndarray | None = None,
) -> ParsedTrace:
    """Common final checks: impossible coordinates refuse the file; (0, 0) is dropped.

    `lines` None means consecutive rows from `first_line` (tables), without an array.
    """
    lon = np.ascontiguousarray(lon, dtype=np.float64)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    _check_coordinates(lon, lat, lines, first_line)
    # (0, 0) is what many receivers write before they have a fix: a known sentinel, not
    # a broken file, so the fix is dropped and counted.
    null_island = (lon == 0.0) & (lat == 0.0)
    if null_island.any():
        keep = ~null_island
        notes.append(
            Note(
                TripReason.NULL_ISLAND,
                "Fixes at exactly (0, 0), a receiver's no-fix placeholder, were dropped.",
                int(null_island.sum()),
                _line(lines, first_line, int(np.argmax(null_island))),
            )
        )
        if lines is None:
            lines = np.arange(first_line or 1, (first_line or 1) + lon.size, dtype=np.int64)
        t_ns, lon, lat, lines = t_ns[keep], lon[keep], lat[keep], lines[keep]
        auto = None if auto is None else auto[keep]
        odometer_km = None if odometer_km is None else odometer_km[keep]
        speed_kmh = None if speed_kmh is None else speed_kmh[keep]
        first_line = None  # rows are no longer consecutive
    return ParsedTrace(
        t_ns=np.ascontiguousarray(t_ns, dtype=np.int64),
        lon=lon,
        lat=lat,
        auto=None if auto is None else np.ascontiguousarray(auto, dtype=np.bool_),
        odometer_km=None
        if odometer_km is None
        else np.ascontiguousarray(odometer_km, dtype=np.float64),
        format=fmt,
        notes=notes,
        line=None if first_line is not None or lines is None else np.ascontiguousarray(lines),
        first_line=first_line,
        speed_kmh=None if speed_kmh is None else np.ascontiguousarray(speed_kmh, dtype=np.float64),
    )
