"""Parsing every format, and refusing what cannot be used with the line and the reason."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trips.parsers import TraceError, detect_format, parse

# 2026-01-01T08:00:00+08:00 is 2026-01-01T00:00:00Z = 1767225600 s.
T = 1_767_225_600 * 10**9
CSV = (
    b"timestamp,lat,lon,mode,speed_kmh\n"
    b"2026-01-01T08:00:00+08:00,37.86,113.58,auto,36\n"
    b"2026-01-01T00:00:01.5Z,37.8601,113.58,manual,36\n"
)


def refused(data: bytes, fmt: str | None = None) -> TraceError:
    with pytest.raises(TraceError) as info:
        parse(data, fmt=fmt)
    return info.value


def test_csv_with_iso_offsets_gives_utc_nanoseconds_and_modes() -> None:
    trace = parse(CSV)
    assert trace.format == "csv"
    assert trace.t_ns.tolist() == [T, T + 1_500_000_000]
    assert trace.lat.tolist() == [37.86, 37.8601]
    assert trace.auto is not None
    assert trace.auto.tolist() == [True, False]
    assert [trace.line_of(0), trace.line_of(1)] == [2, 3]


@pytest.mark.parametrize(
    ("stamps", "expected_s"),
    [(b"1767225600,1767225601", [0, 1]), (b"1767225600000,1767225600100", [0, 0.1])],
)
def test_csv_epoch_seconds_or_milliseconds_are_told_apart_by_size(
    stamps: bytes, expected_s: list[float]
) -> None:
    first, second = stamps.split(b",")
    data = b"timestamp,lat,lon,mode\n%s,37.86,113.58,auto\n%s,37.86,113.58,auto\n" % (
        first,
        second,
    )
    assert ((parse(data).t_ns - T) / 1e9).tolist() == expected_s


def test_csv_without_mode_leaves_the_mode_to_the_upload() -> None:
    trace = parse(b"timestamp,lat,lon\n1767225600,37.86,113.58\n")
    assert trace.auto is None


def test_csv_odometer_column_is_read() -> None:
    data = (
        b"timestamp,lat,lon,odometer_km\n1767225600,37.86,113.58,100.5\n1767225601,37.86,113.58,\n"
    )
    odometer = parse(data).odometer_km
    assert odometer is not None
    assert odometer[0] == 100.5
    assert np.isnan(odometer[1])


def test_csv_header_with_spaces_and_capitals_and_a_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbfTimestamp, Lat , Lon,Mode\n1767225600,37.86,113.58,AUTO\n"
    assert parse(data).auto.tolist() == [True]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "code", "line"),
    [
        (b"time,lat,lon\n1767225600,37.86,113.58\n", "missing_column", 1),
        (
            b"timestamp,lat,lon\n2026-01-01T08:00:00+08:00,37.86,113.58\n"
            b"2026-01-01T08:00:01,37.86,113.58\n",
            "timestamp_no_offset",
            3,
        ),
        (
            b"timestamp,lat,lon\n2026-01-01T08:00:00+08:00,37.86,113.58\nyesterday,37.86,113.58\n",
            "timestamp_invalid",
            3,
        ),
        (b"timestamp,lat,lon\n1767225600,37.86,113.58\n1767225601,,113.58\n", "missing_value", 3),
        (
            b"timestamp,lat,lon\n1767225600,37.86,113.58\n1767225601,north,113.58\n",
            "not_a_number",
            3,
        ),
        (b"timestamp,lat,lon\n1767225600,97.86,113.58\n", "coordinates_impossible", 2),
        (b"timestamp,lat,lon,mode\n1767225600,37.86,113.58,autopilot\n", "mode_invalid", 2),
        (b"timestamp,lat,lon\n1767225600,37.86,113.58,5\n", "csv_columns", 2),
        ("timestamp,lat,lon,备注\n1767225600,37.86,113.58,自动驾驶\n".encode("gbk"), "encoding", 1),
    ],
)
def test_unusable_csv_is_refused_with_its_line(data: bytes, code: str, line: int) -> None:
    error = refused(data)
    assert (error.code, error.line) == (code, line)
    assert error.message


def _rows(count: int, *, stamp: str = "epoch_ms", note: str = "") -> bytes:
    """`count` CSV rows a tenth of a second apart from T, with an extra `note` column."""
    lines = [b"timestamp,lat,lon,mode,note,odometer_km"]
    for i in range(count):
        when = T // 10**6 + 100 * i if stamp == "epoch_ms" else f"2026-01-01T00:00:{i / 10:09.6f}Z"
        mode = "auto" if i % 3 else "manual"
        lines.append(f"{when},{37.86 + i * 1e-6:.7f},113.58,{mode},{note or i},{i / 1000}".encode())
    return b"\n".join(lines) + b"\n"


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """CSV read in 1 kB blocks: a few hundred rows make many blocks."""
    monkeypatch.setattr("trips.parsers.csv._CSV_BLOCK", 1024)


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize("stamp", ["epoch_ms", "iso"])
def test_csv_read_in_blocks_gives_the_same_fixes_as_one_table(stamp: str) -> None:
    data = _rows(500, stamp=stamp)
    trace = parse(data)
    # 500 fixes 0.1 s apart from T; lat grows by 1e-6 a row; every third is manual.
    assert ((trace.t_ns - T) // 10**8).tolist() == list(range(500))
    assert trace.lat.tolist() == [round(37.86 + i * 1e-6, 7) for i in range(500)]
    assert trace.auto is not None
    assert trace.auto.tolist() == [bool(i % 3) for i in range(500)]
    assert trace.odometer_km is not None
    assert trace.odometer_km.tolist() == [i / 1000 for i in range(500)]
    assert [trace.line_of(0), trace.line_of(499)] == [2, 501]


@pytest.mark.usefixtures("small_blocks")
def test_csv_whose_first_block_has_long_lines_keeps_every_later_row() -> None:
    # The columns are sized from the first block's rows per byte: long first lines make
    # that guess far too small, and the columns must grow.
    rows = _rows(600).split(b"\n")
    for i in range(1, 21):
        rows[i] = rows[i].replace(b",auto,", b",auto,%s," % (b"x" * 200))
        rows[i] = rows[i].replace(b",manual,", b",manual,%s," % (b"x" * 200))
        rows[i] = rows[i].replace(b",%d," % (i - 1), b",", 1)
    trace = parse(b"\n".join(rows))
    assert len(trace) == 600
    assert ((trace.t_ns - T) // 10**8).tolist() == list(range(600))
    assert trace.odometer_km is not None
    assert trace.odometer_km[-1] == 0.599


@pytest.mark.usefixtures("small_blocks")
def test_epoch_unit_is_decided_once_for_the_whole_file_not_per_block() -> None:
    # Milliseconds from the first value on: the later blocks, all of whose values are small
    # (1e10 ms and up, in 1970: seconds if read on their own), stay milliseconds.
    rows = _rows(300).split(b"\n")
    for i in range(151, 301):  # fixes 150 to 299
        rows[i] = b"%d" % (10**10 + i) + rows[i][rows[i].index(b",") :]
    trace = parse(b"\n".join(rows))
    assert int(trace.t_ns[299]) == (10**10 + 300) * 10**6


@pytest.mark.usefixtures("small_blocks")
@pytest.mark.parametrize(
    ("row", "replace", "code"),
    [
        (b"2026-01-01T08:00:00", b"", "timestamp_no_offset"),
        (b"yesterday", b"", "timestamp_invalid"),
        (b"", b"37.86", "missing_value"),
        (b"", b"north", "not_a_number"),
        (b"", b"97.86", "coordinates_impossible"),
        (b"", b"37.86,1", "csv_columns"),
    ],
)
def test_a_bad_row_in_a_later_block_is_refused_with_its_line(
    row: bytes, replace: bytes, code: str
) -> None:
    lines = _rows(400, stamp="iso").split(b"\n")
    stamp, lat, rest = lines[351].split(b",", 2)
    if row:
        stamp = row
    if code == "missing_value":
        lat = b""
    elif replace != b"37.86":
        lat = replace
    lines[351] = b",".join((stamp, lat, rest))
    error = refused(b"\n".join(lines))
    assert (error.code, error.line) == (code, 352)


@pytest.mark.usefixtures("small_blocks")
def test_columns_that_are_not_read_are_not_converted() -> None:
    # A column of numbers in the first blocks and text later would fail the reader's type
    # guess; columns the trip does not use are skipped unread.
    rows = _rows(300, note="7").split(b"\n")
    rows[280] = rows[280].replace(b",7,", b",a note,")
    assert len(parse(b"\n".join(rows))) == 300


def test_binary_garbage_is_refused() -> None:
    assert refused(b"PK\x03\x04\x00\x00garbage").code in {"binary", "unknown_format"}
    assert refused(b"timestamp,lat,lon\n\x00\x01", fmt="csv").code == "binary"


def test_a_fix_at_zero_zero_is_dropped_as_a_placeholder() -> None:
    trace = parse(b"timestamp,lat,lon\n1767225600,0,0\n1767225601,37.86,113.58\n")
    assert len(trace) == 1
    assert [(n.code, n.count, n.line) for n in trace.notes] == [("null_island", 1, 2)]


def test_too_many_points_is_refused() -> None:
    assert refused_max(CSV, 1).code == "too_many_points"


def refused_max(data: bytes, max_points: int) -> TraceError:
    with pytest.raises(TraceError) as info:
        parse(data, max_points=max_points)
    return info.value


GPX = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><trkseg>
    <trkpt lat="37.86" lon="113.58"><time>2026-01-01T00:00:00Z</time></trkpt>
    <trkpt lat="37.8601" lon="113.58"><time>2026-01-01T00:00:01.0000001Z</time></trkpt>
  </trkseg><trkseg>
    <trkpt lat="37.8602" lon="113.58"></trkpt>
    <trkpt lat="37.8603" lon="113.58"><time>2026-01-01T00:00:03</time></trkpt>
  </trkseg></trk>
</gpx>
"""


def test_gpx_track_points_with_time_are_read_and_untimed_ones_reported() -> None:
    trace = parse(GPX)
    assert trace.format == "gpx"
    # 7-digit fractions keep their 100 ns; a time without a zone is UTC in GPX.
    assert (trace.t_ns - T).tolist() == [0, 1_000_000_100, 3_000_000_000]
    assert trace.auto is None
    assert trace.line is not None
    assert trace.line.tolist() == [4, 5, 8]
    assert [(n.code, n.count, n.line) for n in trace.notes] == [("untimed_points", 1, 7)]


def test_gpx_with_entity_declarations_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;">]><gpx>&b;</gpx>'
    )
    assert refused(bomb).code == "xml_forbidden"


def test_broken_xml_is_refused_with_its_line() -> None:
    error = refused(b'<gpx version="1.1">\n<trk>\n<trkpt lat="1" lon="2">\n</gpx>\n')
    assert (error.code, error.line) == ("xml_invalid", 4)


def geojson(features: list[dict[str, object]]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def point(lon: float, lat: float, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def test_geojson_point_features_with_timestamp_and_mode() -> None:
    data = geojson(
        [
            point(113.58, 37.86, timestamp="2026-01-01T08:00:00+08:00", mode="auto"),
            point(113.58, 37.8601, timestamp="2026-01-01T08:00:01+08:00", mode="manual"),
        ]
    )
    trace = parse(data)
    assert (trace.format, trace.t_ns.tolist()) == ("geojson", [T, T + 10**9])
    assert trace.auto is not None
    assert trace.auto.tolist() == [True, False]


def test_geojson_line_features_are_refused_with_the_feature_number() -> None:
    line: dict[str, object] = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": []},
    }
    error = refused(geojson([point(113.58, 37.86, timestamp=1767225600), line]))
    assert (error.code, error.line) == ("geojson_not_point", 2)


def nmea(body: str) -> str:
    checksum = 0
    for char in body:
        checksum ^= ord(char)
    return f"${body}*{checksum:02X}"


def test_nmea_rmc_and_gga_of_one_epoch_make_one_fix_from_any_talker() -> None:
    lines = [
        "# comment",
        nmea("GNRMC,000000.00,A,3751.6000,N,11334.8000,E,0.0,0.0,010126,,,A"),
        nmea("GNGGA,000000.00,3751.6000,N,11334.8000,E,1,12,0.8,800.0,M,0.0,M,,"),
        nmea("BDGGA,000001.00,3751.6060,N,11334.8000,E,1,12,0.8,800.0,M,0.0,M,,"),
        nmea("GBRMC,000002.00,V,,,,,,,010126,,,N"),
        nmea("GPRMC,000003.00,A,3751.6120,S,11334.8000,W,0.0,0.0,010126,,,A")[:-2] + "00",
    ]
    trace = parse(("\r\n".join(lines) + "\r\n").encode())
    assert trace.format == "nmea"
    # 37°51.6' = 37.86°, 113°34.8' = 113.58°; the GGA at 00:00:01 takes the RMC's date.
    assert trace.t_ns.tolist() == [T, T + 10**9]
    assert trace.lat.tolist() == pytest.approx([37.86, 37.8601])
    assert trace.lon.tolist() == pytest.approx([113.58, 113.58])
    assert trace.line is not None
    assert trace.line.tolist() == [2, 4]
    assert [(n.code, n.count, n.line) for n in trace.notes] == [("nmea_bad_checksum", 1, 6)]


def test_nmea_gga_after_midnight_rolls_the_date_over() -> None:
    lines = [
        nmea("GPRMC,235959.00,A,3751.6000,N,11334.8000,E,0.0,0.0,311225,,,A"),
        nmea("GPGGA,000000.00,3751.6000,N,11334.8000,E,1,12,0.8,800.0,M,0.0,M,,"),
    ]
    trace = parse("\n".join(lines).encode())
    assert trace.t_ns.tolist() == [T - 10**9, T]


def parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_parquet_with_utc_timestamps_is_read() -> None:
    data = parquet(
        pa.table(
            {
                "timestamp": pa.array([T, T + 10**8], pa.timestamp("ns", tz="UTC")),
                "lat": [37.86, 37.8601],
                "lon": [113.58, 113.58],
                "mode": ["auto", "manual"],
            }
        )
    )
    assert detect_format(data) == "parquet"
    trace = parse(data)
    assert trace.t_ns.tolist() == [T, T + 10**8]
    assert trace.auto is not None
    assert trace.auto.tolist() == [True, False]


def test_parquet_with_naive_timestamps_is_refused() -> None:
    data = parquet(
        pa.table({"timestamp": pa.array([T], pa.timestamp("ns")), "lat": [37.86], "lon": [113.5]})
    )
    assert refused(data).code == "timestamp_no_offset"


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (CSV, "csv"),
        (GPX, "gpx"),
        (b'{"type": "FeatureCollection", "features": []}', "geojson"),
        (b"# log\n$GPRMC,000000,V,,,,,,,010126,,,N*00\n", "nmea"),
        (b"hello world", None),
    ],
)
def test_format_is_detected_from_content(data: bytes, fmt: str | None) -> None:
    assert detect_format(data) == fmt


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (b"1767225600200.5", "not a whole number like the first row's"),
        (b"inf", "neither ISO 8601"),
        (b"yesterday", "neither ISO 8601"),
    ],
)
def test_a_bad_epoch_timestamp_on_line_4_is_refused_on_line_4_as_written(
    bad: bytes, words: str
) -> None:
    # Lines 2 and 3 are whole milliseconds, so the reader types the column as integers and
    # line 4 fails it. The bad value is then looked for in the column re-read as text: left
    # to its own type guess, the reader made it floats, line 2 came back as
    # "1.7672256e+12", and line 2 was blamed for line 4's value.
    data = (
        b"timestamp,lat,lon\n1767225600000,37.86,113.58\n1767225600100,37.86,113.58\n"
        + bad
        + b",37.86,113.58\n"
    )
    error = refused(data)
    assert (error.code, error.line) == ("timestamp_invalid", 4)
    assert repr(bad.decode()) in error.message
    assert words in error.message


def test_a_text_timestamp_among_epoch_numbers_in_geojson_names_its_own_feature() -> None:
    features = [point(113.58, 37.86, timestamp=1767225600 + i) for i in range(3)]
    error = refused(geojson([*features, point(113.58, 37.86, timestamp="yesterday")]))
    assert (error.code, error.line) == ("timestamp_invalid", 4)
    assert "'yesterday'" in error.message


def test_impossible_coordinates_are_told_as_plain_numbers() -> None:
    data = (
        b"timestamp,lat,lon\n1767225600,37.86,113.58\n1767225601,37.86,113.58\n"
        b"1767225602,inf,113.58\n"
    )
    error = refused(data)
    assert (error.code, error.line) == ("coordinates_impossible", 4)
    assert error.message == "Impossible coordinates lat=inf, lon=113.58."
