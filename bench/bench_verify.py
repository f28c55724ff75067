"""Trace verification benchmark: prints its figures (run by hand, not a timed test).

    .venv/bin/pip install -r requirements-bench.txt   # MovingPandas, bench only
    .venv/bin/python bench/bench_verify.py [--points 1000000] [--mp-points 100000]

A generated 10 Hz trace (time-correlated noise, jumps, gaps, stops, mode switches) drives
along and between 40 approved road corridors near Yangquan. For CSV and Parquet, fresh
subprocesses measure reading the file alone with pyarrow (the floor), then parse + clean +
measure + in-zone end to end (the first run, which also builds the zone indexes a worker
keeps between trips, apart; then the best of the others, by wall clock and by CPU time),
each with its peak memory (VmHWM; as in a worker, the file's bytes are released once
parsed). Then MovingPandas does the same job on the first --mp-points fixes, and a simple
per-point reference implementation of the same rules recomputes total / autonomous /
in-zone metres, which must agree to 0.01 %.
"""

from __future__ import annotations

import argparse
import bisect
import ctypes
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely
from shapely import LineString

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.geo import to_metric
from routes.zones import Zone, ZoneInterval
from tests.trips.tracegen import Leg, generate, to_csv, to_parquet
from trips.parsers import ParsedTrace, parse
from trips.verification.verify import VerifyParams, verify

CRS = "EPSG:4547"
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
PERMIT = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
# 1M fixes at 10 Hz are 27.8 hours: the bench lifts the one-day limit, nothing else.
OVERRIDES = {"max_duration_s": 30 * 3600}
# As a worker does after each trip (trips.tasks.release_free_memory): the C heap's free
# pages go back to the OS, so that one trip's peak is measured, not two trips' on top.
_MALLOC_TRIM = getattr(ctypes.CDLL(None), "malloc_trim", None) if sys.platform == "linux" else None


def corridors(rng: np.random.Generator) -> tuple[list[LineString], list[Zone]]:
    """40 winding roads of ~5 km in a 20 km square around Yangquan, 10–15 m half-width."""
    x0, y0 = (float(v[0]) for v in to_metric(np.array([113.58]), np.array([37.86]), CRS))
    roads, zones = [], []
    for k in range(40):
        x, y = x0 + rng.uniform(-8_000, 8_000), y0 + rng.uniform(-8_000, 8_000)
        heading = rng.uniform(0, 2 * np.pi)
        pts = [(x, y)]
        for _ in range(100):
            heading += rng.normal(0, 0.08)
            x, y = x + 50 * np.cos(heading), y + 50 * np.sin(heading)
            pts.append((x, y))
        road = LineString(pts)
        roads.append(road)
        zones.append(Zone(k + 1, road.buffer(rng.uniform(10, 15), cap_style="flat")))
    return roads, zones


def route(
    roads: list[LineString], points: int, rng: np.random.Generator
) -> tuple[LineString, list[Leg]]:
    """Drive road after road (joined by straight links outside the corridors) until enough."""
    coords: list[tuple[float, float]] = []
    legs: list[Leg] = []
    seconds = 0.0
    here = roads[0].coords[0]
    while seconds * 10 < points:
        # The nearest road end from here (not the same road twice running), so that the
        # manual links between roads stay short, as a real route's would.
        ends = [(r.coords[0], r, False) for r in roads] + [(r.coords[-1], r, True) for r in roads]
        ends.sort(key=lambda e: (e[0][0] - here[0]) ** 2 + (e[0][1] - here[1]) ** 2)
        pick = int(rng.integers(1, 6))
        _, road, reverse = ends[pick]
        part = list(road.coords)
        if reverse:
            part.reverse()
        link = LineString([coords[-1], part[0]]) if coords else None
        coords.extend(part)
        here = part[-1]
        for length, auto in ((link.length if link else 0.0, False), (road.length, True)):
            remaining = length
            while remaining > 1:
                drive = min(remaining, rng.uniform(300, 2000))
                speed = rng.uniform(20, 60)
                legs.append(Leg(metres=drive, speed_kmh=speed, auto=auto and rng.random() > 0.1))
                seconds += drive / (speed / 3.6)
                remaining -= drive
                if rng.random() < 0.3:
                    stop = rng.uniform(20, 120)
                    legs.append(Leg(seconds=stop, auto=auto))
                    seconds += stop
    return LineString(coords), legs


def make_files(folder: Path, points: int, mp_points: int) -> dict[str, Path]:
    rng = np.random.default_rng(42)
    roads, zones = corridors(rng)
    # Gaps remove fixes (~7 %): drive longer and cut at exactly `points`.
    path, legs = route(roads, int(points * 1.15), rng)
    trace = generate(
        path,
        legs,
        start=START,
        hz=10,
        noise_m=3.0,
        jumps=points // 1000,
        gaps=points // 5000,
        seed=7,
    )
    for name in ("t_ns", "x", "y", "auto", "true_x", "true_y"):
        setattr(trace, name, getattr(trace, name)[:points])
    if trace.t_ns.size != points:
        raise RuntimeError(f"the route gave {trace.t_ns.size} fixes, not {points}")
    files = {
        "csv": folder / "trace.csv",
        "parquet": folder / "trace.parquet",
        "mp_csv": folder / "trace_mp.csv",
        "zones": folder / "zones.wkb",
    }
    files["csv"].write_bytes(to_csv(trace))
    files["parquet"].write_bytes(to_parquet(trace))
    head = files["csv"].read_bytes().split(b"\n", mp_points + 1)
    files["mp_csv"].write_bytes(b"\n".join(head[: mp_points + 1]) + b"\n")
    files["zones"].write_text(json.dumps([shapely.to_wkb(z.polygon, hex=True) for z in zones]))
    return files


def load_zones(path: Path) -> list[Zone]:
    return [Zone(k + 1, shapely.from_wkb(h)) for k, h in enumerate(json.loads(path.read_text()))]


def production_params() -> VerifyParams:
    """Production's parameters (settings.TRIP_VERIFY) with the bench's OVERRIDES.

    Read in the parent only: the measuring children get them as JSON (--params), so that
    their memory figures carry no Django settings, as before the parameters were settings.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")
    from trips.verification.params import verify_params  # noqa: PLC0415 - parent only

    return verify_params(OVERRIDES)


def run_verify(
    data: bytes, zones: list[Zone], fmt: str, params: VerifyParams
) -> tuple[ParsedTrace, object]:
    trace = parse(data, fmt=fmt)
    return trace, verify_trace(trace, zones, params)


def verify_trace(trace: ParsedTrace, zones: list[Zone], params: VerifyParams) -> object:
    try:
        return verify(
            trace,
            crs="wgs84",
            default_auto=None,
            zones=[ZoneInterval(None, None, tuple(zones))],
            permit=PERMIT,
            eligible_from=PERMIT[0],
            params=params,
            now=datetime(2026, 11, 27, tzinfo=UTC),
        )
    finally:
        if _MALLOC_TRIM is not None:
            _MALLOC_TRIM(0)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM).

    Not getrusage's ru_maxrss: Linux carries the parent's high-water mark into a child
    across fork and exec, and the parent here has just generated a million fixes.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(
    task: str, fmt: str, file: Path, zones_file: Path, *, repeat: int, params: VerifyParams
) -> None:
    """One measurement in a fresh process, so that its peak memory is its own; prints JSON.

    task "floor" reads the file with pyarrow alone; task "e2e" parses and verifies.
    """
    zones = load_zones(zones_file)
    rss_after_imports = peak_rss_mb()
    file_mb = file.stat().st_size / 2**20
    times = []
    cpu_times = []
    figures: dict[str, object] = {}
    for _ in range(repeat):
        # Read before the clock starts; as in a worker (trips.services), the file's bytes are
        # released once parsed, before verification.
        data = file.read_bytes()
        start, start_cpu = time.perf_counter(), time.process_time()
        if task == "floor":
            if fmt == "csv":
                points = pacsv.read_csv(
                    pa.BufferReader(data), read_options=pacsv.ReadOptions(use_threads=False)
                ).num_rows
            else:
                points = pq.ParquetFile(pa.BufferReader(data)).read(use_threads=False).num_rows
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - start_cpu)
            figures["points"] = points
            continue
        trace = parse(data, fmt=fmt)
        del data
        result = verify_trace(trace, zones, params)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
        figures.update(
            points=len(trace),
            total_m=result.total_m,  # type: ignore[attr-defined]
            autonomous_m=result.autonomous_m,  # type: ignore[attr-defined]
            eligible_m=result.eligible_m,  # type: ignore[attr-defined]
            outcome=result.outcome,  # type: ignore[attr-defined]
            reasons=[(r.code, r.count) for r in result.reasons],  # type: ignore[attr-defined]
        )
        # The peak is one trip's: the last run's trace and result must not be alive while
        # the next one runs (a worker processes one trip at a time, then drops it).
        del trace, result
    # The first end-to-end run also builds the zone indexes, which a worker keeps for every
    # later trip of the same approvals: reported apart as "cold".
    figures.update(
        cold_seconds=times[0],
        seconds=min(times[1:] or times),
        cpu_seconds=min(cpu_times[1:] or cpu_times),
        maxrss_mb=peak_rss_mb(),
        rss_after_imports_mb=rss_after_imports,
        file_mb=file_mb,
    )
    print(json.dumps(figures))


def reference(  # noqa: PLR0912 - one obvious loop per rule, on purpose
    trace: ParsedTrace, zones: list[Zone], params: VerifyParams
) -> dict[str, float]:
    """The same rules, one fix at a time in plain Python (slow and obvious on purpose)."""
    x_all, y_all = to_metric(trace.lon, trace.lat, params.metric_crs)
    t_all = trace.t_ns
    auto_all = trace.auto
    assert auto_all is not None
    vmax = params.max_speed_kmh / 3.6
    kept: list[int] = []
    for i in range(len(t_all)):
        if (
            i
            and t_all[i] == t_all[i - 1]
            and trace.lon[i] == trace.lon[i - 1]
            and trace.lat[i] == trace.lat[i - 1]
        ):
            continue
        if kept:
            j = kept[-1]
            dt = (t_all[i] - t_all[0]) / 1e9 - (t_all[j] - t_all[0]) / 1e9
            if np.hypot(x_all[i] - x_all[j], y_all[i] - y_all[j]) > vmax * dt:
                continue
        kept.append(i)
    t = [(int(t_all[i]) - int(t_all[0])) / 1e9 for i in kept]
    x = [float(x_all[i]) for i in kept]
    y = [float(y_all[i]) for i in kept]
    auto = [bool(auto_all[i]) for i in kept]
    still = []
    for i in range(len(kept)):
        b = bisect.bisect_left(t, t[i] - params.stop_window_s)
        f = bisect.bisect_right(t, t[i] + params.stop_window_s) - 1
        r2 = params.stop_radius_m**2
        still.append(
            (x[i] - x[b]) ** 2 + (y[i] - y[b]) ** 2 < r2
            and (x[f] - x[i]) ** 2 + (y[f] - y[i]) ** 2 < r2
        )
    polygons = [z.polygon for z in zones]
    tree = shapely.STRtree(polygons)
    total = autonomous = inside = 0.0
    for i in range(len(kept) - 1):
        if t[i + 1] - t[i] > params.max_gap_s or (still[i] and still[i + 1]):
            continue
        step = np.hypot(x[i + 1] - x[i], y[i + 1] - y[i])
        total += step
        if not (auto[i] and auto[i + 1]):
            continue
        autonomous += step
        line = LineString([(x[i], y[i]), (x[i + 1], y[i + 1])])
        # In-zone: union of the intervals (along the step) inside each corridor near it.
        spans: list[tuple[float, float]] = []
        for k in tree.query(line):
            cut = polygons[k].intersection(line)
            for part in getattr(cut, "geoms", [cut]):
                if part.is_empty or part.length == 0:
                    continue
                s0, s1 = (line.project(shapely.Point(c)) for c in (part.coords[0], part.coords[-1]))
                spans.append((min(s0, s1), max(s0, s1)))
        covered, end = 0.0, -1.0
        for s0, s1 in sorted(spans):
            if s1 > end:
                covered += s1 - max(s0, end)
                end = s1
        inside += covered
    return {"total_m": total, "autonomous_m": autonomous, "eligible_m": inside}


def moving_pandas(file: Path, zones: list[Zone]) -> tuple[float, dict[str, float]]:
    """MovingPandas on the same job: clean outliers, split at gaps and mode changes, clip."""
    # Imported here, not at the top: the measuring subprocesses must not carry pandas,
    # GeoPandas and Matplotlib in their memory figures.
    import geopandas as gpd  # noqa: PLC0415
    import pandas as pd  # type: ignore[import-untyped]  # noqa: PLC0415

    with warnings.catch_warnings():
        # It warns about optional smoothers it does not need here.
        warnings.simplefilter("ignore")
        import movingpandas as mpd  # noqa: PLC0415 - bench-only dependency (requirements-bench.txt)

        start = time.perf_counter()
        df = pd.read_csv(file)
        df["t"] = pd.to_datetime(df["timestamp"], format="ISO8601", utc=True).dt.tz_localize(None)
        gdf = gpd.GeoDataFrame(
            df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326"
        ).to_crs(CRS)
        traj = mpd.Trajectory(gdf, traj_id=1, t="t")
        traj = mpd.OutlierCleaner(traj).clean(v_max=150, units=("km", "h"))
        parts = mpd.ObservationGapSplitter(traj).split(gap=timedelta(seconds=10))
        total = sum(p.get_length() for p in parts)
        union = shapely.union_all([z.polygon for z in zones])
        autonomous = inside = 0.0
        for part in parts:
            for run in mpd.ValueChangeSplitter(part).split(col_name="mode"):
                if run.df["mode"].iloc[0] != "auto":
                    continue
                autonomous += run.get_length()
                inside += sum(c.get_length() for c in run.clip(union))
        elapsed = time.perf_counter() - start
    return elapsed, {"total_m": total, "autonomous_m": autonomous, "eligible_m": inside}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--mp-points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=4)
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--child", nargs=4, metavar=("TASK", "FMT", "FILE", "ZONES"))
    parser.add_argument("--params", help="the children's VerifyParams, as JSON (set by the parent)")
    args = parser.parse_args()
    if args.child:
        params = VerifyParams(**json.loads(args.params))
        child(
            args.child[0],
            args.child[1],
            Path(args.child[2]),
            Path(args.child[3]),
            repeat=args.repeat,
            params=params,
        )
        return
    params = production_params()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        files = make_files(Path(tmp), args.points, args.mp_points)
        elapsed = time.perf_counter() - start
        print(f"generated {args.points:,} fixes and 40 corridors in {elapsed:.1f} s")
        sizes = {k: files[k].stat().st_size / 1e6 for k in ("csv", "parquet")}
        print(f"  CSV {sizes['csv']:.1f} MB, Parquet {sizes['parquet']:.1f} MB")
        figures: dict[str, dict[str, Any]] = {}

        def measure(task: str, fmt: str) -> dict[str, Any]:
            out = subprocess.run(  # noqa: S603 - this very script, with our own arguments
                [
                    sys.executable,
                    __file__,
                    "--repeat",
                    str(args.repeat),
                    "--params",
                    json.dumps(dataclasses.asdict(params)),
                    "--child",
                    task,
                    fmt,
                    str(files[fmt]),
                    str(files["zones"]),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]

        for fmt in ("csv", "parquet"):
            floor = measure("floor", fmt)
            fig = measure("e2e", fmt)
            figures[fmt] = fig
            n = fig["points"]
            print(
                f"{fmt:8s} read only (floor) {floor['seconds']:.3f} s = "
                f"{n / floor['seconds'] / 1e6:.2f} M pts/s;"
                f" end to end {fig['seconds']:.3f} s = {n / fig['seconds'] / 1e6:.2f} M pts/s"
                f" ({fig['seconds'] / floor['seconds']:.2f}x floor);"
                f" first run, building the zone indexes: {fig['cold_seconds']:.3f} s"
            )
            print(
                f"         CPU time end to end {fig['cpu_seconds']:.3f} s ="
                f" {n / fig['cpu_seconds'] / 1e6:.2f} M pts/s; read only"
                f" {floor['cpu_seconds']:.3f} s"
            )
            print(
                f"         peak RSS end to end {fig['maxrss_mb']:.0f} MB (interpreter and libraries"
                f" {fig['rss_after_imports_mb']:.0f} MB, file {fig['file_mb']:.0f} MB released"
                f" once parsed); read only {floor['maxrss_mb']:.0f} MB"
            )
        csv = figures["csv"]
        print(
            f"result: {csv['outcome']}; total {csv['total_m'] / 1000:.3f} km, autonomous "
            f"{csv['autonomous_m'] / 1000:.3f} km, eligible {csv['eligible_m'] / 1000:.3f} km"
        )
        print(f"  reasons: {csv['reasons']}")
        zones = load_zones(files["zones"])
        mp_s, mp_fig = moving_pandas(files["mp_csv"], zones)
        ours_per_point = float(csv["seconds"]) / float(csv["points"])
        print(
            f"MovingPandas on {args.mp_points:,} fixes: {mp_s:.1f} s = "
            f"{args.mp_points / mp_s:,.0f} pts/s; ours is "
            f"{mp_s / args.mp_points / ours_per_point:,.0f}x faster"
        )
        print(
            f"  (MovingPandas figures, its own rules: total {mp_fig['total_m'] / 1000:.3f} km, "
            f"autonomous {mp_fig['autonomous_m'] / 1000:.3f} km, "
            f"in zone {mp_fig['eligible_m'] / 1000:.3f} km)"
        )
        if not args.skip_reference:
            start = time.perf_counter()
            trace, result = run_verify(files["csv"].read_bytes(), zones, "csv", params)
            ref = reference(trace, zones, params)
            print(f"reference (per point, plain Python) took {time.perf_counter() - start:.0f} s")
            for key in ("total_m", "autonomous_m", "eligible_m"):
                ours = getattr(result, key)
                diff = abs(ours - ref[key]) / max(ref[key], 1e-9)
                print(
                    f"  {key:13s} ours {ours:15.3f}  reference {ref[key]:15.3f}  diff {diff:.2e}"
                    f" {'OK' if diff <= 1e-4 else 'DISAGREES'}"
                )


if __name__ == "__main__":
    main()
