"""Input and output shapes of the recorder API. Serializers never save."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api import InputSerializer

from .models import Incident


class AdsEventImportInputSerializer(InputSerializer):
    file = serializers.FileField(
        allow_empty_file=False,
        help_text="CSV (time, vin, event, initiator[, lat, lon, note]) or JSON lines.",
    )


class AdsEventImportOutputSerializer(serializers.Serializer[Any]):
    file_id = serializers.IntegerField(source="file.pk")
    sha256 = serializers.CharField(source="file.sha256")
    rows = serializers.IntegerField()
    created = serializers.IntegerField(help_text="Events new to the ledger (the rest were known).")
    incidents = serializers.IntegerField(help_text="Incidents opened by new collisions.")


class IncidentOutputSerializer(serializers.ModelSerializer[Incident]):
    vin = serializers.CharField(source="vehicle.vin")
    overdue = serializers.BooleanField(help_text="Still open past its report deadline.")

    class Meta:
        model = Incident
        fields = [
            "id",
            "operator",
            "vehicle",
            "vin",
            "occurred_at",
            "report_due_at",
            "status",
            "overdue",
            "reported_at",
            "report",
            "cause",
            "injured",
            "damage",
            "closed_at",
            "close_reason",
        ]
        read_only_fields = fields


class IncidentReportInputSerializer(InputSerializer):
    report = serializers.CharField(max_length=5000, help_text="What happened.")
    cause = serializers.CharField(max_length=200)
    injured = serializers.IntegerField(
        min_value=0, max_value=32767, help_text="How many people were injured (0 if none)."
    )
    damage = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="Damage done."
    )


class IncidentCloseInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the incident is closed.")
