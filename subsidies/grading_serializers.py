"""API shapes of the scorecard and the grade it proposes. Serializers never save."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api import InputSerializer

from .models import GradingPolicy


def _km(help_text: str = "") -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=16, decimal_places=3, help_text=help_text)


def _rate(help_text: str = "") -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, help_text=help_text
    )


class ScorecardOutputSerializer(serializers.Serializer[Any]):
    autonomous_km = _km("Accepted trips' autonomous km.")
    zone_km = _km("Autonomous km in approved zones.")
    disengagements = serializers.IntegerField(help_text="Exits from the ADS (recorder).")
    system_disengagements = serializers.IntegerField()
    driver_disengagements = serializers.IntegerField()
    per_1000_km = _rate("Per 1,000 autonomous km.")
    system_per_1000_km = _rate()
    driver_per_1000_km = _rate()
    mrms = serializers.IntegerField(help_text="Minimum-risk manoeuvres.")
    severe_failures = serializers.IntegerField()
    collisions = serializers.IntegerField()
    active_days = serializers.IntegerField(help_text="Local days with autonomous km.")
    vehicles = serializers.IntegerField(help_text="Vehicles with autonomous km.")


class ProposalOutputSerializer(serializers.Serializer[Any]):
    grade = serializers.CharField()
    policy_version = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


def assessment_seen_version() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text="The grade's `version` as read, 0 for a company-year not yet graded; "
        "refused (400 on `seen_version`) if someone graded it since. Left out: not checked.",
    )


class AcceptProposalInputSerializer(InputSerializer):
    operator = serializers.IntegerField(help_text="Company id.")
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    seen_version = assessment_seen_version()


class ReportInputSerializer(InputSerializer):
    operator = serializers.IntegerField(help_text="Company id.")
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    file = serializers.ChoiceField(choices=["xlsx", "csv", "pdf"], default="pdf")


def _threshold_km() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=3, min_value=0)


def _threshold_rate() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0)


class GradingPolicyInputSerializer(InputSerializer):
    version = serializers.IntegerField(min_value=1, max_value=1_000_000)
    name = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    a_min_zone_km = _threshold_km()
    a_max_per_1000_km = _threshold_rate()
    a_max_collisions = serializers.IntegerField(min_value=0, max_value=1_000_000)
    b_min_zone_km = _threshold_km()
    b_max_per_1000_km = _threshold_rate()
    b_max_collisions = serializers.IntegerField(min_value=0, max_value=1_000_000)
    c_min_zone_km = _threshold_km()
    c_max_per_1000_km = _threshold_rate()
    c_max_collisions = serializers.IntegerField(min_value=0, max_value=1_000_000)


class GradingPolicyOutputSerializer(serializers.ModelSerializer[GradingPolicy]):
    class Meta:
        model = GradingPolicy
        fields = [
            "id",
            "version",
            "name",
            "reference",
            "valid_from",
            "valid_to",
            "a_min_zone_km",
            "a_max_per_1000_km",
            "a_max_collisions",
            "b_min_zone_km",
            "b_max_per_1000_km",
            "b_max_collisions",
            "c_min_zone_km",
            "c_max_per_1000_km",
            "c_max_collisions",
            "created_at",
        ]
        read_only_fields = fields
