"""GeoJSON: a FeatureCollection of Point fixes, through the standard json module; a
fix's "line" is its feature number."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from trips.reason_codes import TripReason

from .columns import epoch_to_ns, iso_strings_to_ns, table_mode, timestamp_error
from .trace import ParsedTrace, TraceError, build_trace


def parse_geojson(data: bytes) -> ParsedTrace:  # noqa: PLR0912 - one check per field, each with its own message
    try:
        doc = json.loads(data)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise TraceError(TripReason.JSON_INVALID, f"The JSON is not valid: {exc}", line) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise TraceError(TripReason.GEOJSON_INVALID, "Expected a GeoJSON FeatureCollection.")
    features = doc.get("features")
    if not isinstance(features, list):
        raise TraceError(TripReason.GEOJSON_INVALID, "The FeatureCollection has no features list.")
    n = len(features)
    lon = np.empty(n)
    lat = np.empty(n)
    stamps: list[Any] = []
    modes: list[Any] = []
    odometer: list[Any] = []
    for i, feature in enumerate(features):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise TraceError(
                TripReason.GEOJSON_NOT_POINT, "Every feature must be a Point fix.", i + 1
            )
        coords: Any = geometry.get("coordinates")
        props = feature.get("properties") or {}
        try:
            lon[i], lat[i] = float(coords[0]), float(coords[1])
        except (TypeError, ValueError, IndexError):
            raise TraceError(
                TripReason.GEOJSON_INVALID, "A Point has no valid coordinates.", i + 1
            ) from None
        stamps.append(props.get("timestamp"))
        modes.append(props.get("mode"))
        odometer.append(props.get("odometer_km"))
    lines = np.arange(1, n + 1, dtype=np.int64)
    for i, stamp in enumerate(stamps):
        if stamp is None or isinstance(stamp, bool):
            raise TraceError(
                TripReason.MISSING_VALUE, "A feature has no timestamp property.", i + 1
            )
    if all(isinstance(s, int | float) for s in stamps):
        t_ns = epoch_to_ns(np.asarray(stamps))
    elif all(isinstance(s, str) for s in stamps):
        t_ns = iso_strings_to_ns(pa.array(stamps, pa.string()), lines)
    else:
        # The first that is not of the first one's kind (number or text).
        numbers = isinstance(stamps[0], int | float)
        i = next(i for i, s in enumerate(stamps) if isinstance(s, int | float) != numbers)
        raise timestamp_error(str(stamps[i]), i + 1)
    auto = None
    if any(m is not None for m in modes):
        auto = table_mode(pa.chunked_array([pa.array(modes, pa.string())]), lines)
    odometer_km = None
    if any(o is not None for o in odometer):
        try:
            odometer_km = np.asarray([np.nan if o is None else float(o) for o in odometer])
        except (TypeError, ValueError):
            raise TraceError(TripReason.NOT_A_NUMBER, "odometer_km must be a number.") from None
    return build_trace(
        t_ns=t_ns,
        lon=lon,
        lat=lat,
        auto=auto,
        odometer_km=odometer_km,
        fmt="geojson",
        notes=[],
        lines=lines,
    )
