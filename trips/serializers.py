"""Input and output shapes of the trips API. Serializers never save."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import InputSerializer

from .models import Trip, TripDay, TripSegment


class TripUploadInputSerializer(InputSerializer):
    vin = serializers.CharField(max_length=40)
    file = serializers.FileField(allow_empty_file=False)
    format = serializers.ChoiceField(choices=Trip.Format.choices, required=False)
    crs = serializers.ChoiceField(choices=Trip.Crs.choices, default=Trip.Crs.WGS84)
    mode = serializers.ChoiceField(
        choices=Trip.Mode.choices,
        required=False,
        help_text="Driving mode for the whole trip, for formats whose points carry none.",
    )
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)


class TripAcceptedOutputSerializer(serializers.ModelSerializer[Trip]):
    class Meta:
        model = Trip
        fields = ["id", "status"]
        read_only_fields = fields


class TripReasonOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()
    count = serializers.IntegerField(required=False)
    metres = serializers.FloatField(required=False)
    line = serializers.IntegerField(required=False, allow_null=True)


class TripSegmentOutputSerializer(serializers.ModelSerializer[TripSegment]):
    name = serializers.CharField(source="segment.name", read_only=True)
    approval_ref = serializers.CharField(source="segment.approval_ref", read_only=True)

    class Meta:
        model = TripSegment
        fields = ["segment", "name", "approval_ref", "eligible_m"]
        read_only_fields = fields


class TripDayOutputSerializer(serializers.ModelSerializer[TripDay]):
    class Meta:
        model = TripDay
        fields = ["day", "autonomous_m", "eligible_m"]
        read_only_fields = fields


class TripOutputSerializer(serializers.ModelSerializer[Trip]):
    vin = serializers.CharField(source="vehicle.vin", read_only=True)
    plate = serializers.CharField(source="vehicle.plate", read_only=True)
    # Declared, not generated: a read-only model field loses allow_blank, and the schema
    # then refused the empty value these fields have (format until detected, no mode).
    format = serializers.ChoiceField(choices=Trip.Format.choices, allow_blank=True, read_only=True)
    declared_mode = serializers.ChoiceField(
        choices=Trip.Mode.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Trip
        fields = [
            "id",
            "operator",
            "vehicle",
            "vin",
            "plate",
            "external_id",
            "status",
            "format",
            "crs",
            "declared_mode",
            "original_name",
            "raw_sha256",
            "raw_size",
            "received_at",
            "processed_at",
            "started_at",
            "ended_at",
            "points_total",
            "points_used",
            "total_m",
            "autonomous_m",
            "eligible_m",
            "disengagements",
        ]
        read_only_fields = fields


class TripConflictDetailOutputSerializer(serializers.ModelSerializer[Trip]):
    """The other trip of a conflict, beside this one (only a trip the reader may see)."""

    vin = serializers.CharField(source="vehicle.vin", read_only=True)
    plate = serializers.CharField(source="vehicle.plate", read_only=True)
    operator_name = serializers.CharField(source="operator.name", read_only=True)

    class Meta:
        model = Trip
        fields = [
            "id",
            "operator",
            "operator_name",
            "vehicle",
            "vin",
            "plate",
            "status",
            "raw_sha256",
            "received_at",
            "started_at",
            "ended_at",
            "points_used",
            "total_m",
            "eligible_m",
        ]
        read_only_fields = fields


class TripConflictOutputSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(
        help_text="overlaps_accepted_trip, same_content, same_fixes or replayed_trace."
    )
    trip = serializers.IntegerField(
        allow_null=True,
        help_text="The other trip; null when it is another company's (only that the "
        "recording was already submitted is told).",
    )
    own = serializers.BooleanField(help_text="The other trip is the same company's.")
    figures = serializers.DictField(
        child=serializers.FloatField(),
        help_text="For a near copy: median_distance_m, matched_share, matched_m, spread_m, "
        "path_median_m, time_offset_s.",
    )
    detail = TripConflictDetailOutputSerializer(source="other", allow_null=True)


class TripDetailOutputSerializer(TripOutputSerializer):
    reasons = TripReasonOutputSerializer(many=True, read_only=True)
    # The conflicting trips as the reader may see them (trips.selectors.trip_conflicts),
    # handed in by the view as context["conflicts"].
    conflicts = serializers.SerializerMethodField()
    segments = TripSegmentOutputSerializer(many=True, read_only=True)
    days = TripDayOutputSerializer(many=True, read_only=True)

    class Meta(TripOutputSerializer.Meta):
        fields = [
            *TripOutputSerializer.Meta.fields,
            "reasons",
            "segments",
            "days",
            "params",
            "code_version",
            "reviewed_by",
            "reviewed_at",
            "review_reason",
            "review_kept_trip",
            "conflicts",
        ]
        read_only_fields = fields

    @extend_schema_field(TripConflictOutputSerializer(many=True))
    def get_conflicts(self, trip: Trip) -> list[dict[str, Any]]:
        shown = self.context.get("conflicts", [])
        return list(TripConflictOutputSerializer(shown, many=True).data)


class TripReviewInputSerializer(InputSerializer):
    decision = serializers.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")])
    reason = serializers.CharField(max_length=2000)


class TripReverifyInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000)


class TripDeclareModeInputSerializer(InputSerializer):
    mode = serializers.ChoiceField(
        choices=Trip.Mode.choices, help_text="The driving mode of the whole trip."
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class TripWithdrawInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000)
