"""Subsidy policy, grades, statements, their drill-down lines and the append-only ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.chain import plain_decimal, plain_time
from core.models import ChainedModel
from core.units import METRES_PLACES, METRES_SUM_MAX_DIGITS
from operators.models import Operator
from trips.models import Trip

from .money import (
    KM_MAX_DIGITS,
    KM_PLACES,
    MONEY_MAX_DIGITS,
    MONEY_PLACES,
    RATE_MAX_DIGITS,
    RATE_PLACES,
    Reason,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

GRADES = ("A", "B", "C", "D")
# A statement line holds one trip's metres on one day (core.units allows 12 digits a row).
LINE_METRES_MAX_DIGITS = 14


def money_field(verbose_name: StrOrPromise, **kwargs: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(
        verbose_name, max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_PLACES, **kwargs
    )


def rate_field(verbose_name: StrOrPromise, **kwargs: Any) -> models.DecimalField[Any, Any]:
    return models.DecimalField(
        verbose_name, max_digits=RATE_MAX_DIGITS, decimal_places=RATE_PLACES, **kwargs
    )


class SubsidyPolicy(models.Model):
    """One version of the subsidy rules (policy article 8); kilometres count inside its window.

    The default version's window (2022-01-01 to 2026-12-31) stands in for the policy's five
    years: set it to the real issue date + 5 years (docs/subsidies.md).
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    reference = models.CharField(_("document reference"), max_length=200, blank=True)
    valid_from = models.DateField(_("kilometres count from"))
    valid_to = models.DateField(_("kilometres count to (inclusive)"))
    max_rate_yuan_per_km = rate_field(_("maximum rate (yuan/km)"))
    annual_cap_yuan = money_field(_("annual cap per company (yuan)"))
    max_paid_years = models.PositiveSmallIntegerField(_("maximum number of paid years"))
    rate_a_yuan_per_km = rate_field(_("rate for grade A (yuan/km)"))
    rate_b_yuan_per_km = rate_field(_("rate for grade B (yuan/km)"))
    rate_c_yuan_per_km = rate_field(_("rate for grade C (yuan/km)"))
    rate_d_yuan_per_km = rate_field(_("rate for grade D (yuan/km)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("subsidy policy")
        verbose_name_plural = _("subsidy policies")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=F("valid_from")), name="policy_window_ordered"
            ),
            models.CheckConstraint(
                condition=Q(annual_cap_yuan__gte=0) & Q(max_rate_yuan_per_km__gte=0),
                name="policy_cap_and_max_rate_not_negative",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"rate_{g}_yuan_per_km__gte": 0})
                    & Q(**{f"rate_{g}_yuan_per_km__lte": F("max_rate_yuan_per_km")}),
                    name=f"policy_rate_{g}_within_max",
                )
                for g in "abcd"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}"

    @property
    def rates(self) -> dict[str, Decimal]:
        return {g: getattr(self, f"rate_{g.lower()}_yuan_per_km") for g in GRADES}


class GradingPolicy(models.Model):
    """One version of the grading rules: the thresholds that propose a grade from a company's
    scorecard (subsidies/scorecard.py). A grade is proposed when every one of its thresholds
    is met, trying A, then B, then C; otherwise D. Versioned by validity window like
    SubsidyPolicy; no version is seeded (docs/recorder.md, "Grading")."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    reference = models.CharField(_("document reference"), max_length=200, blank=True)
    valid_from = models.DateField(_("applies to years from"))
    valid_to = models.DateField(_("applies to years to (inclusive)"))
    a_min_zone_km = models.DecimalField(
        _("A: minimum km in approved zones"), max_digits=12, decimal_places=3
    )
    a_max_per_1000_km = models.DecimalField(
        _("A: maximum disengagements per 1,000 km"), max_digits=8, decimal_places=2
    )
    a_max_collisions = models.PositiveIntegerField(_("A: maximum collisions"))
    b_min_zone_km = models.DecimalField(
        _("B: minimum km in approved zones"), max_digits=12, decimal_places=3
    )
    b_max_per_1000_km = models.DecimalField(
        _("B: maximum disengagements per 1,000 km"), max_digits=8, decimal_places=2
    )
    b_max_collisions = models.PositiveIntegerField(_("B: maximum collisions"))
    c_min_zone_km = models.DecimalField(
        _("C: minimum km in approved zones"), max_digits=12, decimal_places=3
    )
    c_max_per_1000_km = models.DecimalField(
        _("C: maximum disengagements per 1,000 km"), max_digits=8, decimal_places=2
    )
    c_max_collisions = models.PositiveIntegerField(_("C: maximum collisions"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grading policy")
        verbose_name_plural = _("grading policies")
        ordering = ["-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=F("valid_from")), name="gradingpolicy_window_ordered"
            ),
            # A better grade never asks less than a worse one.
            models.CheckConstraint(
                condition=Q(a_min_zone_km__gte=F("b_min_zone_km"))
                & Q(b_min_zone_km__gte=F("c_min_zone_km"))
                & Q(c_min_zone_km__gte=0)
                & Q(a_max_per_1000_km__lte=F("b_max_per_1000_km"))
                & Q(b_max_per_1000_km__lte=F("c_max_per_1000_km"))
                & Q(a_max_per_1000_km__gte=0)
                & Q(a_max_collisions__lte=F("b_max_collisions"))
                & Q(b_max_collisions__lte=F("c_max_collisions")),
                name="gradingpolicy_grades_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}"

    def thresholds(self, grade: str) -> tuple[Decimal, Decimal, int]:
        """(minimum km in approved zones, maximum disengagements per 1,000 km, maximum
        collisions) of grade A, B or C."""
        g = grade.lower()
        return (
            getattr(self, f"{g}_min_zone_km"),
            getattr(self, f"{g}_max_per_1000_km"),
            getattr(self, f"{g}_max_collisions"),
        )


class Assessment(models.Model):
    """The bureau's demonstration-effect grade (示范应用效果) for an operator and year."""

    class Grade(models.TextChoices):
        A = "A", _("A — excellent (优秀)")
        B = "B", _("B — good (良好)")
        C = "C", _("C — pass (合格)")
        D = "D", _("D — fail (不合格)")

    operator = models.ForeignKey(
        Operator, verbose_name=_("company"), on_delete=models.PROTECT, related_name="assessments"
    )
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)
    score = models.DecimalField(
        _("score"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    notes = models.TextField(_("notes"), blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assessed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    assessed_at = models.DateTimeField(_("assessed at"))
    # The proposal the grade was decided against (empty: no grading policy covered the year),
    # the scorecard behind it as it stood then, and why the bureau chose otherwise.
    proposed_grade = models.CharField(
        _("proposed grade"), max_length=1, choices=Grade.choices, blank=True
    )
    grading_policy = models.ForeignKey(
        GradingPolicy,
        verbose_name=_("grading policy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments",
    )
    scorecard = models.JSONField(_("scorecard"), default=dict, blank=True)
    override_reason = models.TextField(_("reason for overriding the proposal"), blank=True)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-year", "operator__name"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "year"], name="assessment_once_per_year"),
            models.CheckConstraint(condition=Q(grade__in=GRADES), name="assessment_grade_valid"),
            # A grade other than the proposal carries its reason.
            models.CheckConstraint(
                condition=Q(proposed_grade="")
                | Q(grade=F("proposed_grade"))
                | ~Q(override_reason=""),
                name="assessment_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.year} {self.grade}"


class Statement(models.Model):
    """What an operator-year earns. Regular once; after issue, corrections are adjustments.

    `amount_yuan` is what this statement moves: the year's amount for a regular statement,
    the difference for an adjustment (`year_total_yuan` − `previously_issued_yuan`).
    """

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Regular")
        ADJUSTMENT = "adjustment", _("Adjustment")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        ISSUED = "issued", _("Issued")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void (superseded before issue)")

    class ReasonCode(models.TextChoices):
        NOT_ELIGIBLE = Reason.NOT_ELIGIBLE, _("Not eligible: not settled and admitted that year")
        OUTSIDE_WINDOW = Reason.OUTSIDE_WINDOW, _("Outside the policy window")
        PAID_YEARS_USED = Reason.PAID_YEARS_USED, _("Maximum number of paid years reached")
        NO_GRADE = Reason.NO_GRADE, _("No grade yet (blocked until graded)")
        ZERO_RATE = Reason.ZERO_RATE, _("The grade carries no subsidy")
        NO_KILOMETRES = Reason.NO_KILOMETRES, _("No eligible kilometres")
        CAPPED = Reason.CAPPED, _("Annual cap applied")
        COMPUTED = Reason.COMPUTED, _("Kilometres × rate")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        # A recomputation that changes an approved statement's figures sends it back.
        Status.DRAFT: {Status.APPROVED, Status.VOID},
        Status.APPROVED: {Status.ISSUED, Status.DRAFT, Status.VOID},
        Status.ISSUED: {Status.PAID},
        Status.PAID: set(),
        Status.VOID: set(),
    }
    OPEN = (Status.DRAFT, Status.APPROVED)
    ISSUED_STATUSES = (Status.ISSUED, Status.PAID)
    # What may still change on an issued statement: only its payment.
    MUTABLE_AFTER_ISSUE = frozenset({"status", "paid_at", "paid_by"})

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    operator = models.ForeignKey(
        Operator, verbose_name=_("company"), on_delete=models.PROTECT, related_name="statements"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    policy = models.ForeignKey(
        SubsidyPolicy,
        verbose_name=_("policy version"),
        on_delete=models.PROTECT,
        related_name="statements",
    )
    assessment = models.ForeignKey(
        Assessment,
        verbose_name=_("assessment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
    )
    counted_from = models.DateField(_("kilometres counted from"), null=True, blank=True)
    counted_to = models.DateField(_("kilometres counted to (inclusive)"), null=True, blank=True)
    eligible_m = models.DecimalField(
        _("eligible (m)"), max_digits=METRES_SUM_MAX_DIGITS, decimal_places=METRES_PLACES
    )
    km = models.DecimalField(_("eligible (km)"), max_digits=KM_MAX_DIGITS, decimal_places=KM_PLACES)
    trip_count = models.PositiveIntegerField(_("contributing trips"), default=0)
    grade = models.CharField(_("grade"), max_length=1, blank=True)
    rate_yuan_per_km = rate_field(_("rate (yuan/km)"), null=True, blank=True)
    gross_yuan = money_field(_("km × rate (yuan)"))
    cap_yuan = money_field(_("annual cap (yuan)"))
    cap_applied = models.BooleanField(_("cap applied"), default=False)
    cap_reduction_yuan = money_field(_("reduced by the cap (yuan)"))
    year_total_yuan = money_field(_("year's total (yuan)"))
    previously_issued_yuan = money_field(_("issued before (yuan)"))
    amount_yuan = money_field(_("amount (yuan)"))
    reason = models.CharField(_("reason"), max_length=30, choices=ReasonCode.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    computed_at = models.DateTimeField(_("computed at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    # The document number (文号) and date finance issues the statement under.
    document_number = models.CharField(_("document number"), max_length=100, blank=True, default="")
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked paid by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-year", "operator__name", "id"]
        constraints = [
            # One open (draft or approved) statement per operator-year, whatever its kind.
            models.UniqueConstraint(
                fields=["operator", "year"],
                condition=Q(status__in=["draft", "approved"]),
                name="statement_one_open_per_operator_year",
            ),
            # One regular statement per operator-year that is not void.
            models.UniqueConstraint(
                fields=["operator", "year"],
                condition=Q(kind="regular") & ~Q(status="void"),
                name="statement_one_regular_per_operator_year",
            ),
            models.CheckConstraint(
                condition=Q(year_total_yuan__gte=0) & Q(year_total_yuan__lte=F("cap_yuan")),
                name="statement_year_total_within_cap",
            ),
            models.CheckConstraint(
                condition=~Q(kind="regular") | Q(previously_issued_yuan=0),
                name="statement_regular_has_nothing_before",
            ),
            models.CheckConstraint(
                condition=Q(cap_applied=True) | Q(cap_reduction_yuan=0),
                name="statement_no_reduction_without_cap",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "approved", "void"]) | Q(issued_at__isnull=False),
                name="statement_issued_has_time",
            ),
            # A document number is issued once (statements issued before numbers have none).
            models.UniqueConstraint(
                fields=["document_number"],
                condition=~Q(document_number=""),
                name="statement_document_number_unique",
            ),
        ]
        indexes = [models.Index(fields=["year", "status"])]

    def __str__(self) -> str:
        return f"{self.operator} {self.year} {self.get_kind_display()} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Issued statements are immutable: only the payment may still be recorded.
        update_fields = kwargs.get("update_fields")
        if (
            not self._state.adding
            and (update_fields is None or not set(update_fields) <= self.MUTABLE_AFTER_ISSUE)
            and Statement.objects.filter(pk=self.pk, status__in=self.ISSUED_STATUSES).exists()
        ):
            raise TypeError("issued statements are immutable; compute an adjustment")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("statements are never deleted; a superseded draft becomes void")

    def clean(self) -> None:
        # Arithmetic between columns is checked here in Decimal, not as a database
        # constraint: SQLite evaluates it in binary floating point (0.21 − 0.22 ≠ −0.01).
        if self.amount_yuan != self.year_total_yuan - self.previously_issued_yuan:
            raise ValidationError(_("The amount must be the year's total less what was issued."))
        if self.cap_applied and self.cap_reduction_yuan != self.gross_yuan - self.year_total_yuan:
            raise ValidationError(_("The cap reduction must be the gross less the year's total."))


class StatementLine(models.Model):
    """A contributing trip's eligible metres on one local day of the statement's year.

    Frozen when finance approves the statement (a draft's drill-down is read live from the
    trip days, which change every night), and kept through issue and payment, so an issued
    statement shows what its amount rested on even if a trip is later re-verified (that
    flows into an adjustment). Withdrawing the approval (back to draft, void) drops them.
    Lines are written by one INSERT … SELECT from the trip days, so the foreign keys are
    not re-checked row by row in the database (a year can hold a million lines):
    statements are never deleted, trips are protected here and by their own rules.
    """

    statement = models.ForeignKey(
        Statement,
        verbose_name=_("statement"),
        on_delete=models.PROTECT,
        related_name="lines",
        db_constraint=False,
        db_index=False,  # the unique constraint's index leads with the statement
    )
    trip = models.ForeignKey(
        Trip,
        verbose_name=_("trip"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    day = models.DateField(_("day (Asia/Shanghai)"))
    eligible_m = models.DecimalField(
        _("eligible (m)"), max_digits=LINE_METRES_MAX_DIGITS, decimal_places=METRES_PLACES
    )

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["statement", "day", "trip"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "trip", "day"], name="statement_line_per_trip_day"
            ),
        ]
        # Whether a trip rests under an approved or issued statement: the frozen-figures
        # triggers ask it on every change of a trip, its days and segments (migration 0009).
        indexes = [models.Index(fields=["trip"], name="statement_line_trip")]

    def __str__(self) -> str:
        return f"{self.statement_id} {self.trip_id} {self.day}"


class LedgerEntry(ChainedModel):
    """An append-only money movement. Owed to an operator = accruals + adjustments − payments.

    Never updated or deleted: the model refuses here, and on PostgreSQL a trigger refuses
    any UPDATE or DELETE from any client (migration 0003). Each entry is a link in the
    ledger's hash chain (core/chain.py), whose head at issue is printed on the statement.
    """

    CHAIN = "ledger"

    class Kind(models.TextChoices):
        ACCRUAL = "accrual", _("Accrual (regular statement issued)")
        ADJUSTMENT = "adjustment", _("Adjustment (adjustment statement issued)")
        PAYMENT = "payment", _("Payment")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="ledger"
    )
    operator = models.ForeignKey(
        Operator, verbose_name=_("company"), on_delete=models.PROTECT, related_name="ledger"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    amount_yuan = money_field(_("amount (yuan)"))
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "kind"], name="ledger_one_entry_per_statement_and_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount_yuan} ({self.statement_id})"

    def chain_content(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "statement": self.statement_id,
            "operator": self.operator_id,
            "year": self.year,
            "amount_yuan": plain_decimal(self.amount_yuan, MONEY_PLACES),
            "at": plain_time(self.at),
            "actor": self.actor_id,
        }
