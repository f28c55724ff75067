"""Real device recordings (../shared/real-traces): what each one parses to and how it fares.

The figures were read off this implementation and checked for sense against each file's
README line (fix counts against `<trkpt>`/RMC counts, known gaps, sentinel times...); a
change in any of them is a change in behaviour to look at.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import shapely

from core.geo import to_metric
from routes.zones import Zone, ZoneInterval
from tests.trips.params import params
from trips.parsers import parse
from trips.verification.verify import STEP_TAGS, verify

# ../shared/real-traces beside the clone, or beside the folder of worktrees holding it.
REAL = next(
    (
        p / "shared" / "real-traces"
        for p in Path(__file__).resolve().parents[2].parents
        if (p / "shared" / "real-traces").is_dir()
    ),
    Path("shared/real-traces"),
)
NOW = datetime(2026, 11, 27, tzinfo=UTC)
ALWAYS = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))

pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason="../shared/real-traces not beside the clone"
)

# file, fixes parsed, parser notes, outcome, fixes used, total metres, verification reasons
# (with no zones and no permit, so every autonomous metre is "not_permitted").
CASES = [
    ("gpsd__beidou-gb.log", 2, [], "accepted", 2, 6.4, ["not_permitted"]),
    (
        "gpsd__bundg_zeus_9.log",
        147,
        ["nmea_repeated_epoch", "nmea_no_date"],
        "accepted",
        147,
        522.0,
        ["not_permitted"],
    ),
    (
        "gpsd__nl2008u.log",
        9,
        [],
        "needs_review",
        9,
        24.8,
        ["gap", "stationary_jitter", "not_permitted", "long_gap", "many_gaps"],
    ),
    ("gpxpy__Mojstrovka.gpx", 184, [], "rejected", 0, 0.0, ["time_implausible"]),
    (
        "gpxpy__korita-zbevnica.gpx",
        513,
        ["untimed_points"],
        "needs_review",
        513,
        3057.6,
        ["gap", "not_permitted", "long_gap", "many_gaps"],
    ),
    (
        "movingpandas__304_to_UL_2019-02-18_0745.gpx",
        2144,
        [],
        "needs_review",
        2144,
        16245.2,
        ["gap", "stationary_jitter", "not_permitted", "many_gaps"],
    ),
    ("togeojson__blue_hills.gpx", 1243, [], "rejected", 0, 0.0, ["time_backwards"]),
    ("togeojson__multitrackgpx.gpx", 5235, [], "rejected", 0, 0.0, ["too_long"]),
    ("togeojson__osm.gpx", 2395, ["untimed_points"], "rejected", 0, 0.0, ["too_long"]),
]


def read(name: str) -> bytes:
    return (REAL / name).read_bytes()


def test_every_real_trace_is_pinned() -> None:
    files = {p.name for p in REAL.iterdir() if p.name != "README.md"}
    assert files == {case[0] for case in CASES}


@pytest.mark.parametrize(("name", "fixes", "notes", "outcome", "used", "total_m", "codes"), CASES)
def test_real_trace_parses_and_verifies_as_pinned(  # noqa: PLR0917 - parametrised columns
    name: str,
    fixes: int,
    notes: list[str],
    outcome: str,
    used: int,
    total_m: float,
    codes: list[str],
) -> None:
    trace = parse(read(name))
    assert len(trace) == fixes
    assert [n.code for n in trace.notes] == notes
    result = verify(
        trace,
        crs="wgs84",
        default_auto=True,
        zones=[],
        permit=None,
        eligible_from=None,
        params=params(),
        now=NOW,
    )
    assert result.outcome == outcome
    assert result.points_used == used
    assert result.total_m == pytest.approx(total_m, abs=0.1)
    assert [r.code for r in result.reasons if r.code not in notes] == codes


def test_blue_hills_tracks_out_of_time_order_are_rejected_at_the_line() -> None:
    result = verify(
        parse(read("togeojson__blue_hills.gpx")),
        crs="wgs84",
        default_auto=True,
        zones=[],
        permit=None,
        eligible_from=None,
        params=params(),
        now=NOW,
    )
    assert [(r.code, r.line) for r in result.reasons] == [("time_backwards", 5258)]


def test_the_bus_drive_moved_to_yangquan_is_cut_by_a_zone_exactly() -> None:
    # Shift the Limerick bus drive onto Yangquan (constant lat/lon offset) and approve a
    # box over the western half of it. The eligible metres must equal an independent
    # shapely intersection of the steps the verifier credited.
    trace = parse(read("movingpandas__304_to_UL_2019-02-18_0745.gpx"))
    trace.lon = trace.lon + (113.58 - trace.lon.mean())
    trace.lat = trace.lat + (37.86 - trace.lat.mean())
    x, y = to_metric(trace.lon, trace.lat, "EPSG:4547")
    west = shapely.box(x.min() - 100, y.min() - 100, float(np.median(x)), y.max() + 100)
    result = verify(
        trace,
        crs="wgs84",
        default_auto=True,
        zones=[ZoneInterval(None, None, (Zone(7, west),))],
        permit=ALWAYS,
        eligible_from=ALWAYS[0],
        params=params(),
        now=NOW,
    )
    kx, ky = to_metric(result.lon, result.lat, "EPSG:4547")
    credited = np.isin(
        result.step_tag, [STEP_TAGS.index("eligible"), STEP_TAGS.index("outside_zone")]
    )
    steps = shapely.linestrings(
        np.stack([np.stack([kx[:-1], ky[:-1]], 1), np.stack([kx[1:], ky[1:]], 1)], 1)[credited]
    )
    expected = float(shapely.length(shapely.intersection(steps, west)).sum())
    assert result.eligible_m == pytest.approx(expected, abs=1e-6)
    assert result.segment_m == {7: pytest.approx(expected, abs=1e-6)}
    # The shift changes the metres (a degree of longitude is wider at 37.9° than at 52.6°).
    assert result.total_m == pytest.approx(16008.7, abs=0.1)
    assert result.eligible_m == pytest.approx(7389.3, abs=0.1)
