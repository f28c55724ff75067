"""Terminals bound to vehicles, the fixes they report, and the raw messages kept for audit.

On PostgreSQL the fix table is partitioned by day (migration 0002; docs/telemetry.md), so
its real primary key is (id, t); Django only ever reads and inserts fixes, never updates
one by its id.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from operators.models import Vehicle


class Terminal(models.Model):
    """A device that reports a vehicle's position: a JT/T 808 terminal (its id is the phone
    number of its header: 12 digits in a 2013 header, 20 in a 2019 one) or an MQTT client
    (its id is the vehicle's VIN)."""

    class Protocol(models.TextChoices):
        JT808 = "jt808", "JT/T 808"
        MQTT = "mqtt", "MQTT"

    vehicle = models.ForeignKey(
        Vehicle, verbose_name=_("vehicle"), on_delete=models.PROTECT, related_name="terminals"
    )
    protocol = models.CharField(_("protocol"), max_length=10, choices=Protocol.choices)
    terminal_id = models.CharField(_("terminal id"), max_length=20)
    # sha256 of the auth code (a random 128-bit secret; see telemetry.services). Never shown.
    auth_code_sha256 = models.CharField(_("auth code hash"), max_length=64, editable=False)
    # Set when a device took the current auth code with a 0x0100 register: one claim per
    # issued code (a second register is refused until the code is issued again).
    claimed_at = models.DateTimeField(_("claimed by a device at"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    # The stream's head, kept by `telemetry.services.fixes_store` in one statement per
    # batch, so the closing sweep decides who is due from this table alone.
    last_fix_at = models.DateTimeField(_("newest fix time"), null=True, blank=True)
    last_received_at = models.DateTimeField(_("newest receipt"), null=True, blank=True)
    # The earlier time of the latest pair of fixes found too far apart to stand still
    # (telemetry.heads).
    moved_at = models.DateTimeField(_("moved at"), null=True, blank=True)
    # The receipt of the newest fix that came out of order (a candidate late fix).
    late_received_at = models.DateTimeField(_("late fix received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "terminal_id"],
                condition=Q(active=True),
                name="terminal_id_active_once",
            ),
            models.CheckConstraint(
                condition=~Q(protocol="jt808") | Q(terminal_id__regex=r"^([0-9]{12}|[0-9]{20})$"),
                name="terminal_jt808_id_is_12_or_20_digits",
            ),
            models.CheckConstraint(
                condition=~Q(protocol="mqtt") | Q(terminal_id__regex=r"^[A-HJ-NPR-Z0-9]{17}$"),
                name="terminal_mqtt_id_is_a_vin",
            ),
            models.CheckConstraint(
                condition=Q(active=True) | Q(deactivated_at__isnull=False),
                name="terminal_inactive_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol}:{self.terminal_id}"


class Fix(models.Model):
    """One reported position, stored once per (terminal, fix time)."""

    # Both covered by the composite indexes below (a write costs one index fewer each).
    terminal = models.ForeignKey(
        Terminal, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="+", db_index=False)
    t = models.DateTimeField(_("fix time"))
    received_at = models.DateTimeField(_("received at"))
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    autonomous = models.BooleanField(_("autonomous"))
    speed_kmh = models.FloatField(_("speed (km/h)"), null=True, blank=True)
    hdop = models.FloatField(_("HDOP"), null=True, blank=True)
    satellites = models.PositiveSmallIntegerField(_("satellites"), null=True, blank=True)
    odometer_m = models.FloatField(_("odometer (m)"), null=True, blank=True)
    backfill = models.BooleanField(_("backfilled"), default=False)

    class Meta:
        verbose_name = _("fix")
        verbose_name_plural = _("fixes")
        constraints = [
            models.UniqueConstraint(fields=["terminal", "t"], name="fix_once_per_terminal_time"),
            models.CheckConstraint(
                condition=Q(lat__gte=-90) & Q(lat__lte=90) & Q(lon__gte=-180) & Q(lon__lte=180),
                name="fix_coordinates_on_earth",
            ),
        ]
        indexes = [models.Index(fields=["vehicle", "t"], name="fix_vehicle_t")]

    def __str__(self) -> str:
        return f"{self.terminal_id} {self.t:%Y-%m-%d %H:%M:%S}"


class RawArchive(models.Model):
    """A gzip file of raw frames or messages as received, one per terminal-day chunk.

    Append-only (a database trigger refuses UPDATE and DELETE); `sha256` is the hash of the
    gzip file's bytes, so the file can be checked against its row at any time.
    """

    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="+")
    day = models.DateField(_("day (Asia/Shanghai)"))
    file = models.FileField(_("file"), max_length=200)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    messages = models.PositiveIntegerField(_("messages"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("raw archive")
        verbose_name_plural = _("raw archives")
        constraints = [
            models.UniqueConstraint(fields=["sha256"], name="raw_archive_sha256_once"),
        ]
        indexes = [models.Index(fields=["terminal", "day"], name="raw_archive_terminal_day")]

    def __str__(self) -> str:
        return f"{self.terminal_id} {self.day} {self.sha256[:12]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Raw archives are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Raw archives are append-only.")


class Stream(models.Model):
    """Where the closing sweep has got to for one vehicle's stream.

    `closed_until` is the fix time up to which fixes have been made into trips (or skipped
    as standing still); `checked_received_at` the receipt time up to which late fixes
    (fix time before `closed_until`) have been looked for.
    """

    vehicle = models.OneToOneField(
        Vehicle, on_delete=models.PROTECT, related_name="+", primary_key=True
    )
    closed_until = models.DateTimeField(null=True, blank=True)
    checked_received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stream")
        verbose_name_plural = _("streams")

    def __str__(self) -> str:
        return f"{self.vehicle_id} {self.closed_until}"
