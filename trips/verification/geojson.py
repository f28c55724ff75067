"""The verified trace for a map, as GeoJSON."""

from __future__ import annotations

from typing import Any

import numpy as np

from .verify import STEP_TAGS, VerificationResult


def trace_geojson(result: VerificationResult) -> dict[str, Any]:
    """The trace for a map: runs of equal-tag steps as LineStrings, outliers as Points."""
    features: list[dict[str, Any]] = []
    tags = result.step_tag
    # Each vertex's time (Unix seconds, to the tenth) lets the map show a step's time and
    # speed; a result without times (none kept) draws without them.
    seconds = (result.t_ns / 1e9).round(1) if result.t_ns.size == result.lon.size else None
    if tags.size:
        change = np.flatnonzero(tags[1:] != tags[:-1]) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [tags.size]))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            coords = np.stack([result.lon[a : b + 1], result.lat[a : b + 1]], axis=1)
            properties: dict[str, Any] = {"tag": STEP_TAGS[int(tags[a])], "steps": b - a}
            if seconds is not None:
                properties["t"] = seconds[a : b + 1].tolist()
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "LineString", "coordinates": coords.round(7).tolist()},
                    "properties": properties,
                }
            )
    for lon, lat in zip(result.outlier_lon.tolist(), result.outlier_lat.tolist(), strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
                "properties": {"tag": "outlier"},
            }
        )
    return {"type": "FeatureCollection", "features": features}
