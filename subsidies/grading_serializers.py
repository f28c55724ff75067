"""API shapes of the scorecard and the grade it proposes. Serializers never save."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api import InputSerializer


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


class AcceptProposalInputSerializer(InputSerializer):
    operator = serializers.IntegerField(help_text="Company id.")
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class ReportInputSerializer(InputSerializer):
    operator = serializers.IntegerField(help_text="Company id.")
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    file = serializers.ChoiceField(choices=["xlsx", "csv", "pdf"], default="pdf")
