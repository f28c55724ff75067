"""Trip logs: the raw upload (never modified) and what verification made of it."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import AppendOnlyModel
from core.units import metres_field
from operators.models import Operator, Vehicle
from routes.models import RoadSegment

# The words of the trigger that refuses to withdraw a trip an approved or issued statement
# holds (trips.0009); trips.services recognises its refusal by them.
WITHDRAW_REFUSED = "trip held by an approved or issued statement cannot be withdrawn"


class Trip(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSING = "processing", _("Processing")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        NEEDS_REVIEW = "needs_review", _("Needs review")
        # The company took the trip back (a wrong upload): kept as evidence, never paid,
        # never a conflict for another trip. Refused by a trigger while an approved or
        # issued statement holds the trip (trips.0009).
        WITHDRAWN = "withdrawn", _("Withdrawn by the company")

    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.RECEIVED: {Status.PROCESSING},
        # Processing is one transaction, so a worker that dies leaves the trip where it was:
        # RECEIVED, or PROCESSING for a re-verification, which the retry starts again.
        Status.PROCESSING: {
            Status.PROCESSING,
            Status.ACCEPTED,
            Status.REJECTED,
            Status.NEEDS_REVIEW,
        },
        Status.NEEDS_REVIEW: {
            Status.ACCEPTED,
            Status.REJECTED,
            Status.PROCESSING,
            Status.WITHDRAWN,
        },
        # Re-verification (e.g. after an approval was corrected, or with a declared driving
        # mode) starts from the raw file.
        Status.ACCEPTED: {Status.PROCESSING, Status.NEEDS_REVIEW, Status.WITHDRAWN},
        Status.REJECTED: {Status.PROCESSING, Status.WITHDRAWN},
        Status.WITHDRAWN: set(),
    }

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        GPX = "gpx", "GPX"
        GEOJSON = "geojson", "GeoJSON"
        NMEA = "nmea", "NMEA 0183"
        PARQUET = "parquet", "Parquet"

    class Crs(models.TextChoices):
        WGS84 = "wgs84", "WGS-84"
        GCJ02 = "gcj02", "GCJ-02"

    class Mode(models.TextChoices):
        AUTO = "auto", _("Autonomous")
        MANUAL = "manual", _("Manual")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Uploaded file")
        JT808 = "jt808", "JT/T 808"
        MQTT = "mqtt", "MQTT"

    operator = models.ForeignKey(
        Operator, verbose_name=_("company"), on_delete=models.PROTECT, related_name="trips"
    )
    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("vehicle"), on_delete=models.PROTECT, related_name="trips"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Where the fixes came from: an uploaded file, or a live stream closed into a canonical
    # CSV by trips.live (verified the same way either way).
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.UPLOAD
    )
    external_id = models.CharField(_("company's trip id"), max_length=100, blank=True)
    raw_sha256 = models.CharField(_("SHA-256 of the raw file"), max_length=64)
    raw_file = models.FileField(_("raw file"), max_length=200)
    raw_size = models.PositiveBigIntegerField(_("raw file size (bytes)"))
    # Set when the raw file and the full trace were deleted under the retention rule
    # (TRIP_RAW_RETENTION_DAYS); the hash, the totals, days and segments stay as evidence.
    raw_purged_at = models.DateTimeField(_("raw file deleted at"), null=True, blank=True)
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    declared_format = models.CharField(
        _("declared format"), max_length=10, choices=Format.choices, blank=True
    )
    format = models.CharField(_("format"), max_length=10, choices=Format.choices, blank=True)
    crs = models.CharField(_("coordinates"), max_length=10, choices=Crs.choices)
    declared_mode = models.CharField(
        _("declared driving mode"), max_length=10, choices=Mode.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    points_total = models.PositiveIntegerField(_("fixes in the file"), default=0)
    points_used = models.PositiveIntegerField(_("fixes used"), default=0)
    total_m = metres_field(_("total (m)"))
    autonomous_m = metres_field(_("autonomous (m)"))
    eligible_m = metres_field(_("eligible (m)"))
    disengagements = models.PositiveIntegerField(_("disengagements"), default=0)
    # A list of objects with code, text and, where they apply, count, metres and line.
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    # The processed trace as GeoJSON (steps tagged for the map), written with each result.
    trace_file = models.FileField(_("processed trace"), max_length=200, blank=True)
    params = models.JSONField(_("verification parameters"), default=dict, blank=True)
    code_version = models.CharField(_("verifier version"), max_length=40, blank=True)
    # The verification result in force (a TripVerification, append-only): the totals above
    # and the trip's days and segments are its figures, kept here for the readers' speed;
    # the nightly check holds them equal (subsidies/integrity.py).
    current_verification = models.ForeignKey(
        "TripVerification",
        verbose_name=_("current verification"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_reason = models.TextField(_("review reason"), blank=True)
    # The review of a trip held for a conflict (overlap, same content, near copy) names the
    # trip whose kilometres stand: this one (accepted) or the other (this one rejected).
    review_kept_trip = models.ForeignKey(
        "self",
        verbose_name=_("trip kept at review"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("trip")
        verbose_name_plural = _("trips")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vehicle", "raw_sha256"], name="trip_same_file_once_per_vehicle"
            ),
            models.UniqueConstraint(
                fields=["operator", "external_id"],
                condition=~Q(external_id=""),
                name="trip_external_id_once_per_operator",
            ),
            models.CheckConstraint(
                condition=Q(eligible_m__lte=models.F("autonomous_m"))
                & Q(autonomous_m__lte=models.F("total_m")),
                name="trip_metres_nested",
            ),
            models.CheckConstraint(
                condition=Q(points_used__lte=models.F("points_total")),
                name="trip_points_used_within_total",
            ),
            # A kilometre is paid once: two accepted trips never share their raw content
            # (any vehicle, any company). Overlapping accepted trips of one vehicle are
            # refused by an exclusion constraint on PostgreSQL (migration
            # 0004_accepted_trips_never_overlap) and by trips.services under its lock.
            models.UniqueConstraint(
                fields=["raw_sha256"],
                condition=Q(status="accepted"),
                name="trip_accepted_content_once",
            ),
        ]
        indexes = [
            # The trip lists' order (Meta.ordering): the government's list of every trip
            # reads its page from here instead of sorting 100,000 rows (bench_pages.py).
            models.Index(fields=["-started_at", "-id"], name="trip_list_order_idx"),
            models.Index(fields=["operator", "status", "started_at"]),
            models.Index(fields=["vehicle", "started_at"]),
            models.Index(fields=["status"]),
            # The same file under any vehicle or company (trips.copies.same_content).
            models.Index(fields=["raw_sha256"], name="trip_raw_sha256_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.vehicle_id} {self.started_at or self.received_at:%Y-%m-%d %H:%M}"

    @property
    def counts_nothing(self) -> bool:
        """Rejected or withdrawn: its verified figures stay on record, none of them is paid,
        so pages show no eligible figure for it."""
        return self.status in (self.Status.REJECTED, self.Status.WITHDRAWN)


class TripDay(models.Model):
    """A trip's verified metres per local (Asia/Shanghai) calendar day.

    Years, policy windows and eligibility dates are cut on these, so a trip across
    midnight on 31 December counts in both years by its fixes' times.
    """

    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="days")
    # The verification this row is a figure of (empty for rows written before versions).
    verification = models.ForeignKey(
        "TripVerification", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    day = models.DateField(_("day (Asia/Shanghai)"))
    autonomous_m = metres_field(_("autonomous (m)"))
    eligible_m = metres_field(_("eligible (m)"))

    class Meta:
        verbose_name = _("trip day")
        verbose_name_plural = _("trip days")
        constraints = [
            models.UniqueConstraint(fields=["trip", "day"], name="trip_day_unique"),
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.trip_id} {self.day}"


class TripSegment(models.Model):
    """A trip's eligible metres on one approved segment version (what the subsidy rests on)."""

    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="segments")
    verification = models.ForeignKey(
        "TripVerification", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    segment = models.ForeignKey(
        RoadSegment, verbose_name=_("segment"), on_delete=models.PROTECT, related_name="+"
    )
    eligible_m = metres_field(_("eligible (m)"))

    class Meta:
        verbose_name = _("trip segment")
        verbose_name_plural = _("trip segments")
        constraints = [
            models.UniqueConstraint(fields=["trip", "segment"], name="trip_segment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.trip_id} {self.segment_id}"


class TripFingerprint(models.Model):
    """What is kept of a verified trip to find its copies (docs/decisions/0004).

    `fixes_sha256` is the exact fingerprint of its kept fixes (the same recording in another
    encoding has the same value); `signature` is the shape signature (`ShapeSignature.to_bytes`,
    about 0.9 KB for 3 km), None for a path too short to tell a copy. Its band keys are rows of
    `TripBandKey`, the candidate index.
    """

    trip = models.OneToOneField(Trip, on_delete=models.CASCADE, related_name="fingerprint")
    fixes_sha256 = models.CharField(_("SHA-256 of the fixes"), max_length=64, db_index=True)
    scheme = models.CharField(_("signature scheme"), max_length=100, blank=True)
    signature = models.BinaryField(_("shape signature"), null=True, blank=True)

    class Meta:
        verbose_name = _("trip fingerprint")
        verbose_name_plural = _("trip fingerprints")

    def __str__(self) -> str:
        return f"{self.trip_id} {self.fixes_sha256[:12]}"


class TripBandKey(models.Model):
    """One MinHash LSH band key of a trip's shape signature: the candidate index.

    A new trip's candidates are the trips sharing at least one key (an index on band_key).
    """

    trip = models.ForeignKey(Trip, on_delete=models.CASCADE, related_name="+")
    band_key = models.BigIntegerField(_("band key"))

    class Meta:
        verbose_name = _("trip band key")
        verbose_name_plural = _("trip band keys")
        indexes = [models.Index(fields=["band_key", "trip"], name="trip_band_key_idx")]

    def __str__(self) -> str:
        return f"{self.trip_id} {self.band_key}"


class TripVerification(AppendOnlyModel):
    """One verification result of a trip, written once and never changed (triggers on both
    vendors, migration trips.0008): totals, per local day, per segment, reasons, the
    parameters and verifier version it was made with.

    Processing, re-verification and review add a new one (`number` 1, 2, …) through the
    audited path and point the trip at it (`Trip.current_verification`); an adjustment
    after issue is the difference between the version a statement was approved on and the
    current one, so the nightly check can tell it from a figure changed around the
    application (docs/security.md).
    """

    trip = models.ForeignKey(
        Trip, verbose_name=_("trip"), on_delete=models.PROTECT, related_name="verifications"
    )
    number = models.PositiveIntegerField(_("version"))
    created_at = models.DateTimeField(_("verified at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Trip.Status.choices)
    format = models.CharField(_("format"), max_length=10, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    points_total = models.PositiveIntegerField(_("fixes in the file"), default=0)
    points_used = models.PositiveIntegerField(_("fixes used"), default=0)
    total_m = metres_field(_("total (m)"))
    autonomous_m = metres_field(_("autonomous (m)"))
    eligible_m = metres_field(_("eligible (m)"))
    disengagements = models.PositiveIntegerField(_("disengagements"), default=0)
    # [[day ISO, autonomous m, eligible m], …] and [[segment id, eligible m], …], metres as
    # strings to the centimetre: exactly what the trip's days and segments hold.
    days = models.JSONField(_("per day"), default=list, blank=True)
    segments = models.JSONField(_("per segment"), default=list, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    params = models.JSONField(_("verification parameters"), default=dict, blank=True)
    code_version = models.CharField(_("verifier version"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("trip verification")
        verbose_name_plural = _("trip verifications")
        ordering = ["trip", "number"]
        constraints = [
            models.UniqueConstraint(fields=["trip", "number"], name="trip_verification_number"),
            models.CheckConstraint(
                condition=Q(eligible_m__lte=models.F("autonomous_m"))
                & Q(autonomous_m__lte=models.F("total_m")),
                name="trip_verification_metres_nested",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trip_id} v{self.number}"
