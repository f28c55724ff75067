"""What each refusal of a geometry or a segment file says, in the reader's language.

`GeometryProblem` (routes/geometry.py, routes/importer.py: pure, no Django) carries a code
and its parameters; the services turn it into a message with `problem_message`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from .geometry import GeometryProblem
from .models import RoadSegment

PROBLEM_MESSAGES = {
    "bad_json": gettext_lazy(
        "Not valid JSON: check line %(line)s, column %(column)s (a missing comma, bracket "
        "or quote)."
    ),
    "too_deep": gettext_lazy("Not valid GeoJSON: nested far too deeply."),
    "too_few_points": gettext_lazy(
        "A line needs at least two points; this one has fewer. Draw the whole centreline."
    ),
    "ring_too_short": gettext_lazy(
        "A polygon's ring needs at least four positions, the last equal to the first."
    ),
    "not_object": gettext_lazy("Give a GeoJSON geometry object."),
    "unknown_type": gettext_lazy("“%(type)s” is not a GeoJSON geometry type."),
    "no_coordinates": gettext_lazy("The geometry has no coordinates."),
    "bad_coordinates": gettext_lazy(
        "The coordinates are malformed: give [longitude, latitude] pairs of numbers."
    ),
    "empty": gettext_lazy("The geometry is empty."),
    "too_many_vertices": gettext_lazy("More than %(limit)s vertices."),
    "unknown_kind": gettext_lazy("Unknown kind “%(kind)s”."),
    "wrong_type": gettext_lazy("A %(kind)s needs a geometry of type %(allowed)s, not %(type)s."),
    "outside_area": gettext_lazy(
        "The point %(lon).6f, %(lat).6f lies outside the service area (%(bbox)s)."
    ),
    "zero_length": gettext_lazy("The centreline has no length (fewer than two distinct points)."),
    "zero_area": gettext_lazy("The area is zero."),
    "invalid_polygon": gettext_lazy(
        "The polygon is not valid: %(why)s. Fix it, or ask for an automatic repair."
    ),
    "invalid_polygon_at": gettext_lazy(
        "The polygon is not valid: %(why)s at %(lon).6f, %(lat).6f. "
        "Fix it, or ask for an automatic repair."
    ),
    "no_corridor": gettext_lazy("A road needs a corridor half-width above zero."),
    "unsupported_format": gettext_lazy(
        "Files ending in %(suffix)s are not read: upload .geojson, .json, .kml or a zipped "
        "Shapefile (.zip)."
    ),
    "bad_crs": gettext_lazy("“%(crs)s” is not a coordinate reference system I know."),
    "no_crs": gettext_lazy(
        "This %(format)s file does not state its coordinate system: declare it (crs = "
        "EPSG:4326 for GNSS/WGS-84, gcj02 for Chinese web maps, or an EPSG code)."
    ),
    "bad_zip": gettext_lazy("The file is not a readable zip archive."),
    "zip_too_many": gettext_lazy("The archive has more than %(limit)s files."),
    "zip_too_large": gettext_lazy("The archive unpacks to more than %(limit_mb)s MB."),
    "zip_one_shapefile": gettext_lazy(
        "The archive must hold exactly one Shapefile (.shp); it holds %(found)s."
    ),
    "zip_incomplete": gettext_lazy("The Shapefile needs its .shx and .dbf files beside it."),
    "zip_encrypted": gettext_lazy("The archive is encrypted; upload it without a password."),
    "zip_nested": gettext_lazy("The archive holds another archive; upload the Shapefile itself."),
    "zip_ratio": gettext_lazy(
        "A file in the archive is compressed more than %(limit)s to 1, as only crafted "
        "archives are."
    ),
    "kml_entities": gettext_lazy("KML with a DOCTYPE or entity declarations is refused."),
    "too_many_features": gettext_lazy("More than %(limit)s features in one file."),
    "unreadable": gettext_lazy("The file could not be read: %(error)s"),
    "file_too_large": gettext_lazy("The file is larger than %(limit_mb)s MB."),
    "no_geometry": gettext_lazy("The feature has no geometry."),
    "no_name": gettext_lazy("The feature has no name (property name, Name or 名称)."),
    "kind_from_type": gettext_lazy(
        "Cannot tell road from area for a %(type)s; lines are roads, polygons areas."
    ),
    "bad_two_way": gettext_lazy("two_way “%(value)s” is neither yes nor no."),
    "bad_width": gettext_lazy("corridor_half_width_m “%(value)s” is not a positive number."),
}


# Why a polygon is invalid (routes.geometry.VALIDITY_REASONS), in a clause.
VALIDITY_WHY = {
    "self_intersection": gettext_lazy("its boundary crosses itself"),
    "ring_self_intersection": gettext_lazy("a ring touches itself"),
    "too_few_points": gettext_lazy("a ring has too few distinct points"),
    "hole_outside": gettext_lazy("a hole lies outside the outer ring"),
    "holes_nested": gettext_lazy("one hole lies inside another"),
    "interior_disconnected": gettext_lazy("holes split the inside into pieces"),
    "nested_shells": gettext_lazy("one part lies inside another"),
    "duplicate_rings": gettext_lazy("a ring is given twice"),
    "invalid_coordinate": gettext_lazy("a coordinate is not a number"),
    "ring_not_closed": gettext_lazy("a ring does not end where it starts"),
    "other": gettext_lazy("its shape cannot bound an area"),
}


def problem_message(problem: GeometryProblem) -> str:
    code = problem.code
    params = dict(problem.params)
    if code == "invalid_polygon":
        params["why"] = VALIDITY_WHY.get(params.get("why", "other"), VALIDITY_WHY["other"])
        if "lon" in params:
            code = "invalid_polygon_at"
    template = PROBLEM_MESSAGES.get(code)
    if template is None:
        return code
    if "kind" in params:  # the kind's label in the reader's language, not its code
        params["kind"] = RoadSegment.Kind(params["kind"]).label
    return str(template) % params if params else str(template)


def problem_point(problem: GeometryProblem) -> tuple[float, float] | None:
    """Where on the map the problem is (lon, lat), when the refusal names a point."""
    lon, lat = problem.params.get("lon"), problem.params.get("lat")
    if isinstance(lon, float) and isinstance(lat, float):
        return lon, lat
    return None
