"""Parquet: the same columns as CSV, typed by the file."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from trips.reason_codes import TripReason

from .columns import table_columns
from .trace import ParsedTrace, TraceError, build_trace


def parse_parquet(data: bytes) -> ParsedTrace:
    try:
        # ParquetFile, not read_table: the latter imports pyarrow.dataset and with it pandas
        # (bench/README.md) for nothing a single file needs.
        table = pq.ParquetFile(pa.BufferReader(data)).read(use_threads=False)
    except (pa.ArrowInvalid, OSError) as exc:
        raise TraceError(
            TripReason.PARQUET_INVALID, f"The Parquet file could not be read: {exc}"
        ) from None
    return _from_table(table, "parquet", first_line=1)


def _from_table(table: pa.Table, fmt: str, first_line: int) -> ParsedTrace:
    columns = table_columns(table, fmt, first_line, epoch_scale=None)
    return build_trace(
        t_ns=columns.t_ns,
        lon=columns.lon,
        lat=columns.lat,
        auto=columns.auto,
        odometer_km=columns.odometer_km,
        speed_kmh=columns.speed_kmh,
        fmt=fmt,
        notes=[],
        lines=None,
        first_line=first_line,
    )
