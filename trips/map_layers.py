"""The trip map's server side (trips/_trace_map.html, static/js/trip_map.js): the trace's
colours and legend, the roads and areas approved for the trip's time (the set the verifier
cut the trip with), the words of a step's popup, and, for a trip that earned nothing, how
far it is from those roads and areas: a recording made elsewhere is explained by where it
is before anything else (a lapsed permit, say) is mentioned.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pyproj import Transformer
from shapely.geometry import MultiPoint, mapping
from shapely.geometry.base import BaseGeometry

from core.geo import to_wgs84
from core.web import figure
from routes.models import RoadSegment
from routes.selectors import zone_timeline, zones_valid_at

from .models import Trip
from .reasons import REASON_TEXT, ReasonShown

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class TraceTag:
    """A colour of the trace map, and the reason whose figure says how much of it there is."""

    tag: str
    label: StrOrPromise
    color: str
    reason_code: str  # "" for eligible, whose figure is the trip's own
    autonomous: bool | None  # the driving mode the tag implies; None: either


# The tags of trips.verification.verify.STEP_TAGS plus the dropped outlier fixes, in legend order.
# Colours differ in lightness as well as hue; the legend's words and figures carry the meaning.
TRACE_TAGS = (
    TraceTag("eligible", gettext_lazy("Eligible"), "#1b6e3a", "", True),
    TraceTag(
        "outside_zone", gettext_lazy("Outside the approved zones"), "#c1121f", "outside_zone", True
    ),
    TraceTag("manual", gettext_lazy("Driven manually"), "#b35c00", "manual", False),
    TraceTag("outlier", gettext_lazy("Outlier fix (dropped)"), "#6b3fa0", "speed_outlier", None),
    TraceTag("gap", gettext_lazy("Gap in the log (no credit)"), "#5c6773", "gap", None),
    TraceTag(
        "stationary",
        gettext_lazy("Standing still (jitter)"),
        "#0b7285",
        "stationary_jitter",
        None,
    ),
    TraceTag("not_permitted", gettext_lazy("No valid permit"), "#8a1c7c", "not_permitted", True),
    TraceTag(
        "operator_not_eligible",
        gettext_lazy("Company not yet eligible"),
        "#3d348b",
        "operator_not_eligible",
        True,
    ),
)
ZONE_COLOR = "#0b4fa8"
# Farther than this from every approved road and area, a trip is "far": beyond any corridor
# (a few tens of metres) and any GNSS error, so the distance itself is the explanation.
FAR_M = 1000.0
# Trace vertices measured for the distance: evenly spaced, enough for a trip's shape.
FAR_SAMPLE = 2000


@dataclass(frozen=True)
class LegendRow:
    tag: str
    label: str
    color: str
    km: float | None  # None for outliers, counted in fixes
    fixes: int


def _legend(trip: Trip, reasons: list[ReasonShown]) -> list[LegendRow]:
    """The map's legend with each colour's figure: the facts of the map as text."""
    by_code = {reason.code: reason for reason in reasons}
    rows = []
    for item in TRACE_TAGS:
        reason = by_code.get(item.reason_code)
        if item.tag == "eligible":
            km: float | None = float(trip.eligible_m) / 1000
            fixes = 0
        elif item.tag == "outlier":
            km, fixes = None, reason.count if reason else 0
        else:
            km, fixes = (reason.km if reason else 0.0), 0
        rows.append(LegendRow(item.tag, str(item.label), item.color, km, fixes))
    return rows


def _step_words() -> dict[str, Any]:
    """What trip_map.js writes in a step's popup and on the markers, in the page's language."""
    mode = {True: _("Autonomous"), False: _("Manual"), None: _("Not told by this step")}
    eligible = _("Autonomous, inside a road or area approved at that time, with a valid permit.")
    return {
        "tags": {item.tag: str(item.label) for item in TRACE_TAGS},
        "reasons": {
            item.tag: str(REASON_TEXT[item.reason_code]) if item.reason_code else eligible
            for item in TRACE_TAGS
        },
        "modes": {item.tag: mode[item.autonomous] for item in TRACE_TAGS},
        "fields": {
            "kind": _("Kind"),
            "time": _("Time (Beijing time)"),
            "speed": _("Speed"),
            "mode": _("Mode"),
            "reason": _("Why"),
            "name": _("Name"),
            "valid": _("Valid period"),
            "ref": _("Approval reference"),
        },
        "speed_unit": _("km/h"),
        "start": _("Start"),
        "end": _("End"),
        "failed": _("The trace could not be loaded."),
    }


def _window(segment: RoadSegment) -> str:
    def day(value: dt.datetime | None) -> str:
        return "" if value is None else f"{timezone.localtime(value):%Y-%m-%d}"

    if segment.valid_to is None:
        return _("from %(start)s") % {"start": day(segment.valid_from)}
    return _("%(start)s to %(end)s") % {
        "start": day(segment.valid_from),
        "end": day(segment.valid_to),
    }


def _wgs84(polygon: BaseGeometry) -> BaseGeometry:
    """A zone's metric polygon (as the verifier cuts with it) back in lon/lat for the map."""

    def back(coords: np.ndarray[Any, np.dtype[np.float64]]) -> Any:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], settings.METRIC_CRS)
        return np.column_stack([lon, lat])

    return shapely.transform(polygon, back)


def _zones_used(trip: Trip) -> dict[int, BaseGeometry]:
    """segment id → lon/lat polygon of every zone approved at some instant of the trip:
    the verifier's own look-up (`zone_timeline` over the trip's first to last fix)."""
    if trip.started_at is None or trip.ended_at is None:
        return {}
    return {
        zone.segment_id: zone.polygon
        for interval in zone_timeline(start=trip.started_at, end=trip.ended_at)
        for zone in interval.zones
    }


def _zones_geojson(polygons: dict[int, BaseGeometry]) -> dict[str, Any]:
    segments = RoadSegment.objects.filter(pk__in=polygons).order_by("name", "pk")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                # A road as its corridor, the area that counts, not only its centreline.
                "geometry": mapping(_wgs84(polygons[segment.pk])),
                "properties": {
                    "name": segment.name,
                    "kind": segment.get_kind_display(),
                    "ref": segment.approval_ref,
                    "valid": _window(segment),
                },
            }
            for segment in segments
        ],
    }


def _trace_sample(trip: Trip) -> np.ndarray[Any, np.dtype[np.float64]] | None:
    """Up to FAR_SAMPLE lon/lat vertices of the processed trace, or None without one."""
    if not trip.trace_file:
        return None
    with trip.trace_file.open("rb") as stored:
        features = json.load(stored)["features"]
    coords: list[list[float]] = []
    for feature in features:
        geometry = feature["geometry"]
        if geometry["type"] == "LineString":
            coords.extend(geometry["coordinates"])
    if not coords:
        return None
    points = np.asarray(coords, dtype=np.float64)
    step = max(1, len(points) // FAR_SAMPLE)
    return points[::step]


def _distance_m(points: np.ndarray[Any, np.dtype[np.float64]], zones: list[BaseGeometry]) -> float:
    """The shortest distance from the trace to the zones, in metres: measured in an azimuthal
    equidistant projection centred on the trace, exact from its centre wherever on Earth the
    zones are (the metric CRS serves Yangquan only; a recording from Europe would be
    measured thousands of kilometres wrong in it)."""
    lon0, lat0 = points.mean(axis=0)
    project = Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m", always_xy=True
    )

    def to_local(coords: np.ndarray[Any, np.dtype[np.float64]]) -> Any:
        x, y = project.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    trace = shapely.transform(MultiPoint(points), to_local)
    return min(float(trace.distance(shapely.transform(zone, to_local))) for zone in zones)


def _far_notice(trip: Trip, used: dict[int, BaseGeometry]) -> str:
    """A sentence for a trip that earned nothing because of where it is; "" otherwise."""
    if trip.eligible_m > 0 or trip.started_at is None:
        return ""
    points = _trace_sample(trip)
    if points is None:
        return ""
    if used:
        far = _distance_m(points, [_wgs84(p) for p in used.values()])
        if far < FAR_M:
            return ""
        return _(
            "This trip is %(km)s km from the nearest road or area approved at its time, so "
            "none of it could count."
        ) % {"km": figure(Decimal(str(far / 1000)), 3)}
    day = f"{timezone.localtime(trip.started_at):%Y-%m-%d}"
    now = [_wgs84(zone.polygon) for zone in zones_valid_at(at=timezone.now())]
    if not now:
        return _("No road or area was approved on %(day)s, when this trip was driven.") % {
            "day": day
        }
    return _(
        "No road or area was approved on %(day)s, when this trip was driven; the nearest one "
        "approved now is %(km)s km away."
    ) % {"day": day, "km": figure(Decimal(str(_distance_m(points, now) / 1000)), 3)}


def trip_map(trip: Trip, reasons: list[ReasonShown]) -> dict[str, Any]:
    """What trips/_trace_map.html needs."""
    used = _zones_used(trip)
    return {
        "legend": _legend(trip, reasons),
        "trace_url": reverse("trip-trace", args=[trip.pk]) if trip.trace_file else "",
        "trace_colors": {item.tag: item.color for item in TRACE_TAGS},
        "trace_labels": _step_words(),
        "zones_geojson": _zones_geojson(used),
        "zone_color": ZONE_COLOR,
        "far_notice": _far_notice(trip, used),
    }
