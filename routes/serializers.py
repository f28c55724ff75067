"""Input and output shapes of the segments API (GeoJSON in and out). Serializers never save."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import InputSerializer
from core.units import centimetres
from operators.models import local_day_start

from .import_services import ImportReport
from .models import RoadSegment

EARLIEST_INSTANT = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def parse_instant(value: Any, *, end_of_day: bool = False) -> dt.datetime:
    """An ISO 8601 datetime (naive = Asia/Shanghai), or a date: the start of that local day
    (`end_of_day`: its last microsecond). In UTC: PostgreSQL takes no offset beyond ±15:59,
    and the database stores UTC anyway."""
    text = str(value).strip()
    invalid = serializers.ValidationError(_("Give a date (YYYY-MM-DD) or an ISO 8601 time."))
    try:
        # A bare date first: parse_datetime would read it as that day's midnight.
        day = parse_date(text) if len(text) == 10 else None
        parsed = None if day else parse_datetime(text)
    except ValueError:
        day = parsed = None
    try:
        if day is not None and end_of_day:
            instant = local_day_start(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)
        elif day is not None:
            instant = local_day_start(day)
        elif parsed is not None:
            instant = parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)
        else:
            raise invalid
        instant = instant.astimezone(dt.UTC)
    except OverflowError:  # the first or the last representable day, or beyond in UTC
        raise invalid from None
    # Before 1901 Asia/Shanghai is on local mean time (+08:05:43), which no RFC 3339 time
    # shown back can carry; and the pilot has nothing to say about then.
    if instant < EARLIEST_INSTANT:
        raise serializers.ValidationError(_("Give a time from 1970 on."))
    return instant


@extend_schema_field(OpenApiTypes.STR)
class InstantField(serializers.Field):  # type: ignore[type-arg]
    """A date (the start of that day in Asia/Shanghai) or an ISO 8601 date-time."""

    def to_internal_value(self, data: Any) -> dt.datetime:
        return parse_instant(data)

    def to_representation(self, value: dt.datetime) -> str:
        return value.isoformat()


class SegmentOutputSerializer(serializers.ModelSerializer[RoadSegment]):
    superseded_by = serializers.SerializerMethodField()
    approved_by_username = serializers.CharField(
        source="approved_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = RoadSegment
        fields = [
            "id",
            "series",
            "version",
            "supersedes",
            "superseded_by",
            "kind",
            "name",
            "road_code",
            "two_way",
            "geometry",
            "corridor_half_width_m",
            "length_m",
            "area_m2",
            "status",
            "status_reason",
            "valid_from",
            "valid_to",
            "approval_ref",
            "approved_by",
            "approved_by_username",
            "approved_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_superseded_by(self, segment: RoadSegment) -> int | None:
        try:
            return int(segment.superseded_by.pk)
        except RoadSegment.DoesNotExist:
            return None


def segment_feature(segment: RoadSegment) -> dict[str, Any]:
    """A segment as a GeoJSON Feature: the geometry, and every other field as a property."""
    properties = dict(SegmentOutputSerializer(segment).data)
    geometry = properties.pop("geometry")
    return {"type": "Feature", "id": segment.pk, "geometry": geometry, "properties": properties}


def feature_collection(segments: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [segment_feature(s) for s in segments]}


class SegmentCreateInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=RoadSegment.Kind.choices)
    geometry = serializers.JSONField(
        help_text="GeoJSON geometry in WGS-84: LineString/MultiLineString for a road, "
        "Polygon/MultiPolygon for an area."
    )
    two_way = serializers.BooleanField(required=False, default=True)
    road_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    corridor_half_width_m = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        default=None,
        help_text="Roads only; 15 m when left out.",
    )
    repair = serializers.BooleanField(
        required=False, default=False, help_text="Repair an invalid polygon with make_valid."
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SegmentUpdateInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    kind = serializers.ChoiceField(choices=RoadSegment.Kind.choices, required=False)
    geometry = serializers.JSONField(required=False)
    two_way = serializers.BooleanField(required=False)
    road_code = serializers.CharField(max_length=40, required=False, allow_blank=True)
    corridor_half_width_m = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
    )
    repair = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SegmentReasonInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SegmentApproveInputSerializer(InputSerializer):
    valid_from = InstantField(help_text="Date (start of that day, Asia/Shanghai) or time.")
    valid_to = InstantField(
        required=False, allow_null=True, default=None, help_text="Exclusive; empty = open."
    )
    approval_ref = serializers.CharField(max_length=100, help_text="批文号")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class SegmentReinstateInputSerializer(SegmentApproveInputSerializer):
    reason = serializers.CharField(max_length=2000)


class SegmentEndInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000)
    effective_at = InstantField(
        required=False, allow_null=True, default=None, help_text="Default: now."
    )


class SegmentImportInputSerializer(InputSerializer):
    file = serializers.FileField(help_text=".geojson/.json, .kml, or a zipped Shapefile (.zip)")
    crs = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="gcj02, EPSG:4326, EPSG:4547...; required when the file does not state one.",
    )
    commit = serializers.BooleanField(required=False, default=False)
    repair = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ImportItemOutputSerializer(serializers.Serializer[Any]):
    index = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    geometry_type = serializers.CharField()
    two_way = serializers.BooleanField()
    length_m = serializers.FloatField(allow_null=True)
    area_m2 = serializers.FloatField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    segment_id = serializers.IntegerField(allow_null=True)


class ImportReportOutputSerializer(serializers.Serializer[Any]):
    format = serializers.CharField()
    source_crs = serializers.CharField()
    committed = serializers.BooleanField()
    feature_count = serializers.IntegerField()
    problem_count = serializers.IntegerField()
    road_length_m = serializers.FloatField()
    area_m2 = serializers.FloatField()
    notes = serializers.ListField(child=serializers.CharField())
    items = ImportItemOutputSerializer(many=True)


def import_report_data(report: ImportReport) -> dict[str, Any]:
    return {
        "format": report.format,
        "source_crs": report.source_crs,
        "committed": report.committed,
        "feature_count": len(report.items),
        "problem_count": report.problem_count,
        "road_length_m": float(centimetres(report.road_length_m)),
        "area_m2": round(report.area_m2, 1),
        "notes": report.notes,
        "items": [
            {
                "index": item.index,
                "name": item.name,
                "kind": item.kind,
                "geometry_type": item.geometry_type,
                "two_way": item.two_way,
                "length_m": None if item.length_m is None else float(centimetres(item.length_m)),
                "area_m2": None if item.area_m2 is None else round(item.area_m2, 1),
                "problems": item.problems,
                "notes": item.notes,
                "segment_id": item.segment_id,
            }
            for item in report.items
        ],
    }


class SummaryOutputSerializer(serializers.Serializer[Any]):
    as_of = serializers.DateTimeField()
    open_road_km = serializers.FloatField(help_text="Centreline km of roads valid then.")
    two_way_operating_km = serializers.FloatField(help_text="Two-way roads count twice.")
    target_two_way_km = serializers.FloatField()
    target_progress = serializers.FloatField(help_text="two_way_operating_km / target.")
    open_roads = serializers.IntegerField()
    open_areas = serializers.IntegerField()
    open_area_km2 = serializers.FloatField()
    by_status = serializers.DictField(child=serializers.IntegerField())
