"""Road segments and zones opened to AV testing, with approval and validity windows.

Each row is one *version* of a segment: versions of the same segment share `series`.
Changing an approved segment's geometry, corridor width, kind or two-way flag makes a new
row, so a trip is always checked against what was approved at its time, and statements can
name the exact version (and its approval reference) their kilometres were driven on.

Every approved row has exactly one validity window [valid_from, valid_to). Suspending or
retiring a row closes its window at that instant (kilometres before it still count on
that row); reinstating a suspended segment is an explicit new approval, a new row with its
own window and reference. So "valid at t" depends only on the windows of rows that were
ever approved, never on the current status (docs/routes.md).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

DEFAULT_CORRIDOR_HALF_WIDTH_M = Decimal("15.00")


class RoadSegment(models.Model):
    class Kind(models.TextChoices):
        ROAD = "road", _("Road (centreline and corridor)")
        AREA = "area", _("Area (district)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")
        RETIRED = "retired", _("Retired")

    # Reinstating a suspended segment is a new approved version (its own window), so a
    # suspended row only ever goes on to retired.
    TRANSITIONS: ClassVar[dict[str, set[str]]] = {
        Status.DRAFT: {Status.SUBMITTED, Status.RETIRED},
        Status.SUBMITTED: {Status.APPROVED, Status.DRAFT, Status.RETIRED},
        Status.APPROVED: {Status.SUSPENDED, Status.RETIRED},
        Status.SUSPENDED: {Status.RETIRED},
        Status.RETIRED: set(),
    }
    # Fields whose change on an approved row makes a new version rather than an edit.
    VERSIONED_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"kind", "geometry", "corridor_half_width_m", "two_way"}
    )

    series = models.UUIDField(_("segment series"), default=uuid.uuid4, db_index=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("supersedes"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    road_code = models.CharField(_("road code"), max_length=40, blank=True)
    two_way = models.BooleanField(_("two-way"), default=True)
    # GeoJSON geometry object in WGS-84 (EPSG:4326).
    geometry = models.JSONField(_("geometry (GeoJSON, WGS-84)"))
    corridor_half_width_m = models.DecimalField(
        _("corridor half-width (m)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    length_m = models.FloatField(_("centreline length (m)"), null=True, blank=True)
    area_m2 = models.FloatField(_("area (m²)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    status_reason = models.TextField(_("reason for the last status change"), blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to (exclusive)"), null=True, blank=True)
    approval_ref = models.CharField(_("approval reference (批文号)"), max_length=100, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    # Bumped by every change of an approved row's status or window: the zone cache compares
    # the sum over approved rows, which only ever grows, to know when to rebuild.
    window_revision = models.PositiveIntegerField(_("window revision"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("road segment or zone")
        verbose_name_plural = _("road segments and zones")
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(fields=["series", "version"], name="segment_version_unique"),
            # An empty window [t, t) is allowed: a version suspended before it started.
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="segment_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True)
                | (
                    Q(valid_from__isnull=False) & ~Q(approval_ref="") & Q(approved_by__isnull=False)
                ),
                name="segment_approved_has_window_and_ref",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "suspended"]) | Q(approved_at__isnull=False),
                name="segment_approved_status_was_approved",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["draft", "submitted"])
                | (Q(approved_at__isnull=True) & Q(valid_from__isnull=True)),
                name="segment_draft_has_no_window",
            ),
            models.CheckConstraint(
                condition=(Q(kind="road") & Q(corridor_half_width_m__gt=0))
                | (Q(kind="area") & Q(corridor_half_width_m__isnull=True)),
                name="segment_corridor_only_for_roads",
            ),
            models.CheckConstraint(
                condition=(Q(kind="road") & Q(length_m__gt=0) & Q(area_m2__isnull=True))
                | (Q(kind="area") & Q(area_m2__gt=0) & Q(length_m__isnull=True)),
                name="segment_measure_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "valid_from", "valid_to"]),
            models.Index(fields=["approved_at", "valid_from"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
