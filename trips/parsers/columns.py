"""Arrow columns to checked numpy arrays: timestamps (ISO 8601 with an offset, or epoch
seconds or milliseconds), driving modes, numbers, and the required columns of a table (a
CSV block or a Parquet file). The first bad value names its line."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from trips.reason_codes import TripReason

from .trace import TraceError

CSV_REQUIRED = ("timestamp", "lat", "lon")
# Accepted and type-checked, but mileage is measured from positions alone.
CSV_OPTIONAL_FLOAT = ("speed_kmh", "heading", "hdop", "odometer_km")
MODES = {"auto": True, "manual": False}
# An epoch number at or above this is milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973.
EPOCH_MS_THRESHOLD = 1e11
UTC_NS = pa.timestamp("ns", tz="UTC")


_NUMPY_TYPES = {
    name: name
    for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
} | {"float": "float32", "double": "float64"}


def to_numpy(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numeric or boolean column as numpy, without pyarrow's pandas-backed conversion.

    pyarrow's `to_numpy` imports pandas (bench/README.md) on its way, even zero-copy;
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
    return int(np.argmax(to_numpy(column.is_null())))


def _epoch_scale(first: float) -> int:
    """Nanoseconds per unit: milliseconds or seconds, decided once per file by magnitude."""
    return 1_000_000 if abs(first) >= EPOCH_MS_THRESHOLD else 1_000_000_000


def epoch_to_ns(values: np.ndarray, scale: int | None = None) -> np.ndarray:
    """Epoch seconds or milliseconds → ns; `scale` None decides by the first value."""
    if scale is None:
        scale = _epoch_scale(float(values[0]) if values.size else 0.0)
    if values.dtype.kind in "iu":
        return values.astype(np.int64) * scale
    return np.round(values.astype(np.float64) * scale).astype(np.int64)


def iso_strings_to_ns(
    values: pa.Array | pa.ChunkedArray, lines: np.ndarray, *, naive_is_utc: bool = False
) -> np.ndarray:
    """ISO 8601 strings with an offset → UTC ns; the first bad value names its line."""
    try:
        return _as_ns(pc.cast(values, UTC_NS))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Slow path, only on failure: find the first value that does not parse, to name it.
    texts = values.to_pylist()
    for i, text in enumerate(texts):
        try:
            pc.cast(pa.array([text]), UTC_NS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if text is not None and naive_is_utc and _ISO_NAIVE.match(text.strip()):
                continue
            raise timestamp_error(text, int(lines[i])) from None
    # Only naive values failed, and the format defines them as UTC (GPX).
    fixed = [t if t is None or not _ISO_NAIVE.match(t.strip()) else t.strip() + "Z" for t in texts]
    return _as_ns(pc.cast(pa.array(fixed, pa.string()), UTC_NS))


_ISO_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$")


def timestamp_error(text: str | None, line: int) -> TraceError:
    if text is not None and _ISO_NAIVE.match(text.strip()):
        return TraceError(
            TripReason.TIMESTAMP_NO_OFFSET,
            f"Timestamp {text!r} has no UTC offset; write e.g. 2026-01-01T08:00:00+08:00.",
            line,
        )
    return TraceError(
        TripReason.TIMESTAMP_INVALID,
        f"Timestamp {text!r} is neither ISO 8601 with an offset nor Unix epoch seconds/ms.",
        line,
    )


def _as_ns(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(to_numpy(pc.cast(array, pa.int64())), dtype=np.int64)


def _table_timestamps(
    column: pa.ChunkedArray, lines: np.ndarray, fmt: str, epoch_scale: int | None
) -> np.ndarray:
    kind = column.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            raise TraceError(
                TripReason.TIMESTAMP_NO_OFFSET,
                f"The {fmt} timestamp column has no time zone; store UTC-adjusted timestamps.",
                int(lines[0]) if len(lines) else None,
            )
        return _as_ns(pc.cast(column, pa.timestamp("ns", tz="UTC")))
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return epoch_to_ns(to_numpy(column), epoch_scale)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return iso_strings_to_ns(column, lines)
    raise TraceError(TripReason.TIMESTAMP_INVALID, f"The timestamp column has type {kind}.", 1)


def table_mode(column: pa.ChunkedArray, lines: np.ndarray) -> np.ndarray:
    if pa.types.is_dictionary(column.type) and column.null_count == 0:
        # Decide once per distinct value (there are two), then map the indices.
        parts = []
        for chunk in column.chunks:
            values = [str(v).strip().lower() for v in chunk.dictionary.to_pylist()]
            if all(v in MODES for v in values):
                table = np.asarray([MODES[v] for v in values], dtype=np.bool_)
                parts.append(table[to_numpy(chunk.indices)] if values else np.zeros(0, bool))
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
        ok = to_numpy(valid)
        i = int(np.argmax(~np.asarray(ok, dtype=bool)))
        raise TraceError(
            TripReason.MODE_INVALID,
            f"Driving mode {column[i].as_py()!r} is not 'auto' or 'manual'.",
            int(lines[i]),
        )
    return np.asarray(to_numpy(auto), dtype=np.bool_)


class Columns(NamedTuple):
    t_ns: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    auto: np.ndarray | None
    odometer_km: np.ndarray | None
    epoch_scale: int | None  # the one used, for the next batch of the same file
    speed_kmh: np.ndarray | None = None  # the receiver's speed, for the plausibility check


def table_columns(
    table: pa.Table, fmt: str, first_line: int, *, epoch_scale: int | None
) -> Columns:
    """A table's (or one CSV batch's) columns, checked; the line of the first bad value."""
    names = [n.strip().lower() for n in table.column_names]
    table = table.rename_columns(names)
    missing = [c for c in CSV_REQUIRED if c not in names]
    if missing:
        raise TraceError(
            TripReason.MISSING_COLUMN,
            f"Missing column(s) {', '.join(missing)}; required: {', '.join(CSV_REQUIRED)}.",
            1 if fmt == "csv" else None,
        )
    n = table.num_rows
    lines = np.arange(first_line, first_line + n, dtype=np.int64)
    for name in (*CSV_REQUIRED, *(("mode",) if "mode" in names else ())):
        i = _first_null(table.column(name))
        if i is not None:
            raise TraceError(TripReason.MISSING_VALUE, f"Empty {name}.", int(lines[i]))
    for name in ("lat", "lon", *CSV_OPTIONAL_FLOAT):
        if name in names and not (
            pa.types.is_floating(table.column(name).type)
            or pa.types.is_integer(table.column(name).type)
            or pa.types.is_null(table.column(name).type)
        ):
            raise TraceError(TripReason.NOT_A_NUMBER, f"Column {name} holds non-numbers.", None)
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
            to_numpy(table.column("odometer_km").cast(pa.float64())),
            dtype=np.float64,
        )
    return Columns(
        t_ns=_table_timestamps(stamps, lines, fmt, epoch_scale),
        lon=to_numpy(table.column("lon").cast(pa.float64())),
        lat=to_numpy(table.column("lat").cast(pa.float64())),
        auto=table_mode(table.column("mode"), lines) if "mode" in names else None,
        odometer_km=odometer,
        epoch_scale=epoch_scale,
        speed_kmh=_optional_float(table, names, "speed_kmh"),
    )


def _optional_float(table: pa.Table, names: list[str], name: str) -> np.ndarray | None:
    if name not in names:
        return None
    return np.asarray(to_numpy(table.column(name).cast(pa.float64())), dtype=np.float64)
