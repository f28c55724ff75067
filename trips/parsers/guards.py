"""Refusals before any parser runs: binary data, other encodings than UTF-8, and shapes no
trip log has (huge lines or tokens, thousands of columns, far more fixes than the limit)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from trips.reason_codes import TripReason

from .trace import TraceError

# Limits on the shape of a file, checked before it is parsed (docs/security.md): far above
# any real trip log, far below what would make a parser slow or hungry.
MAX_LINE_BYTES = 64 * 1024  # a CSV header or first row; a real one is under 200 bytes
MAX_CSV_COLUMNS = 100
MAX_XML_TOKEN_BYTES = 1024 * 1024  # text or attribute between two tags
# The slow parsers (GPX, GeoJSON) are spared files with far too many fixes by counting a
# marker first; counting over-counts a little (a "Feature" in a property), so it refuses only
# past twice the limit, and the exact count follows the parse. Not CSV: counting its lines
# would cost a noticeable share of its parse (bench/README.md), which is fast and whose
# memory TRIP_MAX_BYTES bounds.
_MARKERS = {"gpx": b"<trkpt", "geojson": b'"Feature"'}


def refuse_hostile_shape(data: bytes, fmt: str, max_points: int | None) -> None:
    """Refuse, before parsing, files whose shape would cost a parser time or memory out of
    proportion to their size: too many fixes for the limit, a CSV with a huge header or
    thousands of columns, an XML token of megabytes (expat rescans a token that spans its
    input chunks: bench/README.md), a Parquet file that expands past the limit.
    """
    marker = _MARKERS.get(fmt)
    if max_points is not None and marker is not None and data.count(marker) > 2 * max_points:
        raise TraceError(
            TripReason.TOO_MANY_POINTS,
            f"The file has far more than the limit of {max_points} fixes.",
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
            TripReason.LINE_TOO_LONG,
            f"The line is longer than {MAX_LINE_BYTES // 1024} KB; a trip log has short lines.",
            1 if header_end < 0 else 2,
        )
    columns = data.count(b",", 0, header_end if header_end >= 0 else len(data)) + 1
    if columns > MAX_CSV_COLUMNS:
        raise TraceError(
            TripReason.TOO_MANY_COLUMNS,
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
                TripReason.XML_TOKEN_TOO_LONG,
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
        raise TraceError(
            TripReason.PARQUET_INVALID, f"The Parquet file could not be read: {exc}"
        ) from None
    if metadata.num_columns > MAX_CSV_COLUMNS:
        raise TraceError(
            TripReason.TOO_MANY_COLUMNS,
            f"The file has {metadata.num_columns} columns; the limit is {MAX_CSV_COLUMNS}.",
        )
    if max_points is not None and metadata.num_rows > max_points:
        raise TraceError(
            TripReason.TOO_MANY_POINTS,
            f"The file has {metadata.num_rows} fixes; the limit is {max_points}.",
        )


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def refuse_binary(data: bytes) -> None:
    pos = data.find(b"\x00")
    if pos >= 0:
        raise TraceError(
            TripReason.BINARY,
            "The file contains binary data (NUL bytes), not text.",
            _line_at(data, pos),
        )


def utf8(data: bytes) -> bytes:
    """The text without a UTF-8 byte-order mark; refuses other encodings with the line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TraceError(
                TripReason.ENCODING,
                "The file is not UTF-8 text (GBK or another encoding?); save it as UTF-8.",
                _line_at(data, exc.start),
            ) from None
    return data
