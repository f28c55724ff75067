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
            "reported_at",
        ]
        read_only_fields = fields
