"""Segment geometry: validate GeoJSON, measure it, and build zone polygons. Pure, no Django.

- Input is a GeoJSON geometry object (or its JSON text) in WGS-84 lon/lat.
- Lengths and areas are geodesic, on the WGS-84 ellipsoid (pyproj.Geod, i.e. Karney's
  GeographicLib): exact to the millimetre, independent of any projection.
- Zone polygons are built in the metric CRS (EPSG:4547 by default): a road's corridor is its
  centreline buffered by the half-width with *flat* ends and round joins (docs/routes.md).

Problems are raised as `GeometryProblem(code, **params)`; the service turns the code into a
translated message, so this module stays free of Django.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.errors
from pyproj import Geod
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from core.geo import to_metric

LINE_TYPES = frozenset({"LineString", "MultiLineString"})
POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})
KIND_TYPES = {"road": LINE_TYPES, "area": POLYGON_TYPES}
GEOMETRY_TYPES = LINE_TYPES | POLYGON_TYPES | {"Point", "MultiPoint", "GeometryCollection"}
MAX_VERTICES = 100_000

_GEOD = Geod(ellps="WGS84")


class GeometryProblem(ValueError):  # noqa: N818 - a refusal, reported per feature, not a crash
    """A geometry was refused. `code` names the rule; `params` fill in the message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class CleanGeometry:
    """A validated geometry in WGS-84 with its measure; `notes` say what was changed."""

    geojson: dict[str, Any]
    length_m: float | None
    area_m2: float | None
    notes: tuple[str, ...] = field(default=())


def parse_geojson(value: Any) -> dict[str, Any]:
    """A GeoJSON geometry object from a dict, a Feature, or JSON text."""
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise json_problem(exc) from exc
    if not isinstance(value, dict):
        raise GeometryProblem("not_object")
    if value.get("type") == "Feature":
        value = value.get("geometry")
        if not isinstance(value, dict):
            raise GeometryProblem("not_object")
    kind = value.get("type")
    if kind not in GEOMETRY_TYPES:
        raise GeometryProblem("unknown_type", type=str(kind))
    if "coordinates" not in value:
        raise GeometryProblem("no_coordinates")
    return value


def json_problem(exc: ValueError) -> GeometryProblem:
    """The parser's position (line, column), not its English words."""
    if isinstance(exc, json.JSONDecodeError):
        return GeometryProblem("bad_json", error=str(exc), line=exc.lineno, column=exc.colno)
    return GeometryProblem("bad_json", error=str(exc), line=1, column=1)


# GEOS's validity reasons (shapely.is_valid_reason: "Self-intersection[113.55 37.85]"), as
# codes routes/problems.py words in the reader's language.
VALIDITY_REASONS = {
    "Self-intersection": "self_intersection",
    "Ring Self-intersection": "ring_self_intersection",
    "Too few points in geometry component": "too_few_points",
    "Hole lies outside shell": "hole_outside",
    "Holes are nested": "holes_nested",
    "Interior is disconnected": "interior_disconnected",
    "Nested shells": "nested_shells",
    "Duplicate Rings": "duplicate_rings",
    "Invalid Coordinate": "invalid_coordinate",
    "Ring is not closed": "ring_not_closed",
}


def invalid_polygon_problem(reason: str) -> GeometryProblem:
    """`invalid_polygon` with the reason's code and, where GEOS gives one, the point."""
    name, _, rest = reason.partition("[")
    params: dict[str, Any] = {"reason": reason, "why": VALIDITY_REASONS.get(name, "other")}
    try:
        lon, lat = (float(v) for v in rest.rstrip("]").split()[:2])
    except ValueError:
        pass
    else:
        params.update(lon=lon, lat=lat)
    return GeometryProblem("invalid_polygon", **params)


def _shape(value: dict[str, Any]) -> BaseGeometry:
    try:
        geom = shape(value)
    except shapely.errors.GEOSException as exc:  # a one-point LineString
        raise GeometryProblem("too_few_points", error=str(exc)) from exc
    except (ValueError, TypeError, IndexError, AttributeError, KeyError) as exc:
        if "linearring requires at least 4" in str(exc).lower():
            raise GeometryProblem("ring_too_short", error=str(exc)) from exc
        raise GeometryProblem("bad_coordinates", error=str(exc)) from exc
    coords = shapely.get_coordinates(geom)
    if coords.size == 0:
        raise GeometryProblem("empty")
    if len(coords) > MAX_VERTICES:
        raise GeometryProblem("too_many_vertices", limit=MAX_VERTICES)
    if not np.isfinite(coords).all():
        raise GeometryProblem("bad_coordinates", error="not finite")
    # Stored and measured in 2D; a Z (height) coordinate is dropped.
    return shapely.force_2d(geom)


def _check_bbox(geom: BaseGeometry, bbox: tuple[float, float, float, float]) -> None:
    min_lon, min_lat, max_lon, max_lat = bbox
    coords = shapely.get_coordinates(geom)
    lon, lat = coords[:, 0], coords[:, 1]
    outside = (lon < min_lon) | (lon > max_lon) | (lat < min_lat) | (lat > max_lat)
    if outside.any():
        first = coords[int(np.argmax(outside))]
        raise GeometryProblem(
            "outside_area",
            lon=float(first[0]),
            lat=float(first[1]),
            bbox=",".join(f"{v:g}" for v in bbox),
        )


def _only_polygons(geom: BaseGeometry) -> BaseGeometry:
    """make_valid may return a collection with stray lines; keep the polygonal part."""
    if geom.geom_type in POLYGON_TYPES:
        return geom
    parts = [
        g for g in getattr(geom, "geoms", [geom]) if g.geom_type in POLYGON_TYPES and not g.is_empty
    ]
    polygons = [p for part in parts for p in getattr(part, "geoms", [part])]
    if not polygons:
        raise GeometryProblem("empty")
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def geodesic_length_m(geom: BaseGeometry) -> float:
    return float(_GEOD.geometry_length(geom))


def geodesic_area_m2(geom: BaseGeometry) -> float:
    area, _perimeter = _GEOD.geometry_area_perimeter(geom)
    return abs(float(area))


def clean_geometry(
    value: Any,
    *,
    kind: str,
    bbox: tuple[float, float, float, float],
    repair: bool = False,
) -> CleanGeometry:
    """Validate a segment's geometry for its kind; measure it.

    Refused: bad JSON, not a geometry, the wrong type for the kind, coordinates outside
    `bbox`, fewer than two distinct points, a self-intersecting (invalid) polygon unless
    `repair` is asked for, when it is repaired with shapely's make_valid and a note says so.
    """
    data = parse_geojson(value)
    allowed = KIND_TYPES.get(kind)
    if allowed is None:
        raise GeometryProblem("unknown_kind", kind=kind)
    if data["type"] not in allowed:
        raise GeometryProblem(
            "wrong_type", type=data["type"], kind=kind, allowed=", ".join(sorted(allowed))
        )
    geom = _shape(data)
    _check_bbox(geom, bbox)
    notes: list[str] = []
    if kind == "road":
        if geom.length == 0:
            raise GeometryProblem("zero_length")
        length = geodesic_length_m(geom)
        return CleanGeometry(mapping_of(geom), length, None, ())
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        if not repair:
            raise invalid_polygon_problem(reason)
        geom = _only_polygons(shapely.make_valid(geom))
        notes.append(f"repaired with make_valid: {reason}")
    area = geodesic_area_m2(geom)
    if area <= 0:
        raise GeometryProblem("zero_area")
    return CleanGeometry(mapping_of(geom), None, area, tuple(notes))


def mapping_of(geom: BaseGeometry) -> dict[str, Any]:
    """A plain-JSON GeoJSON dict (lists, not tuples), as stored."""
    result: dict[str, Any] = json.loads(json.dumps(mapping(geom)))
    return result


def to_metric_geometry(geom: BaseGeometry, crs: str) -> BaseGeometry:
    """WGS-84 lon/lat geometry → the same geometry in metric `crs` (vectorised)."""

    def project(coords: np.ndarray[Any, np.dtype[np.float64]]) -> Any:
        x, y = to_metric(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([x, y])

    return shapely.transform(geom, project)


def zone_polygon(
    geojson: dict[str, Any], *, kind: str, corridor_half_width_m: float | None, crs: str
) -> BaseGeometry:
    """The area a segment version covers, in the metric CRS, prepared for fast predicates.

    A road's corridor has flat ends: it stops where the approved centreline stops, so the
    end of an approved road never credits metres on the unapproved road beyond it. Joins
    inside one centreline are round, so a bend has no gap.
    """
    metric = to_metric_geometry(shape(geojson), crs)
    if kind == "road":
        if corridor_half_width_m is None or corridor_half_width_m <= 0:
            raise GeometryProblem("no_corridor")
        polygon = shapely.buffer(
            metric, corridor_half_width_m, cap_style="flat", join_style="round", quad_segs=8
        )
    else:
        polygon = metric
    shapely.prepare(polygon)
    return polygon


def km(metres: float) -> float:
    """Metres → kilometres, for display (three decimals, i.e. to the metre)."""
    return math.floor(metres + 0.5) / 1000.0
