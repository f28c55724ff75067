"""Write the sample trip files the upload page links (static/samples/trip-sample.*).

Run by hand from the repository root: `.venv/bin/python bin/make_trip_samples.py`. Each
sample is an 80 s drive at 10 m/s (800 m) along the first stretch of the demo data's
德胜街 (routes/demo_segments.geojson), on 2026-03-02, an hour apart per format, with a
receiver's error along and across the road (tests/trips/csvtrace.py), so that a sample
uploaded for a demo vehicle earns its 800 m on an approved road and reads as a recording.
The seed is fixed: running it again writes the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import Transformer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.trips.csvtrace import ACROSS_M, ALONG_M, receiver_noise  # noqa: E402

ROAD = "德胜街"
METRIC_CRS = "EPSG:4547"  # the settings' default (CGCS2000 / 3-degree Gauss-Kruger CM 114E)
STEPS, STEP_M = 80, 10.0
DAY = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
OUT = ROOT / "static" / "samples"


def road_xy() -> np.ndarray:
    features = json.loads((ROOT / "routes" / "demo_segments.geojson").read_text())["features"]
    (road,) = [f for f in features if f["properties"]["name"] == ROAD]
    lon, lat = np.array(road["geometry"]["coordinates"]).T
    x, y = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True).transform(lon, lat)
    return np.column_stack([x, y])


def drive(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Lon and lat of the drive's fixes: along the road with the error across it, every
    step exactly STEP_M long (the error along the road tied to zero at both ends)."""
    vertices = road_xy()
    legs = np.diff(vertices, axis=0)
    at = np.concatenate([[0.0], np.cumsum(np.hypot(*legs.T))])
    along = receiver_noise(STEPS + 1, 1.0, ALONG_M, rng)
    along -= along[0] + (along[-1] - along[0]) * np.arange(STEPS + 1) / STEPS
    step = STEP_M + np.clip(np.diff(along), -STEP_M / 3, STEP_M / 3)
    step *= STEPS * STEP_M / step.sum()
    across = receiver_noise(STEPS + 1, 1.0, ACROSS_M, rng) + rng.uniform(-3.0, 3.0)
    turn = np.clip(np.diff(across), -STEP_M / 3, STEP_M / 3)
    across = across[0] + np.concatenate([[0.0], np.cumsum(turn)])
    s = 20.0 + np.concatenate([[0.0], np.cumsum(np.sqrt(step**2 - turn**2))])
    leg = np.searchsorted(at, s, side="right") - 1
    direction = legs[leg] / np.hypot(*legs[leg].T)[:, None]
    normal = np.column_stack([-direction[:, 1], direction[:, 0]])
    xy = vertices[leg] + direction * (s - at[leg])[:, None] + normal * across[:, None]
    lon, lat = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True).transform(*xy.T)
    return np.round(np.asarray(lon), 7), np.round(np.asarray(lat), 7)


def nmea(t: dt.datetime, lat: float, lon: float) -> str:
    def dm(value: float, width: int) -> str:
        degrees = int(value)
        return f"{degrees:0{width}d}{(value - degrees) * 60:08.5f}"

    body = f"GPRMC,{t:%H%M%S}.00,A,{dm(lat, 2)},N,{dm(lon, 3)},E,19.4,90.0,{t:%d%m%y},,,A"
    checksum = 0
    for char in body:
        checksum ^= ord(char)
    return f"${body}*{checksum:02X}"


def main() -> None:
    rng = np.random.default_rng(20260302)
    for hour, fmt in enumerate(("csv", "geojson", "gpx", "nmea", "parquet")):
        lon, lat = drive(rng)
        times = [DAY + dt.timedelta(hours=hour, seconds=i) for i in range(STEPS + 1)]
        rows = list(zip(times, lat.tolist(), lon.tolist(), strict=True))
        path = OUT / f"trip-sample.{fmt}"
        if fmt == "csv":
            lines = ["timestamp,lat,lon,mode"]
            lines += [f"{t.isoformat()},{la:.7f},{lo:.7f},auto" for t, la, lo in rows]
            path.write_text("\n".join(lines) + "\n")
        elif fmt == "geojson":
            features = [
                json.dumps(
                    {
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [lo, la]},
                        "properties": {"timestamp": t.isoformat(), "mode": "auto"},
                    },
                    separators=(",", ":"),
                )
                for t, la, lo in rows
            ]
            path.write_text(
                '{"type":"FeatureCollection","features":[' + ",\n".join(features) + "]}\n"
            )
        elif fmt == "gpx":
            points = [
                f'<trkpt lat="{la:.7f}" lon="{lo:.7f}"><time>{t:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>'
                for t, la, lo in rows
            ]
            path.write_text(
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                '<gpx version="1.1" creator="yangquan-av sample" '
                'xmlns="http://www.topografix.com/GPX/1/1">\n'
                "<trk><name>sample</name><trkseg>\n"
                + "\n".join(points)
                + "\n</trkseg></trk>\n</gpx>\n"
            )
        elif fmt == "nmea":
            path.write_text("\n".join(nmea(t, la, lo) for t, la, lo in rows) + "\n")
        else:
            table = pa.table(
                {
                    "timestamp": [t.isoformat() for t, _la, _lo in rows],
                    "lat": lat.tolist(),
                    "lon": lon.tolist(),
                    "mode": ["auto"] * len(rows),
                }
            )
            pq.write_table(table, path)
        print(f"{path.relative_to(ROOT)}: {len(rows)} fixes")


if __name__ == "__main__":
    main()
