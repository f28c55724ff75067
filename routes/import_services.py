"""Importing roads and areas from a file (GeoJSON, KML, zipped Shapefile): the service.

`routes/importer.py` reads the file (pure, no Django); this module checks each feature as
`segment_create` would, reports, and on commit creates every feature as a draft in one
transaction, through `segment_create`, or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import ApplicationError
from core.roles import EDIT_SEGMENTS
from core.services import require
from core.units import centimetres
from operators.models import User

from .geometry import GeometryProblem, clean_geometry, mapping_of
from .importer import feature_name, parse_bool, read_segment_file
from .models import RoadSegment
from .problems import problem_message
from .services import reason_with_notes, segment_create, service_area


@dataclass
class ImportItem:
    index: int
    name: str
    kind: str
    geometry_type: str
    two_way: bool
    length_m: float | None = None
    area_m2: float | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    segment_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ImportReport:
    format: str
    source_crs: str
    committed: bool
    items: list[ImportItem]
    notes: list[str] = field(default_factory=list)

    @property
    def problem_count(self) -> int:
        return sum(1 for item in self.items if item.problems)

    @property
    def road_length_m(self) -> float:
        return sum(item.length_m or 0.0 for item in self.items if not item.problems)

    @property
    def area_m2(self) -> float:
        return sum(item.area_m2 or 0.0 for item in self.items if not item.problems)


def _import_item(index: int, geometry: Any, properties: dict[str, Any], repair: bool) -> ImportItem:
    geometry_type = "" if geometry is None else str(geometry.geom_type)
    kind = str(properties.get("kind") or "").strip().lower()
    if kind not in RoadSegment.Kind.values:
        kind = {"LineString": "road", "MultiLineString": "road"}.get(
            geometry_type, "area" if geometry_type in ("Polygon", "MultiPolygon") else ""
        )
    two_way = parse_bool(properties.get("two_way"), default=True)
    item = ImportItem(
        index=index,
        name=feature_name(properties),
        kind=kind,
        geometry_type=geometry_type,
        two_way=bool(two_way) if two_way is not None else True,
    )
    problems: list[GeometryProblem] = []
    if not item.name:
        problems.append(GeometryProblem("no_name"))
    if two_way is None:
        problems.append(GeometryProblem("bad_two_way", value=str(properties.get("two_way"))))
    width = None
    raw_width = properties.get("corridor_half_width_m")
    if kind == "road" and raw_width is not None:
        try:
            width = centimetres(Decimal(str(raw_width)))
        except ArithmeticError:
            width = Decimal(0)
        if not width.is_finite() or width <= 0:
            problems.append(GeometryProblem("bad_width", value=str(raw_width)))
    if geometry is None:
        problems.append(GeometryProblem("no_geometry"))
    elif not kind:
        problems.append(GeometryProblem("kind_from_type", type=geometry_type))
    else:
        try:
            clean = clean_geometry(
                mapping_of(geometry), kind=kind, bbox=service_area(), repair=repair
            )
        except GeometryProblem as problem:
            problems.append(problem)
        else:
            item.length_m, item.area_m2 = clean.length_m, clean.area_m2
            item.notes.extend(clean.notes)
            item.fields = {
                "name": item.name,
                "kind": kind,
                "geometry": clean.geojson,
                "two_way": item.two_way,
                "road_code": str(properties.get("road_code") or "")[:40],
                "corridor_half_width_m": width,
                "repair": repair,
            }
    item.problems = [problem_message(p) for p in problems]
    return item


@transaction.atomic
def segment_import(
    *,
    actor: User,
    data: bytes,
    filename: str,
    crs: str = "",
    commit: bool = False,
    repair: bool = False,
    reason: str = "",
) -> ImportReport:
    """Import roads and areas from a file as drafts. A dry run (the default) only reports;
    a commit creates every feature in one transaction, and only if none has a problem."""
    require(actor, EDIT_SEGMENTS)
    limit = settings.SEGMENT_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ApplicationError(
            problem_message(GeometryProblem("file_too_large", limit_mb=limit // 2**20)),
            field="file",
        )
    try:
        result = read_segment_file(data=data, filename=filename, declared_crs=crs)
    except GeometryProblem as problem:
        field_name = "crs" if problem.code in ("no_crs", "bad_crs") else "file"
        raise ApplicationError(problem_message(problem), field=field_name) from problem
    items = [_import_item(f.index, f.geometry, f.properties, repair) for f in result.features]
    report = ImportReport(result.format, result.source_crs, False, items, list(result.notes))
    if not commit:
        return report
    if not items:
        raise ApplicationError(_("The file holds no features."), field="file")
    if report.problem_count:
        raise ApplicationError(
            ngettext(
                "%(count)s feature has a problem; nothing was imported. Run a dry run to see it.",
                "%(count)s features have problems; nothing was imported. Run a dry run to see "
                "them.",
                report.problem_count,
            )
            % {"count": report.problem_count},
            field="file",
        )
    note = _("Imported from %(file)s (%(crs)s).") % {"file": filename, "crs": result.source_crs}
    for item in items:
        segment = segment_create(
            actor=actor, reason=reason_with_notes(reason, (note, *item.notes)), **item.fields
        )
        item.segment_id = segment.pk
    report.committed = True
    return report
