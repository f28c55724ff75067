"""Trip-log parsers: bytes in, arrays of fixes out. Pure: no Django, no geometry.

Every format yields the same `ParsedTrace`: UTC epoch nanoseconds, lon/lat as given, the
driving mode where the format carries one, in file order. Nothing is ever reordered or
silently dropped: a fix the parser cannot use is counted in a `Note`; a file that cannot
be used at all raises `TraceError` with the line (or row, or feature) where it went wrong.

Libraries: pyarrow for CSV and Parquet (the fast path), defusedxml's SAX parser for GPX
(no entity expansion, no external entities; SAX gives line numbers), the standard json
module for GeoJSON, and a small NMEA 0183 reader of our own with numpy checksums.
See docs/trip-formats.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from xml.sax import SAXException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import Locator

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from defusedxml import DefusedXmlException
from defusedxml import sax as defused_sax

FORMATS = ("csv", "gpx", "geojson", "nmea", "parquet")
CSV_REQUIRED = ("timestamp", "lat", "lon")
# Accepted and type-checked, but mileage is measured from positions alone.
CSV_OPTIONAL_FLOAT = ("speed_kmh", "heading", "hdop", "odometer_km")
MODES = {"auto": True, "manual": False}
# An epoch number at or above this is milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
EPOCH_MS_THRESHOLD = 1e11
NMEA_TALKERS = frozenset({"GP", "GN", "GB", "BD", "GL", "GA"})
_UTC_NS = pa.timestamp("ns", tz="UTC")


class TraceError(Exception):
    """The file cannot be used at all: the trip is rejected with this reason."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(f"{message} (line {line})" if line is not None else message)
        self.code = code
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Note:
    """Something dropped or odd while parsing, kept as a reason on the trip."""

    code: str
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

    def __len__(self) -> int:
        return int(self.t_ns.shape[0])

    def line_of(self, index: int) -> int | None:
        if self.line is not None:
            return int(self.line[index])
        return None if self.first_line is None else self.first_line + index


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
        raise TraceError("empty_file", "The file is empty.")
    if fmt is None:
        fmt = detect_format(data)
        if fmt is None:
            _refuse_binary(data)
            raise TraceError(
                "unknown_format",
                "The format could not be recognised; expected CSV, GPX, GeoJSON, NMEA 0183 "
                "or Parquet.",
            )
    if fmt not in FORMATS:
        raise TraceError("unknown_format", f"Unknown format {fmt!r}.")
    if fmt != "parquet":
        _refuse_binary(data)
        data = _utf8(data)
    _refuse_hostile_shape(data, fmt, max_points)
    try:
        trace = _PARSERS[fmt](data)
    except RecursionError:  # JSON nested thousands deep: no GeoJSON is
        raise TraceError("too_deep", "The file is nested too deeply to be a trip log.") from None
    # The reader's tables and buffers are gone by now, but Arrow's allocator (mimalloc)
    # keeps their pages, which numpy cannot reuse: tens of MB at the trip's peak otherwise.
    pa.default_memory_pool().release_unused()
    if max_points is not None and len(trace) > max_points:
        raise TraceError(
            "too_many_points", f"The file has {len(trace)} fixes; the limit is {max_points}."
        )
    return trace


# --- shared checks -----------------------------------------------------------------------

# Limits on the shape of a file, checked before it is parsed (docs/security.md): far above
# any real trip log, far below what would make a parser slow or hungry.
MAX_LINE_BYTES = 64 * 1024  # a CSV header or first row; a real one is under 200 bytes
MAX_CSV_COLUMNS = 100
MAX_XML_TOKEN_BYTES = 1024 * 1024  # text or attribute between two tags
# The slow parsers (GPX, GeoJSON) are spared files with far too many fixes by counting a
# marker first; counting over-counts a little (a "Feature" in a property), so it refuses only
# past twice the limit, and the exact count follows the parse. Not CSV: counting its lines
# would cost 6 % of its parse, which is fast and whose memory TRIP_MAX_BYTES bounds.
_MARKERS = {"gpx": b"<trkpt", "geojson": b'"Feature"'}


def _refuse_hostile_shape(data: bytes, fmt: str, max_points: int | None) -> None:
    """Refuse, before parsing, files whose shape would cost a parser time or memory out of
    proportion to their size: too many fixes for the limit, a CSV with a huge header or
    thousands of columns, an XML token of megabytes (expat rescans a token that spans its
    input chunks: a 60 MB attribute took 45 s), a Parquet file that expands past the limit.
    """
    marker = _MARKERS.get(fmt)
    if max_points is not None and marker is not None and data.count(marker) > 2 * max_points:
        raise TraceError(
            "too_many_points", f"The file has far more than the limit of {max_points} fixes."
        )
    if fmt == "csv":
        _check_csv_shape(data)
    elif fmt == "gpx":
        _check_xml_tokens(data)
    elif fmt == "parquet":
        _check_parquet_shape(data, max_points)


def _check_csv_shape(data: bytes) -> None:
    """Only the header and the first row are looked at (their text is decoded whole while
    the columns' types are chosen); Arrow's reader refuses any later line longer than its
    block."""
    header_end = data.find(b"\n", 0, MAX_LINE_BYTES + 1)
    too_long = header_end < 0 and len(data) > MAX_LINE_BYTES
    if header_end >= 0:
        row_end = data.find(b"\n", header_end + 1, header_end + 2 + MAX_LINE_BYTES)
        too_long = row_end < 0 and len(data) - header_end - 1 > MAX_LINE_BYTES
    if too_long:
        raise TraceError(
            "line_too_long",
            f"The line is longer than {MAX_LINE_BYTES // 1024} KB; a trip log has short lines.",
            1 if header_end < 0 else 2,
        )
    columns = data.count(b",", 0, header_end if header_end >= 0 else len(data)) + 1
    if columns > MAX_CSV_COLUMNS:
        raise TraceError(
            "too_many_columns",
            f"The header has {columns} columns; the limit is {MAX_CSV_COLUMNS}.",
            1,
        )


def _check_xml_tokens(data: bytes) -> None:
    """The longest stretch without a '<' bounds every text and attribute token."""
    view = np.frombuffer(data, dtype=np.uint8)
    last = -1  # position of the previous '<'
    step = 1 << 22  # in blocks: the mask of a whole 64 MB file would be 64 MB
    for start in range(0, len(view) or 1, step):
        opens = np.flatnonzero(view[start : start + step] == ord("<")) + start
        if start + step >= len(view):  # the end of the file closes the last stretch
            opens = np.append(opens, len(view))
        if opens.size == 0:
            continue
        gaps = np.diff(opens, prepend=last)
        if int(gaps.max()) - 1 > MAX_XML_TOKEN_BYTES:
            raise TraceError(
                "xml_token_too_long",
                f"A text or attribute value is longer than {MAX_XML_TOKEN_BYTES // 2**20} MB.",
                _line_at(data, int(opens[int(gaps.argmax())]) - int(gaps.max()) + 1),
            )
        last = int(opens[-1])


def _check_parquet_shape(data: bytes, max_points: int | None) -> None:
    """The footer says how many rows the file expands to: a few kilobytes of run-length
    encoded values can stand for hundreds of millions."""
    try:
        metadata = pq.ParquetFile(pa.BufferReader(data)).metadata
    except (pa.ArrowInvalid, OSError) as exc:
        raise TraceError("parquet_invalid", f"The Parquet file could not be read: {exc}") from None
    if metadata.num_columns > MAX_CSV_COLUMNS:
        raise TraceError(
            "too_many_columns",
            f"The file has {metadata.num_columns} columns; the limit is {MAX_CSV_COLUMNS}.",
        )
    if max_points is not None and metadata.num_rows > max_points:
        raise TraceError(
            "too_many_points",
            f"The file has {metadata.num_rows} fixes; the limit is {max_points}.",
        )


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _refuse_binary(data: bytes) -> None:
    pos = data.find(b"\x00")
    if pos >= 0:
        raise TraceError(
            "binary", "The file contains binary data (NUL bytes), not text.", _line_at(data, pos)
        )


def _utf8(data: bytes) -> bytes:
    """The text without a UTF-8 byte-order mark; refuses other encodings with the line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TraceError(
                "encoding",
                "The file is not UTF-8 text (GBK or another encoding?); save it as UTF-8.",
                _line_at(data, exc.start),
            ) from None
    return data


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
            "coordinates_impossible",
            f"Impossible coordinates lat={lat[i]!r}, lon={lon[i]!r}.",
            _line(lines, first_line, i),
        )


def _build(
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
                "null_island",
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
    )


# --- tables: CSV and Parquet ---------------------------------------------------------------


_NUMPY_TYPES = {
    name: name
    for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
} | {"float": "float32", "double": "float64"}


def _np(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric or boolean column as numpy, without pyarrow's pandas-backed conversion.

    pyarrow's `to_numpy` imports pandas (a second and ~40 MB) on its way, even zero-copy;
    a primitive column's data buffer is read directly instead. Null numbers become NaN
    (floats) or 0, null booleans False.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = []
    for original in chunks:
        chunk = original
        is_bool = pa.types.is_boolean(chunk.type)
        if chunk.null_count:
            fill = False if is_bool else (np.nan if pa.types.is_floating(chunk.type) else 0)
            chunk = pc.fill_null(chunk, fill)
        if is_bool:
            chunk = chunk.cast(pa.uint8())
        elif str(chunk.type) not in _NUMPY_TYPES:  # half floats, decimals...
            chunk = chunk.cast(pa.float64())
        dtype = np.dtype(_NUMPY_TYPES[str(chunk.type)])
        part = np.frombuffer(
            chunk.buffers()[1], dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize
        )
        parts.append(part.astype(bool) if is_bool else part)
    if len(parts) == 1:
        return np.asarray(parts[0])
    if not parts:
        return np.zeros(0)
    return np.concatenate(parts)


def _first_null(column: pa.ChunkedArray) -> int | None:
    if column.null_count == 0:
        return None
    return int(np.argmax(_np(column.is_null())))


def _epoch_scale(first: float) -> int:
    """Nanoseconds per unit: milliseconds or seconds, decided once per file by magnitude."""
    return 1_000_000 if abs(first) >= EPOCH_MS_THRESHOLD else 1_000_000_000


def _epoch_to_ns(values: np.ndarray, scale: int | None = None) -> np.ndarray:
    """Epoch seconds or milliseconds → ns; `scale` None decides by the first value."""
    if scale is None:
        scale = _epoch_scale(float(values[0]) if values.size else 0.0)
    if values.dtype.kind in "iu":
        return values.astype(np.int64) * scale
    return np.round(values.astype(np.float64) * scale).astype(np.int64)


def _iso_strings_to_ns(
    values: pa.Array | pa.ChunkedArray, lines: np.ndarray, *, naive_is_utc: bool = False
) -> np.ndarray:
    """ISO 8601 strings with an offset → UTC ns; the first bad value names its line."""
    try:
        return _as_ns(pc.cast(values, _UTC_NS))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Slow path, only on failure: find the first value that does not parse, to name it.
    texts = values.to_pylist()
    for i, text in enumerate(texts):
        try:
            pc.cast(pa.array([text]), _UTC_NS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if text is not None and naive_is_utc and _ISO_NAIVE.match(text.strip()):
                continue
            raise _timestamp_error(text, int(lines[i])) from None
    # Only naive values failed, and the format defines them as UTC (GPX).
    fixed = [t if t is None or not _ISO_NAIVE.match(t.strip()) else t.strip() + "Z" for t in texts]
    return _as_ns(pc.cast(pa.array(fixed, pa.string()), _UTC_NS))


_ISO_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$")


def _timestamp_error(text: str | None, line: int) -> TraceError:
    if text is not None and _ISO_NAIVE.match(text.strip()):
        return TraceError(
            "timestamp_no_offset",
            f"Timestamp {text!r} has no UTC offset; write e.g. 2026-01-01T08:00:00+08:00.",
            line,
        )
    return TraceError(
        "timestamp_invalid",
        f"Timestamp {text!r} is neither ISO 8601 with an offset nor Unix epoch seconds/ms.",
        line,
    )


def _as_ns(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(_np(pc.cast(array, pa.int64())), dtype=np.int64)


def _table_timestamps(
    column: pa.ChunkedArray, lines: np.ndarray, fmt: str, epoch_scale: int | None
) -> np.ndarray:
    kind = column.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            raise TraceError(
                "timestamp_no_offset",
                f"The {fmt} timestamp column has no time zone; store UTC-adjusted timestamps.",
                int(lines[0]) if len(lines) else None,
            )
        return _as_ns(pc.cast(column, pa.timestamp("ns", tz="UTC")))
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return _epoch_to_ns(_np(column), epoch_scale)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _iso_strings_to_ns(column, lines)
    raise TraceError("timestamp_invalid", f"The timestamp column has type {kind}.", 1)


def _table_mode(column: pa.ChunkedArray, lines: np.ndarray) -> np.ndarray:
    if pa.types.is_dictionary(column.type) and column.null_count == 0:
        # Decide once per distinct value (there are two), then map the indices.
        parts = []
        for chunk in column.chunks:
            values = [str(v).strip().lower() for v in chunk.dictionary.to_pylist()]
            if all(v in MODES for v in values):
                table = np.asarray([MODES[v] for v in values], dtype=np.bool_)
                parts.append(table[_np(chunk.indices)] if values else np.zeros(0, bool))
                continue
            break
        else:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=np.bool_)
        column = column.cast(pa.string())
    elif pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(column))
    auto = pc.equal(lowered, "auto")
    manual = pc.equal(lowered, "manual")
    valid = pc.or_(auto, manual)
    if not pc.all(valid).as_py() or lowered.null_count:
        ok = _np(valid)
        i = int(np.argmax(~np.asarray(ok, dtype=bool)))
        raise TraceError(
            "mode_invalid",
            f"Driving mode {column[i].as_py()!r} is not 'auto' or 'manual'.",
            int(lines[i]),
        )
    return np.asarray(_np(auto), dtype=np.bool_)


class _Columns(NamedTuple):
    t_ns: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    auto: np.ndarray | None
    odometer_km: np.ndarray | None
    epoch_scale: int | None  # the one used, for the next batch of the same file


def _from_table(table: pa.Table, fmt: str, first_line: int) -> ParsedTrace:
    columns = _table_columns(table, fmt, first_line, epoch_scale=None)
    return _build(
        t_ns=columns.t_ns,
        lon=columns.lon,
        lat=columns.lat,
        auto=columns.auto,
        odometer_km=columns.odometer_km,
        fmt=fmt,
        notes=[],
        lines=None,
        first_line=first_line,
    )


def _table_columns(
    table: pa.Table, fmt: str, first_line: int, *, epoch_scale: int | None
) -> _Columns:
    """A table's (or one CSV batch's) columns, checked; the line of the first bad value."""
    names = [n.strip().lower() for n in table.column_names]
    table = table.rename_columns(names)
    missing = [c for c in CSV_REQUIRED if c not in names]
    if missing:
        raise TraceError(
            "missing_column",
            f"Missing column(s) {', '.join(missing)}; required: {', '.join(CSV_REQUIRED)}.",
            1 if fmt == "csv" else None,
        )
    n = table.num_rows
    lines = np.arange(first_line, first_line + n, dtype=np.int64)
    for name in (*CSV_REQUIRED, *(("mode",) if "mode" in names else ())):
        i = _first_null(table.column(name))
        if i is not None:
            raise TraceError("missing_value", f"Empty {name}.", int(lines[i]))
    for name in ("lat", "lon", *CSV_OPTIONAL_FLOAT):
        if name in names and not (
            pa.types.is_floating(table.column(name).type)
            or pa.types.is_integer(table.column(name).type)
            or pa.types.is_null(table.column(name).type)
        ):
            raise TraceError("not_a_number", f"Column {name} holds non-numbers.", None)
    stamps = table.column("timestamp")
    if (
        epoch_scale is None
        and n
        and (pa.types.is_integer(stamps.type) or pa.types.is_floating(stamps.type))
    ):
        epoch_scale = _epoch_scale(float(stamps[0].as_py()))
    odometer = None
    if "odometer_km" in names:
        odometer = np.asarray(
            _np(table.column("odometer_km").cast(pa.float64())),
            dtype=np.float64,
        )
    return _Columns(
        t_ns=_table_timestamps(stamps, lines, fmt, epoch_scale),
        lon=_np(table.column("lon").cast(pa.float64())),
        lat=_np(table.column("lat").cast(pa.float64())),
        auto=_table_mode(table.column("mode"), lines) if "mode" in names else None,
        odometer_km=odometer,
        epoch_scale=epoch_scale,
    )


def _csv_header(data: bytes) -> list[str]:
    end = data.find(b"\n")
    first = data[: end if end >= 0 else len(data)].decode("utf-8").strip()
    return [c.strip().strip('"').strip().lower() for c in first.split(",")]


def _parse_csv(data: bytes) -> ParsedTrace:
    header = _csv_header(data)
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise TraceError(
            "missing_column",
            f"Missing column(s) {', '.join(missing)} in the header; required: "
            f"{', '.join(CSV_REQUIRED)}; optional: mode, {', '.join(CSV_OPTIONAL_FLOAT)}.",
            1,
        )
    # Only the first two lines, without copying the rest of the file.
    end1 = data.find(b"\n")
    end2 = data.find(b"\n", end1 + 1) if end1 >= 0 else -1
    second = data[end1 + 1 : end2 if end2 >= 0 else len(data)] if end1 >= 0 else b""
    ts_index = header.index("timestamp")
    cells = second.decode("utf-8").split(",")
    sample = cells[ts_index].strip().strip('"') if ts_index < len(cells) else ""
    numeric_ts = bool(re.fullmatch(r"-?\d+(\.\d+)?", sample))
    types: dict[str, pa.DataType] = {c: pa.float64() for c in ("lat", "lon", *CSV_OPTIONAL_FLOAT)}
    types["mode"] = pa.dictionary(pa.int32(), pa.string())
    # Typed on the first pass: converting in the reader is the fast path (Arrow checks
    # the offsets itself and refuses naive ISO values).
    types["timestamp"] = pa.float64() if "." in sample else pa.int64()
    if not numeric_ts:
        types["timestamp"] = _UTC_NS
    # The reader names columns as written, less the quotes.
    raw_names = [
        c.strip('"') for c in data[: data.find(b"\n")].decode("utf-8").rstrip("\r").split(",")
    ]
    column_types = {
        raw: types[norm] for raw, norm in zip(raw_names, header, strict=True) if norm in types
    }
    # Streamed block by block, each block's columns checked and copied out as it comes:
    # Arrow then holds one block, not a table of the whole file beside the file's bytes.
    # Only the columns read here are converted; any other is skipped unread.
    read = pacsv.ReadOptions(use_threads=False, block_size=_CSV_BLOCK)
    convert = pacsv.ConvertOptions(column_types=column_types, include_columns=list(column_types))
    columns = {name: _Filled() for name in ("t_ns", "lon", "lat", "auto", "odometer_km")}
    row = 2  # the file line of the batch's first row
    scale: int | None = None
    try:
        # (Opening reads the first block: its errors are the reader's like any other.)
        # The blocks come from the C allocator, not Arrow's mimalloc: a worker's heap has
        # the free pages of the previous trip, which the blocks then reuse instead of
        # adding their own to the peak.
        batches = pacsv.open_csv(
            pa.BufferReader(data),
            read_options=read,
            convert_options=convert,
            memory_pool=pa.system_memory_pool(),
        )
        for batch in batches:
            part = _table_columns(pa.Table.from_batches([batch]), "csv", row, epoch_scale=scale)
            # Rows in the whole file, guessed from the first block's rows per byte (the
            # columns grow if it was short): copied into place block by block, with no
            # list of parts to join at the end.
            expected = int(batch.num_rows * max(1.0, len(data) / _CSV_BLOCK) * 1.05) + 16
            for name, column in columns.items():
                value = getattr(part, name)
                if value is not None:
                    column.append(value, expected)
            scale = part.epoch_scale
            row += batch.num_rows
    except pa.ArrowInvalid as exc:
        raise _csv_error(data, column_types, str(exc)) from None
    return _build(
        t_ns=columns["t_ns"].values(np.int64),
        lon=columns["lon"].values(np.float64),
        lat=columns["lat"].values(np.float64),
        auto=columns["auto"].values(np.bool_) if "mode" in header else None,
        odometer_km=columns["odometer_km"].values(np.float64) if "odometer_km" in header else None,
        fmt="csv",
        notes=[],
        lines=None,
        first_line=2,
    )


# Bytes of CSV per block read and converted at a time.
_CSV_BLOCK = 1 << 22


class _Filled:
    """A column filled block by block into one array, grown by half when too short."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None
        self.size = 0

    def append(self, values: np.ndarray, expected: int) -> None:
        if self.array is None:
            self.array = np.empty(max(expected, values.size), dtype=values.dtype)
        end = self.size + values.size
        if end > self.array.size:
            grown = np.empty(max(end, self.array.size * 3 // 2), dtype=self.array.dtype)
            grown[: self.size] = self.array[: self.size]
            self.array = grown
        self.array[self.size : end] = values
        self.size = end

    def values(self, dtype: type) -> np.ndarray:
        if self.array is None:
            return np.zeros(0, dtype=dtype)
        filled = self.array[: self.size]
        # A view when the guess was close; a copy rather than a quarter or more unused.
        return filled if self.size * 4 >= self.array.size * 3 else filled.copy()


def _csv_error(data: bytes, column_types: dict[str, pa.DataType], detail: str) -> TraceError:
    """Locate a CSV failure by re-reading the bad column as text (error path only)."""
    match = re.search(r"In CSV column #(\d+)", detail)
    if "Expected" in detail and "columns" in detail:
        row = re.search(r"Row #(\d+)", detail)
        return TraceError(
            "csv_columns",
            "A row has a different number of fields than the header.",
            int(row.group(1)) if row else None,
        )
    if match is None:
        return TraceError("csv_invalid", f"The CSV could not be read: {detail}")
    index = int(match.group(1))
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(use_threads=False),
        convert_options=pacsv.ConvertOptions(column_types={}, strings_can_be_null=True),
    )
    name = table.column_names[index]
    column = table.column(index).cast(pa.string())
    lines = np.arange(2, 2 + table.num_rows, dtype=np.int64)
    wanted = column_types.get(name)
    if name.strip().lower() == "timestamp" and wanted == _UTC_NS:
        _iso_strings_to_ns(column, lines)
    for i, text in enumerate(column.to_pylist()):
        if text is None:
            continue
        try:
            pc.cast(pa.array([text]), wanted or pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if name.strip().lower() == "timestamp":
                return _timestamp_error(text, int(lines[i]))
            return TraceError("not_a_number", f"{name} {text!r} is not a number.", int(lines[i]))
    return TraceError("csv_invalid", f"The CSV could not be read: {detail}")


def _parse_parquet(data: bytes) -> ParsedTrace:
    try:
        # ParquetFile, not read_table: the latter imports pyarrow.dataset and with it pandas
        # (seconds and tens of MB) for nothing a single file needs.
        table = pq.ParquetFile(pa.BufferReader(data)).read(use_threads=False)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TraceError("parquet_invalid", f"The Parquet file could not be read: {exc}") from None
    return _from_table(table, "parquet", first_line=1)


# --- GPX ------------------------------------------------------------------------------------


class _GpxHandler(ContentHandler):
    """Collects track points (trkpt) with their line; routes and waypoints are not tracks."""

    def __init__(self) -> None:
        super().__init__()
        self.locator: Locator | None = None
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.time: list[str | None] = []
        self.lines: list[int] = []
        self.in_point = False
        self.in_time = False
        self.text: list[str] = []
        self.root: str | None = None
        self.other_points = 0

    def setDocumentLocator(self, locator: Locator) -> None:  # noqa: N802 - SAX API
        self.locator = locator

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 - SAX API
        local = name.rsplit(":", 1)[-1]
        if self.root is None:
            self.root = local
        if local == "trkpt":
            line = int(self.locator.getLineNumber() or 0) if self.locator else 0
            try:
                lat, lon = float(attrs.getValue("lat")), float(attrs.getValue("lon"))
            except (KeyError, ValueError):
                raise TraceError(
                    "gpx_invalid", "A track point has no valid lat/lon attributes.", line
                ) from None
            self.lat.append(lat)
            self.lon.append(lon)
            self.time.append(None)
            self.lines.append(line)
            self.in_point = True
        elif local in ("rtept", "wpt"):
            self.other_points += 1
        elif local == "time" and self.in_point:
            self.in_time = True
            self.text = []

    def endElement(self, name: str) -> None:  # noqa: N802 - SAX API
        local = name.rsplit(":", 1)[-1]
        if local == "trkpt":
            self.in_point = False
        elif local == "time" and self.in_time:
            self.time[-1] = "".join(self.text).strip()
            self.in_time = False

    def characters(self, content: str) -> None:
        if self.in_time:
            self.text.append(content)


def _parse_gpx(data: bytes) -> ParsedTrace:
    handler = _GpxHandler()
    try:
        defused_sax.parseString(data, handler, forbid_dtd=True)
    except DefusedXmlException:
        raise TraceError(
            "xml_forbidden", "XML entity or DTD declarations are not accepted."
        ) from None
    except SAXException as exc:
        line = getattr(exc, "getLineNumber", lambda: None)()
        raise TraceError("xml_invalid", f"The XML is not well formed: {exc}", line) from None
    if handler.root != "gpx":
        raise TraceError("gpx_invalid", f"The root element is <{handler.root}>, not <gpx>.", 1)
    notes: list[Note] = []
    if handler.other_points and not handler.lat:
        notes.append(
            Note(
                "gpx_no_track",
                "Route and waypoint points are plans, not recordings; only track points count.",
                handler.other_points,
            )
        )
    lines = np.asarray(handler.lines, dtype=np.int64)
    timed = np.asarray([t is not None and t != "" for t in handler.time], dtype=bool)
    if not timed.all():
        notes.append(
            Note(
                "untimed_points",
                "Track points without <time> cannot be measured and were dropped.",
                int((~timed).sum()),
                int(lines[int(np.argmax(~timed))]),
            )
        )
    times = [t for t, ok in zip(handler.time, timed, strict=True) if ok]
    lines = lines[timed]
    t_ns = (
        _iso_strings_to_ns(pa.array(times, pa.string()), lines, naive_is_utc=True)
        if times
        else np.zeros(0, dtype=np.int64)
    )
    return _build(
        t_ns=t_ns,
        lon=np.asarray(handler.lon, dtype=np.float64)[timed],
        lat=np.asarray(handler.lat, dtype=np.float64)[timed],
        auto=None,
        odometer_km=None,
        fmt="gpx",
        notes=notes,
        lines=lines,
    )


# --- GeoJSON --------------------------------------------------------------------------------


def _parse_geojson(data: bytes) -> ParsedTrace:  # noqa: PLR0912 - one check per field, each with its own message
    try:
        doc = json.loads(data)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise TraceError("json_invalid", f"The JSON is not valid: {exc}", line) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise TraceError("geojson_invalid", "Expected a GeoJSON FeatureCollection.")
    features = doc.get("features")
    if not isinstance(features, list):
        raise TraceError("geojson_invalid", "The FeatureCollection has no features list.")
    n = len(features)
    lon = np.empty(n)
    lat = np.empty(n)
    stamps: list[Any] = []
    modes: list[Any] = []
    odometer: list[Any] = []
    for i, feature in enumerate(features):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise TraceError("geojson_not_point", "Every feature must be a Point fix.", i + 1)
        coords: Any = geometry.get("coordinates")
        props = feature.get("properties") or {}
        try:
            lon[i], lat[i] = float(coords[0]), float(coords[1])
        except (TypeError, ValueError, IndexError):
            raise TraceError(
                "geojson_invalid", "A Point has no valid coordinates.", i + 1
            ) from None
        stamps.append(props.get("timestamp"))
        modes.append(props.get("mode"))
        odometer.append(props.get("odometer_km"))
    lines = np.arange(1, n + 1, dtype=np.int64)
    for i, stamp in enumerate(stamps):
        if stamp is None or isinstance(stamp, bool):
            raise TraceError("missing_value", "A feature has no timestamp property.", i + 1)
    if all(isinstance(s, int | float) for s in stamps):
        t_ns = _epoch_to_ns(np.asarray(stamps))
    elif all(isinstance(s, str) for s in stamps):
        t_ns = _iso_strings_to_ns(pa.array(stamps, pa.string()), lines)
    else:
        i = next(i for i, s in enumerate(stamps) if not isinstance(s, str))
        raise _timestamp_error(str(stamps[i]), i + 1)
    auto = None
    if any(m is not None for m in modes):
        auto = _table_mode(pa.chunked_array([pa.array(modes, pa.string())]), lines)
    odometer_km = None
    if any(o is not None for o in odometer):
        try:
            odometer_km = np.asarray([np.nan if o is None else float(o) for o in odometer])
        except (TypeError, ValueError):
            raise TraceError("not_a_number", "odometer_km must be a number.") from None
    return _build(
        t_ns=t_ns,
        lon=lon,
        lat=lat,
        auto=auto,
        odometer_km=odometer_km,
        fmt="geojson",
        notes=[],
        lines=lines,
    )


# --- NMEA 0183 ------------------------------------------------------------------------------


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


def _parse_nmea(data: bytes) -> ParsedTrace:  # noqa: PLR0912, PLR0915 - one pass of a sentence state machine
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
                "nmea_bad_checksum",
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
                "nmea_unreadable",
                "RMC/GGA sentences with unreadable fields were dropped.",
                len(unreadable),
                unreadable[0],
            )
        )
    if repeated:
        notes.append(
            Note(
                "nmea_repeated_epoch",
                "Sentences repeating an epoch already read (same type, same time) were dropped.",
                len(repeated),
                repeated[0],
            )
        )
    if undated:
        notes.append(
            Note("nmea_no_date", "GGA fixes before the first RMC (no date) were dropped.", undated)
        )
    if skipped_talker:
        notes.append(
            Note(
                "nmea_other_talker",
                f"Sentences from talkers other than {', '.join(sorted(NMEA_TALKERS))} were "
                "ignored.",
                skipped_talker,
            )
        )
    if not candidates:
        raise TraceError("nmea_no_fix_sentences", "The log has no RMC or GGA sentences.")
    return _build(
        t_ns=np.asarray(t_ns, dtype=np.int64),
        lon=np.asarray(lon, dtype=np.float64),
        lat=np.asarray(lat, dtype=np.float64),
        auto=None,
        odometer_km=None,
        fmt="nmea",
        notes=notes,
        lines=np.asarray(lines, dtype=np.int64),
    )


_PARSERS = {
    "csv": _parse_csv,
    "gpx": _parse_gpx,
    "geojson": _parse_geojson,
    "nmea": _parse_nmea,
    "parquet": _parse_parquet,
}
