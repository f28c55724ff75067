"""The demonstration scorecard of a company-year (示范应用效果), and the grade it proposes.

The figures: autonomous km (accepted trips) and the part of it in approved zones, the
recorder's disengagements (system- and driver-initiated) per 1,000 autonomous km,
minimum-risk manoeuvres, severe failures and collisions, active days and vehicles
(docs/recorder.md). All companies of a year are read at once, in a handful of grouped
queries, so 50 scorecards cost what one does. `propose_grade` is pure.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.units import centimetres
from core.web import figure
from operators.models import Operator, local_day_start
from recorder.models import AdsEvent, EventType
from recorder.selectors import exit_counts
from trips.models import Trip, TripDay

from .money import km_from_metres

if TYPE_CHECKING:
    from .models import GradingPolicy

KM = Decimal("0.001")
RATE = Decimal("0.01")
PER_KM = 1000


def _per_1000_km(count: int, km: Decimal) -> Decimal | None:
    if km <= 0:
        return None
    return (Decimal(count) * PER_KM / km).quantize(RATE, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Scorecard:
    operator_id: int
    year: int
    autonomous_km: Decimal
    zone_km: Decimal  # autonomous km in approved zones (the eligible km)
    system_disengagements: int
    driver_disengagements: int
    mrms: int
    severe_failures: int
    collisions: int
    active_days: int
    vehicles: int

    @property
    def disengagements(self) -> int:
        return self.system_disengagements + self.driver_disengagements

    @property
    def per_1000_km(self) -> Decimal | None:
        return _per_1000_km(self.disengagements, self.autonomous_km)

    @property
    def system_per_1000_km(self) -> Decimal | None:
        return _per_1000_km(self.system_disengagements, self.autonomous_km)

    @property
    def driver_per_1000_km(self) -> Decimal | None:
        return _per_1000_km(self.driver_disengagements, self.autonomous_km)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready (decimals as strings), as stored with a grade and served by the API."""
        data: dict[str, Any] = asdict(self)
        data.update(
            disengagements=self.disengagements,
            per_1000_km=self.per_1000_km,
            system_per_1000_km=self.system_per_1000_km,
            driver_per_1000_km=self.driver_per_1000_km,
        )
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in data.items()}


def year_instants(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The year as instants [1 January, next 1 January) in Asia/Shanghai."""
    return local_day_start(dt.date(year, 1, 1)), local_day_start(dt.date(year + 1, 1, 1))


def scorecards(*, year: int, operator_ids: Iterable[int] | None = None) -> dict[int, Scorecard]:
    """Every company's scorecard for `year` (or those of `operator_ids`). Not scoped by user:
    the callers are (the figures selector, the grading service, the report)."""
    ids = (
        list(operator_ids)
        if operator_ids is not None
        else list(Operator.objects.values_list("pk", flat=True))
    )
    start, end = year_instants(year)
    days = (
        TripDay.objects.filter(
            trip__operator_id__in=ids,
            trip__status=Trip.Status.ACCEPTED,
            day__gte=dt.date(year, 1, 1),
            day__lte=dt.date(year, 12, 31),
        )
        .values("trip__operator_id")
        .annotate(
            autonomous=Sum("autonomous_m"),
            eligible=Sum("eligible_m"),
            days=Count("day", filter=Q(autonomous_m__gt=0), distinct=True),
            vehicles=Count("trip__vehicle_id", filter=Q(autonomous_m__gt=0), distinct=True),
        )
    )
    driving: dict[int, dict[str, Any]] = {row["trip__operator_id"]: dict(row) for row in days}
    counted = (
        AdsEvent.objects.filter(
            vehicle__operator_id__in=ids,
            at__gte=start,
            at__lt=end,
            type__in=[EventType.MRM_START, EventType.SEVERE_FAILURE, EventType.COLLISION],
        )
        .values("vehicle__operator_id")
        .annotate(
            mrms=Count("pk", filter=Q(type=EventType.MRM_START)),
            failures=Count("pk", filter=Q(type=EventType.SEVERE_FAILURE)),
            collisions=Count("pk", filter=Q(type=EventType.COLLISION)),
        )
        .order_by()
    )
    events: dict[int, dict[str, Any]] = {row["vehicle__operator_id"]: dict(row) for row in counted}
    exits = exit_counts(start=start, end=end, operator_ids=ids)
    result = {}
    for operator_id in ids:
        drove: dict[str, Any] = driving.get(operator_id, {})
        happened: dict[str, Any] = events.get(operator_id, {})
        system, driver = exits.get(operator_id, (0, 0))
        result[operator_id] = Scorecard(
            operator_id=operator_id,
            year=year,
            autonomous_km=km_from_metres(centimetres(drove.get("autonomous"))).quantize(KM),
            zone_km=km_from_metres(centimetres(drove.get("eligible"))).quantize(KM),
            system_disengagements=system,
            driver_disengagements=driver,
            mrms=happened.get("mrms", 0),
            severe_failures=happened.get("failures", 0),
            collisions=happened.get("collisions", 0),
            active_days=drove.get("days", 0),
            vehicles=drove.get("vehicles", 0),
        )
    return result


def scorecard(*, operator_id: int, year: int) -> Scorecard:
    return scorecards(year=year, operator_ids=[operator_id])[operator_id]


@dataclass(frozen=True)
class Proposal:
    grade: str
    policy_version: int
    # Why not the grade above: the threshold each failed, e.g. "A: zone km 800 < 10000".
    reasons: list[str]


def propose_grade(card: Scorecard, policy: GradingPolicy) -> Proposal:
    """The best grade whose every threshold the scorecard meets; D when none is met.

    A grade's thresholds: at least `min_zone_km` km in approved zones, at most
    `max_per_1000_km` disengagements per 1,000 autonomous km (none driven: no rate to
    fail), at most `max_collisions` collisions.
    """
    reasons: list[str] = []
    for grade in ("A", "B", "C"):
        min_km, max_rate, max_collisions = policy.thresholds(grade)
        failed = []
        if card.zone_km < min_km:
            failed.append(f"zone km {card.zone_km} < {min_km}")
        rate = card.per_1000_km
        if rate is not None and rate > max_rate:
            failed.append(f"disengagements per 1,000 km {rate} > {max_rate}")
        if card.collisions > max_collisions:
            failed.append(f"collisions {card.collisions} > {max_collisions}")
        if not failed:
            return Proposal(grade, policy.version, reasons)
        reasons.extend(f"{grade}: {text}" for text in failed)
    return Proposal("D", policy.version, reasons)


# A proposal's reason as `propose_grade` writes it (and as grades store it: the evidence
# keeps that form, in every language); pages show it in words with `reason_in_words`.
_REASON = re.compile(
    r"^(?P<grade>[ABC]): (?P<figure>zone km|disengagements per 1,000 km|collisions) "
    r"(?P<value>[\d.]+) [<>] (?P<limit>[\d.]+)$"
)


def reason_in_words(reason: str) -> str:
    """Why the proposal is not a better grade, in the active language, its figures
    formatted as everywhere (km to 3 decimals); a reason of another form as it is."""
    match = _REASON.match(reason)
    if match is None:
        return reason
    grade, value, limit = match["grade"], Decimal(match["value"]), Decimal(match["limit"])
    if match["figure"] == "zone km":
        return _("%(grade)s: %(value)s km in approved zones, below %(limit)s km") % {
            "grade": grade,
            "value": figure(value, 3),
            "limit": figure(limit, 3),
        }
    if match["figure"] == "collisions":
        return ngettext(
            "%(grade)s: %(value)s collision, more than %(limit)s",
            "%(grade)s: %(value)s collisions, more than %(limit)s",
            int(value),
        ) % {"grade": grade, "value": int(value), "limit": int(limit)}
    return _("%(grade)s: %(value)s disengagements per 1,000 km, above %(limit)s") % {
        "grade": grade,
        "value": figure(value, 2),
        "limit": figure(limit, 2),
    }
