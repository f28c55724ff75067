"""Data-recorder events (GB 44497), the files they came in, and the incidents collisions open.

An event is evidence: one row per (vehicle, time, type), written by an import or the live
stream and never changed; its source is a stored file (with its SHA-256) or the stream.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel
from operators.models import Operator, Vehicle


class EventType(models.TextChoices):
    ACTIVATION = "activation", _("ADS activated")
    DEACTIVATION = "deactivation", _("ADS exited")
    TAKEOVER_REQUEST = "takeover_request", _("Takeover request")
    MRM_START = "mrm_start", _("Minimum-risk manoeuvre started")
    MRM_END = "mrm_end", _("Minimum-risk manoeuvre ended")
    SEVERE_FAILURE = "severe_failure", _("Severe failure")
    COLLISION = "collision", _("Collision")


class Initiator(models.TextChoices):
    SYSTEM = "system", _("System")
    DRIVER = "driver", _("Driver")
    NONE = "", _("Not recorded")


class Source(models.TextChoices):
    FILE = "file", _("Imported file")
    STREAM = "stream", _("Live stream")


class EventFile(models.Model):
    """An imported file of events, stored once under its hash (the events' evidence)."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    raw_file = models.FileField(_("raw file"), max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    format = models.CharField(_("format"), max_length=10)
    rows = models.PositiveIntegerField(_("rows"))
    created_events = models.PositiveIntegerField(_("new events"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("event file")
        verbose_name_plural = _("event files")
        constraints = [
            models.CheckConstraint(
                condition=Q(created_events__lte=models.F("rows")), name="eventfile_new_within_rows"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name or self.sha256[:12]} ({self.rows})"


class AdsEvent(AppendOnlyModel):
    """One recorded event: evidence, never changed or deleted (a trigger on PostgreSQL)."""

    # No index of its own: the unique (vehicle, at, type) index serves look-ups by vehicle,
    # and every index slows the bulk import (bench/README.md, the recorder). No foreign-key
    # constraint either: its check, row by row, was half the import's database time; on
    # PostgreSQL a trigger checks (and locks) the vehicles and files a statement's rows
    # name, once per statement, and refuses deleting a vehicle or file with events
    # (migration 0003).
    vehicle = models.ForeignKey(
        Vehicle,
        verbose_name=_("vehicle"),
        on_delete=models.PROTECT,
        related_name="ads_events",
        db_index=False,
        db_constraint=False,
    )
    at = models.DateTimeField(_("time"))
    type = models.CharField(_("event"), max_length=20, choices=EventType.choices)
    initiator = models.CharField(
        _("initiator"), max_length=10, choices=Initiator.choices, blank=True, default=""
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True, default="")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_file = models.ForeignKey(
        EventFile,
        verbose_name=_("file"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,  # files are never deleted; events are read by vehicle and time
        db_constraint=False,  # checked per statement, as the vehicle
    )

    class Meta:
        verbose_name = _("data-recorder event")
        verbose_name_plural = _("data-recorder events")
        ordering = ["vehicle_id", "at"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "at", "type"], name="adsevent_once_per_vehicle_time_type"
            ),
            models.CheckConstraint(
                condition=Q(type__in=EventType.values), name="adsevent_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(initiator__in=Initiator.values), name="adsevent_initiator_valid"
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lon__isnull=True))
                | (
                    Q(lat__gte=-90)
                    & Q(lat__lte=90)
                    & Q(lon__gte=-180)
                    & Q(lon__lte=180)
                    & Q(lat__isnull=False)
                    & Q(lon__isnull=False)
                ),
                name="adsevent_place_whole_and_possible",
            ),
            models.CheckConstraint(
                condition=(Q(source="file") & Q(source_file__isnull=False))
                | (Q(source="stream") & Q(source_file__isnull=True)),
                name="adsevent_source_named",
            ),
        ]
        # By time, on PostgreSQL, a BRIN index (migration 0003): a year's events for the
        # scorecard at next to no cost to the import, which a b-tree on (type, at) doubled.

    def __str__(self) -> str:
        # Read on pages (the incident's audit trail): the event's name, the plate and the
        # local time, never the type code, the vehicle's row id or UTC.
        at = timezone.localtime(self.at)
        return f"{self.get_type_display()} · {self.vehicle.plate} · {at:%Y-%m-%d %H:%M:%S}"


class Incident(models.Model):
    """Opened by a collision event; the company owes the bureau a report by `report_due_at`,
    and the bureau closes it with a reason. A closed incident is final (a trigger on
    PostgreSQL refuses changing or deleting it, and a reported one going back to open)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        REPORTED = "reported", _("Reported")
        CLOSED = "closed", _("Closed")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.OPEN: {Status.REPORTED, Status.CLOSED},
        Status.REPORTED: {Status.CLOSED},
        Status.CLOSED: set(),
    }

    event = models.OneToOneField(
        AdsEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="incident"
    )
    operator = models.ForeignKey(
        Operator, verbose_name=_("company"), on_delete=models.PROTECT, related_name="incidents"
    )
    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("vehicle"), on_delete=models.PROTECT, related_name="incidents"
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    report_due_at = models.DateTimeField(_("report due by"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    # A report has its time and its account (incident_report_whole); the cause and the
    # people injured are asked by the service, not the database, as reports made before
    # they were asked have none.
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    report = models.TextField(_("what happened"), blank=True, max_length=5000)
    cause = models.CharField(_("cause"), max_length=200, blank=True)
    injured = models.PositiveSmallIntegerField(_("people injured"), null=True, blank=True)
    damage = models.TextField(_("damage"), blank=True, max_length=2000)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.TextField(_("reason for closing"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["report_due_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(report_due_at__gt=models.F("occurred_at")),
                name="incident_due_after_occurrence",
            ),
            models.CheckConstraint(
                condition=Q(reported_at__isnull=True, report="", cause="", injured__isnull=True)
                | (Q(reported_at__isnull=False) & ~Q(report="")),
                name="incident_report_whole",
            ),
            models.CheckConstraint(
                condition=~Q(status="reported") | Q(reported_at__isnull=False),
                name="incident_reported_has_report",
            ),
            models.CheckConstraint(
                condition=~Q(status="open") | Q(reported_at__isnull=True),
                name="incident_open_unreported",
            ),
            models.CheckConstraint(
                condition=(Q(status="closed", closed_at__isnull=False) & ~Q(close_reason=""))
                | (~Q(status="closed") & Q(closed_at__isnull=True, close_reason="")),
                name="incident_closed_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["status", "report_due_at"])]

    def __str__(self) -> str:
        return f"{self.vehicle.plate} {timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M}"

    @property
    def overdue(self) -> bool:
        """Still open past its report deadline."""
        return self.status == self.Status.OPEN and self.report_due_at < timezone.now()
