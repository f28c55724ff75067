"""CSV: pyarrow's reader, streamed block by block, the columns checked as they come."""

from __future__ import annotations

import math
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from trips.reason_codes import TripReason

from .columns import (
    CSV_OPTIONAL_FLOAT,
    CSV_REQUIRED,
    UTC_NS,
    iso_strings_to_ns,
    table_columns,
    timestamp_error,
)
from .trace import ParsedTrace, TraceError, build_trace


def _csv_header(data: bytes) -> list[str]:
    end = data.find(b"\n")
    first = data[: end if end >= 0 else len(data)].decode("utf-8").strip()
    return [c.strip().strip('"').strip().lower() for c in first.split(",")]


def parse_csv(data: bytes) -> ParsedTrace:
    header = _csv_header(data)
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise TraceError(
            TripReason.MISSING_COLUMN,
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
        types["timestamp"] = UTC_NS
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
    columns = {
        name: _Filled() for name in ("t_ns", "lon", "lat", "auto", "odometer_km", "speed_kmh")
    }
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
            part = table_columns(pa.Table.from_batches([batch]), "csv", row, epoch_scale=scale)
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
        raise _csv_error(data, column_types, raw_names, str(exc)) from None
    return build_trace(
        t_ns=columns["t_ns"].values(np.int64),
        lon=columns["lon"].values(np.float64),
        lat=columns["lat"].values(np.float64),
        auto=columns["auto"].values(np.bool_) if "mode" in header else None,
        odometer_km=columns["odometer_km"].values(np.float64) if "odometer_km" in header else None,
        speed_kmh=columns["speed_kmh"].values(np.float64) if "speed_kmh" in header else None,
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


def _csv_error(
    data: bytes, column_types: dict[str, pa.DataType], names: list[str], detail: str
) -> TraceError:
    """Locate a CSV failure by re-reading the bad column as text (error path only).

    As text, every column of it: a column the reader were left to type would come back
    re-written (1767225600000 read as a float is "1.7672256e+12"), and its first value,
    not the bad one, would then be the one that fails.
    """
    match = re.search(r"In CSV column #(\d+)", detail)
    if "Expected" in detail and "columns" in detail:
        row = re.search(r"Row #(\d+)", detail)
        return TraceError(
            TripReason.CSV_COLUMNS,
            "A row has a different number of fields than the header.",
            int(row.group(1)) if row else None,
        )
    if match is None:
        return TraceError(TripReason.CSV_INVALID, f"The CSV could not be read: {detail}")
    index = int(match.group(1))
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(use_threads=False),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
        ),
    )
    name = table.column_names[index]
    column = table.column(index)
    lines = np.arange(2, 2 + table.num_rows, dtype=np.int64)
    wanted = column_types.get(name)
    if name.strip().lower() == "timestamp" and wanted == UTC_NS:
        iso_strings_to_ns(column, lines)
    for i, text in enumerate(column.to_pylist()):
        if text is None:
            continue
        try:
            pc.cast(pa.array([text]), wanted or pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if name.strip().lower() == "timestamp":
                if wanted == pa.int64() and _is_fraction(text):
                    return TraceError(
                        TripReason.TIMESTAMP_INVALID,
                        f"Timestamp {text!r} is not a whole number like the first row's; "
                        "write every epoch timestamp alike.",
                        int(lines[i]),
                    )
                return timestamp_error(text, int(lines[i]))
            return TraceError(
                TripReason.NOT_A_NUMBER, f"{name} {text!r} is not a number.", int(lines[i])
            )
    return TraceError(TripReason.CSV_INVALID, f"The CSV could not be read: {detail}")


def _is_fraction(text: str) -> bool:
    """A finite number not written as a whole one (1767225600.5, 1.7e9)."""
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and not text.strip().lstrip("+-").isdigit()
