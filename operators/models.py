"""Companies (operators), their vehicles, and the people who use the system."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.roles import SEE_ALL_COMPANIES, Role

from .identifiers import validate_credit_code, validate_plate, validate_vin


class PlainUniqueMessages:
    """A sentence for a unique field already taken ("已有车辆使用此车辆识别代号。"), not
    Django's "具有 车辆识别代号 的 车辆 已存在。" pieced from the names."""

    UNIQUE_MESSAGES: ClassVar[dict[tuple[str, ...], Any]] = {}

    def unique_error_message(
        self, model_class: type[models.Model], unique_check: Sequence[str]
    ) -> ValidationError:
        message = self.UNIQUE_MESSAGES.get(tuple(unique_check))
        if message is not None:
            return ValidationError(message, code="unique")
        return super().unique_error_message(model_class, unique_check)  # type: ignore[misc,no-any-return]


def local_day_start(day: dt.date) -> dt.datetime:
    """The instant a calendar day starts in the project's time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class Operator(PlainUniqueMessages, models.Model):
    """An AV company. Its kilometres count from the later of settled_on and pilot_admitted_on."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        ADMITTED = "admitted", _("Admitted to the pilot")
        SUSPENDED = "suspended", _("Suspended")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.REGISTERED: {Status.ADMITTED, Status.WITHDRAWN},
        Status.ADMITTED: {Status.SUSPENDED, Status.WITHDRAWN},
        Status.SUSPENDED: {Status.ADMITTED, Status.WITHDRAWN},
        Status.WITHDRAWN: set(),
    }

    UNIQUE_MESSAGES: ClassVar[dict[tuple[str, ...], Any]] = {
        ("credit_code",): _("Another company is already registered with this credit code."),
    }

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
    )
    settled_on = models.DateField(_("settled in Yangquan on"), null=True, blank=True)
    pilot_admitted_on = models.DateField(_("admitted to the pilot on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED
    )
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    # Where subsidies are paid: changed only through a request the bureau confirms.
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    bank_account = models.CharField(_("account number"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="admitted") | Q(pilot_admitted_on__isnull=False),
                name="operator_admitted_has_date",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def eligible_from(self) -> dt.date | None:
        """The first day kilometres can count: after both settling and admission."""
        if self.settled_on is None or self.pilot_admitted_on is None:
            return None
        return max(self.settled_on, self.pilot_admitted_on)


def mask_account(account: str) -> str:
    """An account number as pages show it: the first four and last four digits."""
    digits = account.replace(" ", "")
    if len(digits) <= 8:
        return "*" * len(digits)
    return f"{digits[:4]} **** {digits[-4:]}"


class BankDetailsChange(models.Model):
    """A requested change of a company's bank details; the bureau confirms or rejects it,
    never the person who asked."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the bureau")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.PENDING: {Status.CONFIRMED, Status.REJECTED},
        Status.CONFIRMED: set(),
        Status.REJECTED: set(),
    }

    operator = models.ForeignKey(
        Operator, verbose_name=_("company"), on_delete=models.PROTECT, related_name="bank_changes"
    )
    bank_name = models.CharField(_("bank"), max_length=200)
    bank_account = models.CharField(_("account number"), max_length=40)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        "operators.User",
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        "operators.User",
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("bank details change")
        verbose_name_plural = _("bank details changes")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator"],
                condition=Q(status="pending"),
                name="bank_change_one_pending_per_operator",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | ~Q(decided_by=models.F("requested_by")),
                name="bank_change_decided_by_another",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {mask_account(self.bank_account)} {self.status}"


class Vehicle(PlainUniqueMessages, models.Model):
    class Category(models.TextChoices):
        BUS = "bus", _("Bus")
        TAXI = "taxi", _("Taxi")
        VENDING = "vending", _("Vending vehicle")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Permit approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")
        RETIRED = "retired", _("Retired")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.PROPOSED: {Status.APPROVED, Status.REJECTED},
        Status.APPROVED: {Status.SUSPENDED, Status.RETIRED},
        Status.SUSPENDED: {Status.APPROVED, Status.RETIRED},
        Status.REJECTED: set(),
        Status.RETIRED: set(),
    }

    operator = models.ForeignKey(
        Operator, verbose_name=_("company"), on_delete=models.PROTECT, related_name="vehicles"
    )
    UNIQUE_MESSAGES: ClassVar[dict[tuple[str, ...], Any]] = {
        ("vin",): _("Another vehicle already has this VIN."),
        ("plate",): _("Another vehicle already has this number plate."),
    }

    vin = models.CharField(_("VIN"), max_length=17, unique=True, validators=[validate_vin])
    plate = models.CharField(
        _("number plate"), max_length=8, unique=True, validators=[validate_plate]
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    permit_number = models.CharField(_("permit number"), max_length=64, blank=True)
    permit_valid_from = models.DateField(_("permit valid from"), null=True, blank=True)
    permit_valid_to = models.DateField(_("permit valid to (inclusive)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PROPOSED
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("vehicle")
        verbose_name_plural = _("vehicles")
        ordering = ["operator__name", "plate"]
        constraints = [
            models.CheckConstraint(
                condition=Q(permit_valid_to__isnull=True)
                | Q(permit_valid_from__isnull=True)
                | Q(permit_valid_to__gte=models.F("permit_valid_from")),
                name="vehicle_permit_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["proposed", "rejected"])
                | (
                    ~Q(permit_number="")
                    & Q(permit_valid_from__isnull=False)
                    & Q(permit_valid_to__isnull=False)
                ),
                name="vehicle_approved_has_permit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plate} ({self.vin})"

    def permit_window(self) -> tuple[dt.datetime, dt.datetime] | None:
        """The permit as instants [start, end): whole local days, the last one included."""
        if self.permit_valid_from is None or self.permit_valid_to is None:
            return None
        return (
            local_day_start(self.permit_valid_from),
            local_day_start(self.permit_valid_to + dt.timedelta(days=1)),
        )


class User(AbstractUser):
    """A person. Company staff belong to exactly one operator; government roles to none."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    operator = models.ForeignKey(
        Operator,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=(Q(role="operator") & Q(operator__isnull=False))
                | (~Q(role="operator") & Q(operator__isnull=True)),
                name="user_operator_iff_company_staff",
            ),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
        ]

    @property
    def is_government(self) -> bool:
        return self.role in SEE_ALL_COMPANIES.roles


class ApiToken(models.Model):
    """An API token. Only its SHA-256 is stored; the key is shown once, when it is made."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("prefix"), max_length=8)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
