"""Reading a file of data-recorder events: CSV or JSON lines, vectorised with pandas.

No Django: bytes and the VINs the importer may use in, a frame of rows or the refused lines
out. A row is refused, with its line, for an unknown VIN (a VIN the importer may not use is
unknown to it), event or initiator, a time that is not ISO 8601 with an offset, or an
impossible place; one refused row refuses the file (the services make it all or nothing).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

EVENT_TYPES = (
    "activation",
    "deactivation",
    "takeover_request",
    "mrm_start",
    "mrm_end",
    "severe_failure",
    "collision",
)
INITIATORS = ("system", "driver", "")
REQUIRED = ("time", "vin", "event", "initiator")
OPTIONAL = ("lat", "lon", "note")
_KNOWN_COLUMNS = frozenset(REQUIRED + OPTIONAL)
# Offset at the end: Z, ±HH:MM or ±HHMM (ISO 8601); a time without one is ambiguous.
OFFSET = r"(?:[Zz]|[+-]\d\d:?\d\d)$"
NOTE_MAX = 500
# How many refused lines one answer lists (the first ones, in file order).
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str


class EventFileError(Exception):
    """The file cannot be read, or rows of it were refused (each with its line)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"line {p.line}: {p.message}" for p in problems))
        self.problems = problems


def detect_format(data: bytes, name: str = "") -> str:
    lowered = name.lower()
    if lowered.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "jsonl" if head == b"{" else "csv"


# A CSV batch: the services check and send one batch while the server stores the one
# before (about 55,000 rows of a typical file), so that reading and storing overlap.
BATCH_BYTES = 4 << 20


@dataclass(frozen=True)
class _Source:
    """A file as its column names (as written), its rows batch by batch, and the line of a
    row (numbered from 0 in file order)."""

    columns: list[str]
    frames: Iterator[pd.DataFrame]
    line_of: Callable[[int], int]


def _csv_source(data: bytes) -> _Source:
    # pyarrow's streaming reader: columns straight into Arrow strings, which the checks work
    # on in C++, batch by batch (pandas' own reader made Python strings first).
    # Lines of spaces are blank lines (skipped): emptied for the reader, which skips only
    # empty ones; the line numbers are counted on the file as given.
    text = data.removeprefix(b"\xef\xbb\xbf")
    if b"\n " in text or b"\n\t" in text:  # a cheap test first: the regex takes a while
        text = _SPACES_LINE.sub(b"", text)
    names: list[str] = []
    try:
        end = text.find(b"\n")
        header = text[: end if end >= 0 else len(text)].decode("utf-8").rstrip("\r")
        names = next(csv.reader([header]), [])
        reader = _arrow_csv(text, names, parse=pa_csv.ParseOptions())
        columns = reader.schema.names
    except (pa.ArrowInvalid, UnicodeDecodeError):
        raise EventFileError(_ragged_rows(data, text, names)) from None

    def frames() -> Iterator[pd.DataFrame]:
        try:
            for batch in reader:
                yield batch.to_pandas(types_mapper=_AS_ARROW_STRINGS.get)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            raise EventFileError(_ragged_rows(data, text, names)) from None

    non_blank: list[np.ndarray] = []  # found only when a row is refused

    def line_of(row: int) -> int:
        if not non_blank:
            non_blank.append(_non_blank_lines(data))
        return int(non_blank[0][row + 1])  # the header's line first

    return _Source(columns, frames(), line_of)


_AS_ARROW_STRINGS = {pa.string(): pd.StringDtype("pyarrow")}
_SPACES_LINE = re.compile(rb"(?m)^[ \t]+(?=\r?$)")


def _arrow_csv(
    text: bytes, names: list[str], *, parse: pa_csv.ParseOptions
) -> pa_csv.CSVStreamingReader:
    return pa_csv.open_csv(
        io.BytesIO(text),
        read_options=pa_csv.ReadOptions(
            use_threads=parse.invalid_row_handler is None, block_size=BATCH_BYTES
        ),
        parse_options=parse,
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )


def _ragged_rows(data: bytes, text: bytes, names: list[str]) -> list[Problem]:
    """Why the reader refused the file: rows with more or fewer fields than the header,
    each with its line (found again in one thread, which numbers them), or else that it is
    not CSV at all."""
    ragged: list[int] = []

    def note(row: pa_csv.InvalidRow) -> str:
        ragged.append(int(row.number or 0))
        return "skip"

    try:
        _arrow_csv(text, names, parse=pa_csv.ParseOptions(invalid_row_handler=note)).read_all()
    except (pa.ArrowInvalid, UnicodeDecodeError):
        ragged = []
    if not ragged or not names:
        return [Problem(1, "file", "not a readable CSV file")]
    # The reader numbers non-blank lines from the header, 1.
    non_blank = _non_blank_lines(data)
    return [
        Problem(int(non_blank[number - 1]), "file", "the row does not have the header's fields")
        for number in ragged[:MAX_PROBLEMS]
    ]


def _non_blank_lines(data: bytes) -> np.ndarray:
    """The numbers of the lines that are not blank (the header's first)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == ord("\n"))
    starts = np.r_[0, newlines + 1]
    ends = np.r_[newlines, len(raw)]
    blank = _blank_lines(raw, starts, ends)
    numbers: np.ndarray = np.flatnonzero(~blank) + 1
    return numbers


def _blank_lines(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which lines hold nothing but whitespace, vectorised for large files."""
    space = np.isin(raw, np.frombuffer(b" \t\r", dtype=np.uint8))
    non_space = np.r_[0, np.cumsum(~space)]
    blank: np.ndarray = (non_space[ends] - non_space[starts]) == 0
    return blank


def _jsonl_source(data: bytes) -> _Source:
    records: list[dict[str, object]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EventFileError([Problem(1, "file", "not UTF-8 text")]) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(Problem(number, "file", "not a JSON object"))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(number, "file", "not a JSON object"))
            continue
        # Each object is checked for its own keys, so a refusal names its line (a key
        # unknown or missing in line 40 is not "line 1", the CSV header's line).
        keys = {str(key).strip().lower() for key in record}
        problems += [Problem(number, key, "missing column") for key in REQUIRED if key not in keys]
        problems += [
            Problem(number, key, "unknown column") for key in sorted(keys - _KNOWN_COLUMNS)
        ]
        records.append(record)
        lines.append(number)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise EventFileError(problems[:MAX_PROBLEMS])
    frame = pd.DataFrame.from_records(records)
    # A key missing from a record is NaN in the frame: read as an empty field, as in CSV.
    frame = frame.astype(object).where(frame.notna(), "")
    for column in frame.columns:
        frame[column] = frame[column].map(str)
    return _Source([str(c) for c in frame.columns], iter([frame]), lines.__getitem__)


def read_event_batches(
    data: bytes,
    *,
    fmt: str,
    vehicles: Mapping[str, int],
    normalise_vin: Callable[[str], str] = str.upper,
) -> Iterator[pd.DataFrame]:
    """The file's rows, checked, batch by batch in file order, each a frame of columns
    vehicle_id, at (UTC), type, initiator, lat, lon, note.

    `vehicles` maps the VINs (as `normalise_vin` writes them) the importer may use to
    vehicle ids. A batch comes only when every row up to its end is good, so a caller may
    store each as it comes, in one transaction: when a row is refused, the rest of the
    file is still read for the first MAX_PROBLEMS refused lines, then EventFileError names
    them, and the caller undoes what it stored.
    """
    source = _jsonl_source(data) if fmt == "jsonl" else _csv_source(data)
    columns = [c.strip().lower() for c in source.columns]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise EventFileError([Problem(1, c, "missing column") for c in missing])
    unknown = sorted(set(columns) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise EventFileError([Problem(1, unknown[0], "unknown column")])
    rows = 0
    problems: list[Problem] = []
    for frame in source.frames:
        frame.columns = columns
        checked, refused = _checked(frame, vehicles=vehicles, normalise_vin=normalise_vin)
        problems += [
            Problem(source.line_of(rows + row), field, message)
            for row, field, message in refused[: MAX_PROBLEMS - len(problems)]
        ]
        if not problems:
            yield checked
        elif len(problems) == MAX_PROBLEMS:
            break
        rows += len(frame)
    if problems:
        raise EventFileError(problems)
    if rows == 0:
        raise EventFileError([Problem(1, "file", "the file has no events")])


def read_events(
    data: bytes,
    *,
    fmt: str,
    vehicles: Mapping[str, int],
    normalise_vin: Callable[[str], str] = str.upper,
) -> pd.DataFrame:
    """The whole file's rows in one frame, as `read_event_batches` gives them."""
    batches = read_event_batches(data, fmt=fmt, vehicles=vehicles, normalise_vin=normalise_vin)
    return pd.concat(list(batches), ignore_index=True)


def _checked(
    frame: pd.DataFrame, *, vehicles: Mapping[str, int], normalise_vin: Callable[[str], str]
) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """The rows read, and the first MAX_PROBLEMS refused ones (row, field, message)."""
    n = len(frame)
    bad: dict[str, tuple[np.ndarray, str]] = {}
    time_text = frame["time"].str.strip()
    at = pd.to_datetime(time_text, format="ISO8601", utc=True, errors="coerce")
    bad["time"] = (
        (at.isna() | ~time_text.str.contains(OFFSET, regex=True)).to_numpy(),
        "the time is not ISO 8601 with an offset",
    )
    # Few distinct values in many rows: each is normalised and checked once.
    vehicle = _by_distinct(frame["vin"], lambda v: vehicles.get(normalise_vin(v.strip())))
    bad["vin"] = (vehicle == MISSING, "no such vehicle")
    event = _categorical(frame["event"], EVENT_TYPES)
    bad["event"] = (event.codes < 0, "unknown event")
    initiator = _categorical(frame["initiator"], INITIATORS)
    bad["initiator"] = (initiator.codes < 0, "unknown initiator")
    lat, lon = _place(frame, bad)
    note = frame["note"].str.strip() if "note" in frame.columns else pd.Series([""] * n)
    bad["note"] = ((note.str.len() > NOTE_MAX).to_numpy(), "the note is too long")

    any_bad = np.zeros(n, dtype=bool)
    for mask, _message in bad.values():
        any_bad |= mask
    refused = []
    for row in np.flatnonzero(any_bad)[:MAX_PROBLEMS]:
        field, message = next((f, m) for f, (mask, m) in bad.items() if mask[row])
        refused.append((int(row), field, message))
    if refused:
        return frame, refused
    checked = pd.DataFrame(
        {
            "vehicle_id": vehicle.astype(np.int64),
            # Aware, to the microsecond (what PostgreSQL and Django keep): to_numpy would make
            # objects of them.
            "at": at.dt.as_unit("us").reset_index(drop=True),
            "type": event,
            "initiator": initiator,
            "lat": lat,
            "lon": lon,
            "note": note.reset_index(drop=True),
        }
    )
    return checked, []


MISSING = object()


def _by_distinct(column: pd.Series, convert: Callable[[str], object]) -> np.ndarray:
    """`convert` applied to each distinct value once, spread back over the rows as an object
    array; MISSING where it answered None."""
    codes, distinct = pd.factorize(column)
    converted = [convert(str(value)) for value in distinct]
    table = np.array([MISSING if v is None else v for v in converted], dtype=object)
    result: np.ndarray = table[codes]
    return result


def _categorical(column: pd.Series, allowed: tuple[str, ...]) -> pd.Categorical:
    """The column as a categorical of `allowed` (code -1 where a value is not allowed), each
    distinct value normalised once."""
    codes, distinct = pd.factorize(column)
    lookup = np.array(
        [
            allowed.index(v) if v in allowed else -1
            for v in (str(d).strip().lower() for d in distinct)
        ],
        dtype=np.int64,
    )
    values = lookup[codes] if len(distinct) else np.full(len(codes), -1, dtype=np.int64)
    return pd.Categorical.from_codes(values, categories=list(allowed))


def _place(
    frame: pd.DataFrame, bad: dict[str, tuple[np.ndarray, str]]
) -> tuple[np.ndarray, np.ndarray]:
    n = len(frame)
    if "lat" not in frame.columns and "lon" not in frame.columns:
        return np.full(n, np.nan), np.full(n, np.nan)
    empty = pd.Series([""] * n, index=frame.index)
    lat_text = (frame["lat"] if "lat" in frame.columns else empty).str.strip()
    lon_text = (frame["lon"] if "lon" in frame.columns else empty).str.strip()
    lat, lon = _numbers(lat_text), _numbers(lon_text)
    given = (lat_text != "").to_numpy() | (lon_text != "").to_numpy()
    with np.errstate(invalid="ignore"):
        impossible = given & (
            np.isnan(lat) | np.isnan(lon) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
        )
    bad["lat"] = (impossible, "the place is not a latitude and longitude")
    return np.where(given, lat, np.nan), np.where(given, lon, np.nan)


def _numbers(text: pd.Series) -> np.ndarray:
    """Text as float64, NaN where empty or not a number: Arrow's cast (C++) when every value
    is a number or empty, as in any file that will be accepted; pandas' coercion, value by
    value in Python, only when some are not (and the file will be refused)."""
    arrow = pa.array(text, type=pa.string())
    try:
        cast = pc.cast(pc.if_else(pc.equal(arrow, ""), None, arrow), pa.float64())
        numbers: np.ndarray = cast.to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    return numbers


def read_message(payload: bytes) -> dict[str, object]:
    """One live message (a JSON object with the CSV's fields) as a record for `read_events`."""
    record = json.loads(payload.decode("utf-8"))
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return record
