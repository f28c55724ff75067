"""Trip-log parsers: bytes in, arrays of fixes out. Pure: no Django, no geometry.

Every format yields the same `ParsedTrace`: UTC epoch nanoseconds, lon/lat as given, the
driving mode where the format carries one, in file order. Nothing is ever reordered or
silently dropped: a fix the parser cannot use is counted in a `Note`; a file that cannot
be used at all raises `TraceError` with the line (or row, or feature) where it went wrong.

One module per format (`csv`, `parquet`, `gpx`, `geojson`, `nmea`); `guards` refuses, before
any parser runs, files whose shape or bytes cannot be a trip log; `columns` turns Arrow
columns (timestamps, modes, numbers) into checked numpy arrays for the tables and GeoJSON;
`trace` holds `ParsedTrace` and the checks every format ends with. See docs/trip-formats.md.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from trips.reason_codes import TripReason

from .csv import parse_csv
from .geojson import parse_geojson
from .gpx import parse_gpx
from .guards import refuse_binary, refuse_hostile_shape, utf8
from .nmea import parse_nmea
from .parquet import parse_parquet
from .trace import Note, ParsedTrace, TraceError

__all__ = [
    "FORMATS",
    "Note",
    "ParsedTrace",
    "TraceError",
    "detect_format",
    "parse",
    "refuse_binary",
]

FORMATS = ("csv", "gpx", "geojson", "nmea", "parquet")

_PARSERS: dict[str, Callable[[bytes], ParsedTrace]] = {
    "csv": parse_csv,
    "gpx": parse_gpx,
    "geojson": parse_geojson,
    "nmea": parse_nmea,
    "parquet": parse_parquet,
}


def detect_format(data: bytes) -> str | None:
    """Guess the format from the content alone; None when nothing fits."""
    if data[:4] == b"PAR1":
        return "parquet"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "gpx" if b"<gpx" in data[:65536] else None
    if head.startswith((b"{", b"[")):
        return "geojson"
    for raw in head.splitlines():
        line = raw.strip()
        if not line or line.startswith(b"#"):
            continue
        if line.startswith(b"$"):
            return "nmea"
        # A comma-separated header is CSV, even one missing a required column: parsing it
        # then names what is missing, which is more use than "unknown format".
        return "csv" if b"," in line else None
    return None


def parse(data: bytes, *, fmt: str | None = None, max_points: int | None = None) -> ParsedTrace:
    """Parse a trip log; `fmt` None means detect it from the content."""
    if not data or data.isspace():  # (strip() would copy a 50 MB upload)
        raise TraceError(TripReason.EMPTY_FILE, "The file is empty.")
    if fmt is None:
        fmt = detect_format(data)
        if fmt is None:
            refuse_binary(data)
            raise TraceError(
                TripReason.UNKNOWN_FORMAT,
                "The format could not be recognised; expected CSV, GPX, GeoJSON, NMEA 0183 "
                "or Parquet.",
            )
    if fmt not in FORMATS:
        raise TraceError(TripReason.UNKNOWN_FORMAT, f"Unknown format {fmt!r}.")
    if fmt != "parquet":
        refuse_binary(data)
        data = utf8(data)
    refuse_hostile_shape(data, fmt, max_points)
    try:
        trace = _PARSERS[fmt](data)
    except RecursionError:  # JSON nested thousands deep: no GeoJSON is
        raise TraceError(
            TripReason.TOO_DEEP, "The file is nested too deeply to be a trip log."
        ) from None
    # The reader's tables and buffers are gone by now, but Arrow's allocator (mimalloc)
    # keeps their pages, which numpy cannot reuse, at the trip's peak (bench/README.md).
    pa.default_memory_pool().release_unused()
    if max_points is not None and len(trace) > max_points:
        raise TraceError(
            TripReason.TOO_MANY_POINTS,
            f"The file has {len(trace)} fixes; the limit is {max_points}.",
        )
    return trace
