"""After the statement: the public notice (公示) and its objections, payment batches with
one payment per statement, and clawbacks (追回) with their own append-only ledger."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel
from operators.models import mask_account
from subsidies.models import LedgerEntry, Statement, money_field

# 《财政违法行为处罚处分条例》第十四条: subsidies obtained by fraud are recovered, with a fine.
CLAWBACK_LEGAL_BASIS = "《财政违法行为处罚处分条例》第十四条"


class Notice(models.Model):
    """An issued statement's public notice: `working_days` PRC working days after the issue
    date, `starts_on` to `ends_on` inclusive; payment may go out from the day after."""

    statement = models.OneToOneField(
        Statement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="notice"
    )
    issued_on = models.DateField(_("issued on"))
    working_days = models.PositiveSmallIntegerField(_("working days"))
    starts_on = models.DateField(_("notice from"))
    ends_on = models.DateField(_("notice until (inclusive)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering = ["-ends_on", "statement_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_on__gt=F("issued_on")) & Q(ends_on__gte=F("starts_on")),
                name="notice_period_after_issue",
            ),
            models.CheckConstraint(condition=Q(working_days__gt=0), name="notice_has_days"),
        ]

    def __str__(self) -> str:
        return f"{self.statement} {self.starts_on}–{self.ends_on}"


class Objection(models.Model):
    """Anyone's objection to a statement on notice; finance upholds or dismisses it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        UPHELD = "upheld", _("Upheld")
        DISMISSED = "dismissed", _("Dismissed")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.OPEN: {Status.UPHELD, Status.DISMISSED},
        Status.UPHELD: set(),
        Status.DISMISSED: set(),
    }

    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="objections"
    )
    name = models.CharField(_("name"), max_length=100)
    contact = models.CharField(_("contact"), max_length=200)
    text = models.TextField(_("objection"), max_length=5000)
    submitted_at = models.DateTimeField(_("submitted at"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.TextField(_("reason of the decision"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open")
                | (Q(resolved_by__isnull=False) & Q(resolved_at__isnull=False) & ~Q(resolution="")),
                name="objection_decided_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.statement_id} {self.status}"


class PaymentBatch(models.Model):
    """Issued statements whose notice has closed, paid together through the treasury."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ISSUED = "issued", _("Sent to the treasury")
        PAID = "paid", _("Paid")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.DRAFT: {Status.ISSUED},
        Status.ISSUED: {Status.PAID},
        Status.PAID: set(),
    }

    purpose = models.CharField(_("purpose"), max_length=200)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("made by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("made at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("sent at"), null=True, blank=True)
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
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(issued_by__isnull=False),
                name="batch_sent_has_sender",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_by__isnull=False),
                name="batch_paid_has_payer",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.purpose}"


class Payment(models.Model):
    """One statement's payment in a batch, with the payee's bank details as sent.

    `amount_yuan` is the statement's amount; `offset_yuan` what a clawback withholds from it
    (an explicit line); the treasury pays the difference."""

    batch = models.ForeignKey(
        PaymentBatch, verbose_name=_("batch"), on_delete=models.PROTECT, related_name="payments"
    )
    statement = models.OneToOneField(
        Statement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="payment"
    )
    payee = models.CharField(_("payee"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18)
    bank_name = models.CharField(_("bank"), max_length=200)
    bank_account = models.CharField(_("account number"), max_length=40)
    amount_yuan = money_field(_("amount (yuan)"))
    offset_yuan = money_field(_("withheld for a clawback (yuan)"), default=0)
    bank_reference = models.CharField(_("bank reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["batch", "payee", "statement_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_yuan__gt=0)
                & Q(offset_yuan__gte=0)
                & Q(offset_yuan__lte=F("amount_yuan")),
                name="payment_positive_and_offset_within",
            ),
            models.UniqueConstraint(
                fields=["bank_reference"],
                condition=~Q(bank_reference=""),
                name="payment_bank_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payee} {self.amount_yuan}"

    @property
    def paid_yuan(self) -> Any:
        return self.amount_yuan - self.offset_yuan

    @property
    def masked_account(self) -> str:
        """The account as pages show it (the file to the treasury carries it whole)."""
        return mask_account(self.bank_account)


class Clawback(models.Model):
    """Money paid on a statement that proved wrong, to be recovered (追回), with an optional
    penalty: a separate receivable, recovered only by bank, never netted against a subsidy."""

    class Status(models.TextChoices):
        DUE = "due", _("Due")
        RECOVERED = "recovered", _("Recovered")
        OFFSET = "offset", _("Offset against a later statement")

    class PenaltyStatus(models.TextChoices):
        NONE = "none", _("No penalty")
        DUE = "due", _("Due")
        RECOVERED = "recovered", _("Recovered")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.DUE: {Status.RECOVERED, Status.OFFSET},
        Status.RECOVERED: set(),
        Status.OFFSET: set(),
    }

    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="clawbacks"
    )
    payment_entry = models.ForeignKey(
        LedgerEntry, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="+"
    )
    amount_yuan = money_field(_("to recover (yuan)"))
    penalty_yuan = money_field(_("penalty (yuan)"), default=0)
    legal_basis = models.CharField(_("legal basis"), max_length=200, default=CLAWBACK_LEGAL_BASIS)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default="due")
    bank_reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    offset_statement = models.ForeignKey(
        Statement,
        verbose_name=_("offset against"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offsets",
    )
    penalty_status = models.CharField(
        _("penalty status"), max_length=20, choices=PenaltyStatus.choices, default="none"
    )
    penalty_bank_reference = models.CharField(
        _("penalty bank reference"), max_length=100, blank=True
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened at"))

    class Meta:
        verbose_name = _("clawback")
        verbose_name_plural = _("clawbacks")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_yuan__gt=0) & Q(penalty_yuan__gte=0),
                name="clawback_amounts_positive",
            ),
            models.CheckConstraint(
                condition=~Q(status="recovered") | ~Q(bank_reference=""),
                name="clawback_recovered_has_reference",
            ),
            models.CheckConstraint(
                condition=(Q(status="offset") & Q(offset_statement__isnull=False))
                | (~Q(status="offset") & Q(offset_statement__isnull=True)),
                name="clawback_offset_names_statement",
            ),
            models.CheckConstraint(
                condition=(Q(penalty_yuan=0) & Q(penalty_status="none"))
                | (Q(penalty_yuan__gt=0) & Q(penalty_status__in=["due", "recovered"])),
                name="clawback_penalty_status_follows_amount",
            ),
            models.CheckConstraint(
                condition=~Q(penalty_status="recovered") | ~Q(penalty_bank_reference=""),
                name="clawback_penalty_recovered_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.statement_id} {self.amount_yuan}"


class ClawbackEntry(AppendOnlyModel):
    """An append-only movement of a clawback, signed as owed to the company: the clawback
    and the penalty are negative; a recovery or an offset brings them back to zero.

    On PostgreSQL a trigger refuses any UPDATE or DELETE (migration 0002)."""

    class Kind(models.TextChoices):
        CLAWBACK = "clawback", _("Clawback (owed back)")
        PENALTY = "penalty", _("Penalty (receivable)")
        RECOVERY = "recovery", _("Recovered by bank")
        OFFSET = "offset", _("Offset against a later statement")
        PENALTY_RECOVERY = "penalty_recovery", _("Penalty recovered by bank")

    NEGATIVE = (Kind.CLAWBACK, Kind.PENALTY)

    clawback = models.ForeignKey(
        Clawback, verbose_name=_("clawback"), on_delete=models.PROTECT, related_name="entries"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The payment it hangs on: the clawed-back statement's, or for an offset the later one's.
    payment_entry = models.ForeignKey(
        LedgerEntry,
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.PROTECT, related_name="+"
    )
    amount_yuan = money_field(_("amount (yuan)"))
    reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("clawback entry")
        verbose_name_plural = _("clawback entries")
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clawback", "kind"], name="clawback_entry_one_per_kind"
            ),
            models.CheckConstraint(
                condition=(Q(kind__in=["clawback", "penalty"]) & Q(amount_yuan__lt=0))
                | (~Q(kind__in=["clawback", "penalty"]) & Q(amount_yuan__gt=0)),
                name="clawback_entry_sign_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_yuan} ({self.clawback_id})"


class WorkCalendarYear(AppendOnlyModel):
    """One revision of a year's official holiday schedule (the State Council's notice, e.g.
    国办发明电〔2026〕N号) entered by finance for a year the `chinese-calendar` package does
    not know. Entering it makes the year known (payments/workdays.py); its days are the
    `days`. Revisions are never changed: a mistaken entry is corrected by a new revision of
    the year (with the reason), which supersedes the earlier ones; the newest is in effect,
    and the earlier ones stay readable. A notice keeps the dates it was computed with
    (Notice stores them), whatever revision comes later.

    On PostgreSQL a trigger refuses any UPDATE or DELETE (migration 0004)."""

    year = models.PositiveSmallIntegerField(_("year"))
    revision = models.PositiveSmallIntegerField(
        _("revision"), default=1, help_text=_("1 for the first entry; the newest is in effect.")
    )
    source = models.CharField(_("source"), max_length=200)
    reason = models.TextField(
        _("reason for the correction"), blank=True, help_text=_("Empty for the first entry.")
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("holiday schedule")
        verbose_name_plural = _("holiday schedules")
        ordering = ["-year", "-revision"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="work_calendar_year_range"
            ),
            models.CheckConstraint(condition=~Q(source=""), name="work_calendar_has_source"),
            models.UniqueConstraint(
                fields=["year", "revision"], name="work_calendar_one_revision_number"
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="work_calendar_revision"),
            # A correction says why; the first entry has nothing to correct.
            models.CheckConstraint(
                condition=Q(revision=1) | ~Q(reason=""), name="work_calendar_correction_reason"
            ),
        ]

    def __str__(self) -> str:
        if self.revision == 1:
            return f"{self.year} ({self.source})"
        return f"{self.year} r{self.revision} ({self.source})"


class WorkCalendarDay(AppendOnlyModel):
    """One day of an entered schedule that differs from Monday–Friday: a holiday (休) or a
    make-up working day (调休上班) on a weekend."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up working day")

    calendar = models.ForeignKey(
        WorkCalendarYear,
        verbose_name=_("holiday schedule"),
        on_delete=models.PROTECT,
        related_name="days",
    )
    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("holiday schedule day")
        verbose_name_plural = _("holiday schedule days")
        ordering = ["day"]
        constraints = [
            # Once per revision: a correction lists the day again in its own revision.
            models.UniqueConstraint(fields=["calendar", "day"], name="work_calendar_day_once"),
            models.CheckConstraint(
                condition=Q(kind__in=["holiday", "workday"]), name="work_calendar_day_kind"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="work_calendar_day_named"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.name}"
