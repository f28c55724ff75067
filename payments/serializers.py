"""Input and output shapes of the payments API. Serializers never save; money is a string."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api import InputSerializer
from operators.models import mask_account
from subsidies.money import KM_MAX_DIGITS, MONEY_MAX_DIGITS, MONEY_PLACES

from .models import (
    Clawback,
    Objection,
    Payment,
    PaymentBatch,
    WorkCalendarDay,
    WorkCalendarYear,
)


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_PLACES, **kwargs
    )


class PublicNoticeQueryInputSerializer(InputSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class PublicNoticeRowOutputSerializer(serializers.Serializer[Any]):
    statement_id = serializers.IntegerField()
    operator_name = serializers.CharField()
    credit_code = serializers.CharField()
    year = serializers.IntegerField()
    kind = serializers.CharField()
    km = serializers.DecimalField(max_digits=KM_MAX_DIGITS, decimal_places=3)
    amount_yuan = _money()
    document_number = serializers.CharField()
    issued_on = serializers.DateField(allow_null=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    is_open = serializers.BooleanField()


class PublicNoticeOutputSerializer(serializers.Serializer[Any]):
    year = serializers.IntegerField()
    how_to_object = serializers.CharField()
    rows = PublicNoticeRowOutputSerializer(many=True)
    total_km = serializers.DecimalField(max_digits=KM_MAX_DIGITS, decimal_places=3)
    total_yuan = _money()


class ObjectionInputSerializer(InputSerializer):
    name = serializers.CharField(max_length=100)
    contact = serializers.CharField(max_length=200, help_text="A phone number or an address.")
    text = serializers.CharField(max_length=5000)


class ObjectionReceiptOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    statement = serializers.IntegerField(source="statement_id")
    submitted_at = serializers.DateTimeField()
    status = serializers.CharField()


class ObjectionOutputSerializer(serializers.ModelSerializer[Objection]):
    class Meta:
        model = Objection
        fields = [
            "id",
            "statement",
            "name",
            "contact",
            "text",
            "submitted_at",
            "status",
            "resolution",
            "resolved_by",
            "resolved_at",
        ]
        read_only_fields = fields


class ObjectionResolveInputSerializer(InputSerializer):
    outcome = serializers.ChoiceField(choices=["upheld", "dismissed"])
    reason = serializers.CharField(max_length=2000)


class PaymentOutputSerializer(serializers.ModelSerializer[Payment]):
    bank_account = serializers.SerializerMethodField(help_text="Masked: the first and last four.")
    paid_yuan = _money(read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "statement",
            "payee",
            "credit_code",
            "bank_name",
            "bank_account",
            "amount_yuan",
            "offset_yuan",
            "paid_yuan",
            "bank_reference",
        ]
        read_only_fields = fields

    def get_bank_account(self, payment: Payment) -> str:
        return mask_account(payment.bank_account)


class PaymentBatchOutputSerializer(serializers.ModelSerializer[PaymentBatch]):
    payments = PaymentOutputSerializer(many=True, read_only=True)
    total_yuan = serializers.SerializerMethodField()

    class Meta:
        model = PaymentBatch
        fields = [
            "id",
            "purpose",
            "status",
            "created_by",
            "created_at",
            "issued_by",
            "issued_at",
            "paid_by",
            "paid_at",
            "total_yuan",
            "payments",
        ]
        read_only_fields = fields

    def get_total_yuan(self, batch: PaymentBatch) -> str:
        return str(sum((p.paid_yuan for p in batch.payments.all()), 0))


class PaymentBatchInputSerializer(InputSerializer):
    statements = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    purpose = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class BatchActionInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class BatchPaidInputSerializer(InputSerializer):
    references = serializers.DictField(
        child=serializers.CharField(max_length=100),
        help_text="The bank's reference of each payment, keyed by statement id.",
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ClawbackOutputSerializer(serializers.ModelSerializer[Clawback]):
    class Meta:
        model = Clawback
        fields = [
            "id",
            "statement",
            "payment_entry",
            "amount_yuan",
            "penalty_yuan",
            "legal_basis",
            "reason",
            "status",
            "bank_reference",
            "offset_statement",
            "penalty_status",
            "penalty_bank_reference",
            "opened_by",
            "opened_at",
        ]
        read_only_fields = fields


class ClawbackInputSerializer(InputSerializer):
    statement = serializers.IntegerField()
    amount_yuan = _money(min_value=0)
    penalty_yuan = _money(min_value=0, required=False, default="0.00")
    reason = serializers.CharField(max_length=2000)


class ClawbackRecoverInputSerializer(InputSerializer):
    bank_reference = serializers.CharField(max_length=100)


class ClawbackOffsetInputSerializer(InputSerializer):
    statement = serializers.IntegerField(help_text="The company's issued, unpaid statement.")


class DayRangeInputSerializer(InputSerializer):
    start = serializers.DateField()
    end = serializers.DateField(required=False, help_text="Left out: the start day alone.")
    kind = serializers.ChoiceField(choices=WorkCalendarDay.Kind.choices)
    name = serializers.CharField(max_length=50, help_text="e.g. 春节, 春节调休")


class WorkCalendarInputSerializer(InputSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)
    # `source` shadows Field.source in the stubs; it is the model's name for it all the same.
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=200, help_text="e.g. 国办发明电〔2026〕7号"
    )
    ranges = DayRangeInputSerializer(many=True, allow_empty=False)
    reason = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Given: a correction of an entered year, a new revision that supersedes "
        "the one in effect (which stays). Left out: the year's first entry.",
    )
    seen_revision = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="With a correction: the revision it corrects; refused (400) if a newer one "
        "came since. Left out: not checked.",
    )


class WorkCalendarDayOutputSerializer(serializers.ModelSerializer[WorkCalendarDay]):
    class Meta:
        model = WorkCalendarDay
        fields = ["day", "kind", "name"]
        read_only_fields = fields


class WorkCalendarOutputSerializer(serializers.ModelSerializer[WorkCalendarYear]):
    days = WorkCalendarDayOutputSerializer(many=True, read_only=True)

    class Meta:
        model = WorkCalendarYear
        fields = ["year", "revision", "source", "reason", "entered_by", "entered_at", "days"]
        read_only_fields = fields
