"""Input and output shapes of the terminals API. Serializers never save."""

from typing import Any

from rest_framework import serializers

from core.api import InputSerializer

from .models import Terminal


class TerminalOutputSerializer(serializers.ModelSerializer[Terminal]):
    vin = serializers.CharField(source="vehicle.vin", read_only=True)

    class Meta:
        model = Terminal
        fields = [
            "id",
            "vehicle",
            "vin",
            "protocol",
            "terminal_id",
            "active",
            "claimed_at",
            "registered_at",
            "deactivated_at",
        ]
        read_only_fields = fields


class TerminalCreatedOutputSerializer(TerminalOutputSerializer):
    auth_code = serializers.SerializerMethodField(
        help_text="Shown once, in this answer only: write it into the device."
    )

    class Meta(TerminalOutputSerializer.Meta):
        fields = [*TerminalOutputSerializer.Meta.fields, "auth_code"]
        read_only_fields = fields

    def get_auth_code(self, terminal: Terminal) -> str:
        return str(self.context["auth_code"])


class TerminalCreateInputSerializer(InputSerializer):
    vehicle = serializers.IntegerField()
    protocol = serializers.ChoiceField(choices=Terminal.Protocol.choices)
    terminal_id = serializers.CharField(max_length=20)


class TerminalDeactivateInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class LivePositionOutputSerializer(serializers.Serializer[Any]):
    vehicle_id = serializers.IntegerField()
    vin = serializers.CharField()
    plate = serializers.CharField()
    operator_name = serializers.CharField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    autonomous = serializers.BooleanField()
    speed_kmh = serializers.FloatField(allow_null=True)
    last_fix_at = serializers.DateTimeField()
    last_received_at = serializers.DateTimeField()
    in_zone = serializers.BooleanField()
