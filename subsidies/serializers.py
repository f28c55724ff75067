"""Input and output shapes of the subsidies API. Serializers never save; money is a string."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api import InputSerializer
from core.units import METRES_PLACES
from core.versions import version_of

from .grading_serializers import (
    ProposalOutputSerializer,
    ScorecardOutputSerializer,
    assessment_seen_version,
)
from .models import LINE_METRES_MAX_DIGITS, Assessment, LedgerEntry, Statement, SubsidyPolicy
from .money import (
    KM_MAX_DIGITS,
    KM_PLACES,
    MONEY_MAX_DIGITS,
    MONEY_PLACES,
    RATE_MAX_DIGITS,
    RATE_PLACES,
    capital_yuan,
)


class PolicyOutputSerializer(serializers.ModelSerializer[SubsidyPolicy]):
    class Meta:
        model = SubsidyPolicy
        fields = [
            "id",
            "version",
            "name",
            "reference",
            "valid_from",
            "valid_to",
            "max_rate_yuan_per_km",
            "annual_cap_yuan",
            "max_paid_years",
            "rate_a_yuan_per_km",
            "rate_b_yuan_per_km",
            "rate_c_yuan_per_km",
            "rate_d_yuan_per_km",
            "created_at",
        ]
        read_only_fields = fields


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_PLACES, min_value=0, **kwargs
    )


def _rate(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=RATE_MAX_DIGITS, decimal_places=RATE_PLACES, min_value=0, **kwargs
    )


class PolicyCreateInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=200)
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    max_rate_yuan_per_km = _rate()
    annual_cap_yuan = _money()
    max_paid_years = serializers.IntegerField(min_value=1, max_value=50)
    rate_a_yuan_per_km = _rate()
    rate_b_yuan_per_km = _rate()
    rate_c_yuan_per_km = _rate()
    rate_d_yuan_per_km = _rate()


class PolicyUpdateInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True)
    valid_from = serializers.DateField(required=False)
    valid_to = serializers.DateField(required=False)
    max_rate_yuan_per_km = _rate(required=False)
    annual_cap_yuan = _money(required=False)
    max_paid_years = serializers.IntegerField(min_value=1, max_value=50, required=False)
    rate_a_yuan_per_km = _rate(required=False)
    rate_b_yuan_per_km = _rate(required=False)
    rate_c_yuan_per_km = _rate(required=False)
    rate_d_yuan_per_km = _rate(required=False)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AssessmentOutputSerializer(serializers.ModelSerializer[Assessment]):
    operator_name = serializers.CharField(source="operator.name", read_only=True)
    assessed_by_username = serializers.CharField(source="assessed_by.username", read_only=True)
    proposed_grade = serializers.CharField(
        read_only=True, help_text="A–D as the scorecard proposed; empty without a grading policy."
    )

    class Meta:
        model = Assessment
        fields = [
            "id",
            "operator",
            "operator_name",
            "year",
            "grade",
            "score",
            "notes",
            "assessed_by",
            "assessed_by_username",
            "assessed_at",
            "proposed_grade",
            "override_reason",
            "scorecard",
        ]
        read_only_fields = fields


class AssessmentDetailOutputSerializer(AssessmentOutputSerializer):
    version = serializers.SerializerMethodField(
        help_text="Changes with every change of the grade; send it back as `seen_version` to "
        "change only the grade that was read."
    )

    class Meta(AssessmentOutputSerializer.Meta):
        fields = [*AssessmentOutputSerializer.Meta.fields, "version"]
        read_only_fields = fields

    def get_version(self, assessment: Assessment) -> int:
        return version_of(assessment)


class AssessmentInputSerializer(InputSerializer):
    operator = serializers.IntegerField(help_text="Company id.")
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    grade = serializers.ChoiceField(choices=Assessment.Grade.choices)
    score = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, allow_null=True
    )
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    seen_version = assessment_seen_version()


class AssessmentFiguresInputSerializer(InputSerializer):
    operator = serializers.IntegerField()
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class AssessmentFiguresOutputSerializer(serializers.Serializer[Any]):
    operator_id = serializers.IntegerField()
    year = serializers.IntegerField()
    eligible_km = serializers.DecimalField(max_digits=KM_MAX_DIGITS, decimal_places=KM_PLACES)
    autonomous_km = serializers.DecimalField(max_digits=KM_MAX_DIGITS, decimal_places=KM_PLACES)
    accepted_trips = serializers.IntegerField()
    disengagements = serializers.IntegerField()
    km_per_disengagement = serializers.DecimalField(
        max_digits=KM_MAX_DIGITS, decimal_places=3, allow_null=True
    )
    flagged_trips = serializers.IntegerField(help_text="Trips waiting for review.")
    rejected_trips = serializers.IntegerField()
    reviewed_trips = serializers.IntegerField()
    scorecard = ScorecardOutputSerializer(help_text="The recorder's scorecard (docs/recorder.md).")
    proposal = ProposalOutputSerializer(
        allow_null=True, help_text="The grade the policy in force proposes; null without one."
    )


class LedgerEntryOutputSerializer(serializers.ModelSerializer[LedgerEntry]):
    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount_yuan", "at", "actor"]
        read_only_fields = fields


STATEMENT_FIELDS = [
    "id",
    "kind",
    "operator",
    "operator_name",
    "operator_credit_code",
    "year",
    "policy",
    "policy_version",
    "counted_from",
    "counted_to",
    "eligible_m",
    "km",
    "trip_count",
    "grade",
    "rate_yuan_per_km",
    "gross_yuan",
    "cap_yuan",
    "cap_applied",
    "cap_reduction_yuan",
    "year_total_yuan",
    "previously_issued_yuan",
    "amount_yuan",
    "amount_capital",
    "reason",
    "status",
    "computed_at",
    "approved_by",
    "approved_at",
    "issued_by",
    "issued_at",
    "document_number",
    "issued_on",
    "paid_by",
    "paid_at",
]


class StatementOutputSerializer(serializers.ModelSerializer[Statement]):
    operator_name = serializers.CharField(source="operator.name", read_only=True)
    operator_credit_code = serializers.CharField(source="operator.credit_code", read_only=True)
    policy_version = serializers.IntegerField(source="policy.version", read_only=True)
    amount_capital = serializers.SerializerMethodField(help_text="The amount in 大写.")

    class Meta:
        model = Statement
        fields = STATEMENT_FIELDS
        read_only_fields = fields

    def get_amount_capital(self, statement: Statement) -> str:
        return capital_yuan(statement.amount_yuan)


class StatementDetailOutputSerializer(StatementOutputSerializer):
    ledger = LedgerEntryOutputSerializer(many=True, read_only=True)
    version = serializers.SerializerMethodField(
        help_text="Changes with every change of the statement; send it back as `seen_version` "
        "to approve, issue or mark paid only what was read."
    )

    class Meta(StatementOutputSerializer.Meta):
        fields = [*STATEMENT_FIELDS, "ledger", "version"]
        read_only_fields = fields

    def get_version(self, statement: Statement) -> int:
        return version_of(statement)


class StatementLineOutputSerializer(serializers.Serializer[Any]):
    """A drill-down line: frozen (approved and later) or a trip day read live (draft)."""

    trip = serializers.IntegerField(source="trip_id", read_only=True)
    external_id = serializers.CharField(source="trip.external_id", read_only=True)
    vehicle = serializers.IntegerField(source="trip.vehicle_id", read_only=True)
    vehicle_plate = serializers.CharField(source="trip.vehicle.plate", read_only=True)
    day = serializers.DateField(read_only=True)
    eligible_m = serializers.DecimalField(
        max_digits=LINE_METRES_MAX_DIGITS, decimal_places=METRES_PLACES, read_only=True
    )


class StatementActionInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    seen_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text="The statement's `version` as read; refused (400 on `seen_version`) if it "
        "changed since. Left out: not checked.",
    )


class StatementIssueInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    document_number = serializers.CharField(
        max_length=100, help_text="The document number (文号) it is issued under; unique."
    )
    issued_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Default: today."
    )
    seen_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text="The statement's `version` as read; refused (400 on `seen_version`) if it "
        "changed since. Left out: not checked.",
    )


class ComputeInputSerializer(InputSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class ComputeOutputSerializer(serializers.Serializer[Any]):
    year = serializers.IntegerField()
    queued = serializers.BooleanField()


class PublicNoticeInputSerializer(InputSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    file = serializers.ChoiceField(choices=["csv", "xlsx"], default="csv")
