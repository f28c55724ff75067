"""Web forms for road segments and zones. They validate input only; the services decide
(geometry rules, windows, transitions) and `submit()` puts their refusals on these fields."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import DateInput, Form, VersionField, model_formfield
from operators.models import local_day_start

from .models import DEFAULT_CORRIDOR_HALF_WIDTH_M, RoadSegment
from .serializers import EARLIEST_INSTANT
from .validity import valid_at_q, valid_during_q

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The extensions the importer reads (routes/importer.py); the browser's file picker offers these.
IMPORT_ACCEPT = ".geojson,.json,.kml,.zip"


class DateTimeInput(forms.DateTimeInput):
    """The browser's date-time picker. It has no time zone: the value is read as local time
    (Asia/Shanghai, the project's TIME_ZONE), which is how the bureau's documents state it."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _reason(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("Reason"),
        required=required,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded in the audit trail."),
    )


class InstantField(forms.DateTimeField):
    """Local time unless an offset is given; in UTC for the database, which takes no
    offset beyond ±15:59 (PostgreSQL); from 1970 on, as the API takes them."""

    def to_python(self, value: Any) -> dt.datetime | None:
        instant = super().to_python(value)
        if instant is None:
            return None
        try:
            instant = instant.astimezone(dt.UTC)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if instant < EARLIEST_INSTANT:  # as over the API (routes/serializers.py)
            raise ValidationError(_("Give a time from 1970 on."), code="invalid")
        return instant


def _instant(
    label: StrOrPromise, *, required: bool, help_text: StrOrPromise
) -> forms.DateTimeField:
    return InstantField(label=label, required=required, widget=DateTimeInput, help_text=help_text)


class SegmentFilterForm(Form):
    VERSIONS_CURRENT = ""
    VERSIONS_ALL = "all"

    q = forms.CharField(label=_("Name or road code"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *RoadSegment.Status.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *RoadSegment.Kind.choices]
    )
    valid_on = forms.DateField(
        label=_("Valid on"),
        required=False,
        widget=DateInput,
        help_text=_("Approved and valid at some time on this day."),
    )
    versions = forms.ChoiceField(
        label=_("Versions"),
        required=False,
        choices=[
            (VERSIONS_CURRENT, _("Valid now or newest")),
            (VERSIONS_ALL, _("Every version")),
        ],
    )

    def clean_valid_on(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data["valid_on"]
        # The day's bounds must exist in UTC: not the first or the last representable day.
        if day is not None and not dt.date.min < day < dt.date.max:
            raise ValidationError(self.fields["valid_on"].error_messages["invalid"])
        return day

    def filter(self, segments: QuerySet[RoadSegment]) -> QuerySet[RoadSegment]:
        """By default a segment shows once, as its newest version, plus the version valid
        now when a newer one waits for approval; earlier versions only when asked for."""
        if not self.is_valid():
            return segments
        data = self.cleaned_data
        if q := data["q"].strip():
            segments = segments.filter(Q(name__icontains=q) | Q(road_code__icontains=q))
        if status := data.get("status"):  # not a field for company staff
            segments = segments.filter(status=status)
        if data["kind"]:
            segments = segments.filter(kind=data["kind"])
        day: dt.date | None = data["valid_on"]
        if day is not None:
            start = local_day_start(day)
            segments = segments.filter(
                valid_during_q(start, local_day_start(day + dt.timedelta(days=1)))
            )
        elif data["versions"] != self.VERSIONS_ALL:
            segments = segments.filter(Q(superseded_by__isnull=True) | valid_at_q(timezone.now()))
        return segments


class SegmentForm(Form):
    """Draw or change a road or area. `geometry` is GeoJSON text: the map on the page writes
    it, and people who cannot use the map may paste it (a collapsed text box)."""

    CHANGEABLE = ("name", "kind", "two_way", "road_code", "corridor_half_width_m", "geometry")

    name = model_formfield(RoadSegment, "name")
    kind = model_formfield(
        RoadSegment, "kind", widget=forms.RadioSelect, initial=RoadSegment.Kind.ROAD
    )
    two_way = forms.BooleanField(
        label=_("Two-way"),
        required=False,
        initial=True,
        help_text=_("A two-way road counts twice towards the plan's operating kilometres."),
    )
    road_code = model_formfield(RoadSegment, "road_code")
    corridor_half_width_m = forms.DecimalField(
        label=_("Corridor half-width (m)"),
        required=False,
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        initial=DEFAULT_CORRIDOR_HALF_WIDTH_M,
        help_text=_(
            "Roads only: the corridor reaches this far either side of the centreline; "
            "15 m when left empty."
        ),
    )
    geometry = forms.CharField(
        label=_("Geometry (GeoJSON, WGS-84)"),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text=_(
            "Drawn on the map above. Or paste a GeoJSON geometry: a LineString for a road, "
            "a Polygon for an area, longitude before latitude."
        ),
        error_messages={"required": _("Draw the road or area on the map.")},
    )
    repair = forms.BooleanField(
        label=_("Repair an invalid polygon automatically"),
        required=False,
        help_text=_("The repair is recorded in the audit trail."),
    )
    reason = _reason(required=False)
    seen_version = VersionField()

    def clean_geometry(self) -> Any:
        """Parsed JSON when it parses; otherwise the text, which the service refuses with
        its own message (one wording for the API and the pages)."""
        text: str = self.cleaned_data["geometry"]
        try:
            return json.loads(text)
        except ValueError:
            return text

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == RoadSegment.Kind.AREA:
            data["corridor_half_width_m"] = None  # an area has no corridor
        return data

    def changes(self, segment: RoadSegment) -> dict[str, Any]:
        """The fields whose value differs from `segment` (the service's `data`)."""
        data = self.cleaned_data
        return {
            name: data[name]
            for name in self.CHANGEABLE
            if data[name] != getattr(segment, name)
            # An empty width on a road means the default, which the segment already has.
            and not (name == "corridor_half_width_m" and data[name] is None)
        }

    @staticmethod
    def initial_for(segment: RoadSegment) -> dict[str, Any]:
        return {
            "name": segment.name,
            "kind": segment.kind,
            "two_way": segment.two_way,
            "road_code": segment.road_code,
            "corridor_half_width_m": segment.corridor_half_width_m,
            "geometry": json.dumps(segment.geometry, ensure_ascii=False),
        }


class SegmentDeleteForm(Form):
    seen_version = VersionField()


class SegmentReasonForm(Form):
    reason = _reason(required=False)
    seen_version = VersionField()


class SegmentReasonRequiredForm(Form):
    reason = _reason(required=True)
    seen_version = VersionField()


class SegmentApproveForm(Form):
    valid_from = _instant(
        _("Valid from"), required=True, help_text=_("Local time (Beijing time, UTC+8).")
    )
    valid_to = _instant(
        _("Valid until"),
        required=False,
        help_text=_("Local time; the segment stops being valid at this instant. Empty: open."),
    )
    approval_ref = model_formfield(RoadSegment, "approval_ref", required=True)
    reason = _reason(required=False)
    seen_version = VersionField()


class SegmentReinstateForm(SegmentApproveForm):
    reason = _reason(required=True)


class SegmentEndForm(Form):
    """Suspend or retire: from now unless a time is given (a closure recorded late)."""

    effective_at = _instant(
        _("Effective from"),
        required=False,
        help_text=_("Local time; empty means now. Kilometres before it still count."),
    )
    reason = _reason(required=True)
    seen_version = VersionField()


class SegmentImportForm(Form):
    CRS_CHOICES = [
        ("", _("As stated in the file")),
        ("EPSG:4326", _("WGS-84 (GNSS, 天地图)")),
        ("gcj02", _("GCJ-02 (Chinese web maps; converted to WGS-84)")),
    ]

    file = forms.FileField(
        label=_("File"),
        help_text=_("GeoJSON (.geojson, .json), KML (.kml) or a zipped Shapefile (.zip)."),
        widget=forms.ClearableFileInput(attrs={"accept": IMPORT_ACCEPT}),
    )
    crs = forms.ChoiceField(
        label=_("Coordinate system"),
        required=False,
        choices=CRS_CHOICES,
        help_text=_(
            "A GeoJSON or KML file that does not state its coordinate system needs one "
            "declared here: exports from Chinese web maps are GCJ-02."
        ),
    )
    repair = forms.BooleanField(
        label=_("Repair invalid polygons automatically"),
        required=False,
        help_text=_("Each repair is noted on its feature and in the audit trail."),
    )
    reason = _reason(required=False)


class SegmentImportCommitForm(Form):
    """The second step: the file kept from the dry run, named by its token."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
