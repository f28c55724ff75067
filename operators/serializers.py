"""Input and output shapes of the companies and vehicles API. Serializers never save."""

from typing import Any

from rest_framework import serializers

from core.api import InputSerializer

from .models import BankDetailsChange, Operator, Vehicle, mask_account


class OperatorOutputSerializer(serializers.ModelSerializer[Operator]):
    eligible_from = serializers.DateField(read_only=True, allow_null=True)
    # A string, not an EmailField: the schema's "format: email" refused the empty value a
    # company without a contact address has.
    contact_email = serializers.CharField(read_only=True, help_text="An e-mail address, or empty.")
    bank_account = serializers.SerializerMethodField(help_text="Masked: the first and last four.")

    class Meta:
        model = Operator
        fields = [
            "id",
            "name",
            "credit_code",
            "settled_on",
            "pilot_admitted_on",
            "eligible_from",
            "status",
            "contact_name",
            "contact_phone",
            "contact_email",
            "bank_name",
            "bank_account",
            "created_at",
        ]
        read_only_fields = fields

    def get_bank_account(self, operator: Operator) -> str:
        return mask_account(operator.bank_account)


class BankDetailsInputSerializer(InputSerializer):
    bank_name = serializers.CharField(max_length=200)
    bank_account = serializers.CharField(max_length=60)


class BankDetailsDecisionInputSerializer(InputSerializer):
    change = serializers.IntegerField(help_text="The pending change's id.")
    confirm = serializers.BooleanField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class BankDetailsChangeOutputSerializer(serializers.ModelSerializer[BankDetailsChange]):
    bank_account = serializers.SerializerMethodField()

    class Meta:
        model = BankDetailsChange
        fields = [
            "id",
            "operator",
            "bank_name",
            "bank_account",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = fields

    def get_bank_account(self, change: BankDetailsChange) -> str:
        return mask_account(change.bank_account)


class OperatorCreateInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=200)
    credit_code = serializers.CharField(max_length=40)
    settled_on = serializers.DateField(required=False, allow_null=True)
    contact_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)


class OperatorAdmitInputSerializer(InputSerializer):
    pilot_admitted_on = serializers.DateField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OperatorStatusInputSerializer(InputSerializer):
    status = serializers.ChoiceField(choices=[Operator.Status.SUSPENDED, Operator.Status.WITHDRAWN])
    reason = serializers.CharField(max_length=2000)


class VehicleOutputSerializer(serializers.ModelSerializer[Vehicle]):
    operator_name = serializers.CharField(source="operator.name", read_only=True)

    class Meta:
        model = Vehicle
        fields = [
            "id",
            "operator",
            "operator_name",
            "vin",
            "plate",
            "category",
            "permit_number",
            "permit_valid_from",
            "permit_valid_to",
            "status",
            "created_at",
        ]
        read_only_fields = fields


class VehicleCreateInputSerializer(InputSerializer):
    operator = serializers.IntegerField(
        required=False, help_text="Company id; company staff may omit it (their own)."
    )
    vin = serializers.CharField(max_length=40)
    plate = serializers.CharField(max_length=20)
    category = serializers.ChoiceField(choices=Vehicle.Category.choices)
    permit_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    permit_valid_from = serializers.DateField(required=False, allow_null=True)
    permit_valid_to = serializers.DateField(required=False, allow_null=True)


class VehicleUpdateInputSerializer(InputSerializer):
    plate = serializers.CharField(max_length=20, required=False)
    category = serializers.ChoiceField(choices=Vehicle.Category.choices, required=False)
    permit_number = serializers.CharField(max_length=64, required=False, allow_blank=True)
    permit_valid_from = serializers.DateField(required=False, allow_null=True)
    permit_valid_to = serializers.DateField(required=False, allow_null=True)


class VehicleApproveInputSerializer(InputSerializer):
    permit_number = serializers.CharField(max_length=64)
    permit_valid_from = serializers.DateField()
    permit_valid_to = serializers.DateField()
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class VehicleStatusInputSerializer(InputSerializer):
    status = serializers.ChoiceField(
        choices=[Vehicle.Status.REJECTED, Vehicle.Status.SUSPENDED, Vehicle.Status.RETIRED]
    )
    reason = serializers.CharField(max_length=2000)


class TokenInputSerializer(InputSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class TokenOutputSerializer(serializers.Serializer[Any]):
    token = serializers.CharField()
