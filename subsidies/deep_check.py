"""The deep check: every trip an issued statement rests on, verified again from its stored
raw bytes with its own stored parameters, and compared with the stored result.

The raw file's SHA-256 is checked as it is read. Any difference (a changed or missing
file, a total, a day, a segment) is broken, named by trip and figure: the stored result
no longer follows from the evidence, whatever the statements say. Trips whose raw file was
deleted under the retention rule are counted and skipped (their hash and figures remain).
`manage.py check_ledger --deep`; its duration for a year is in bench/README.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.units import centimetres
from trips.models import Trip
from trips.services import RawFileChangedError, trip_rederive

from .models import Statement, StatementLine

ZERO_M = Decimal("0.00")


@dataclass(frozen=True)
class DeepFinding:
    trip_id: int
    figure: str
    expected: str
    found: str

    def __str__(self) -> str:
        return (
            f"BROKEN: trip {self.trip_id} {self.figure}: from the raw file {self.expected}, "
            f"stored {self.found}"
        )


@dataclass
class DeepCheck:
    trips: int = 0
    purged: int = 0
    seconds: float = 0.0
    findings: list[DeepFinding] = field(default_factory=list)


def issued_trip_ids(year: int | None = None) -> list[int]:
    """The trips in the frozen lines of every issued (or paid) statement."""
    lines = StatementLine.objects.filter(statement__status__in=Statement.ISSUED_STATUSES)
    if year is not None:
        lines = lines.filter(statement__year=year)
    return sorted(set(lines.values_list("trip_id", flat=True)))


def _stored(trip: Trip) -> dict[str, Any]:
    return {
        "total_m": trip.total_m,
        "autonomous_m": trip.autonomous_m,
        "eligible_m": trip.eligible_m,
        "points_total": trip.points_total,
        "points_used": trip.points_used,
        "disengagements": trip.disengagements,
        **{
            f"day {d.day} autonomous_m/eligible_m": (d.autonomous_m, d.eligible_m)
            for d in trip.days.all()
        },
        **{f"segment {s.segment_id} eligible_m": s.eligible_m for s in trip.segments.all()},
    }


def _rederived(trip: Trip) -> dict[str, Any]:
    result = trip_rederive(trip=trip).result
    if result is None:  # the file no longer parses: nothing verified
        return {
            "total_m": ZERO_M,
            "autonomous_m": ZERO_M,
            "eligible_m": ZERO_M,
            "points_total": 0,
            "points_used": 0,
            "disengagements": 0,
        }
    return {
        "total_m": centimetres(result.total_m),
        "autonomous_m": centimetres(result.autonomous_m),
        "eligible_m": centimetres(result.eligible_m),
        "points_total": result.points_total,
        "points_used": result.points_used,
        "disengagements": result.disengagements,
        **{
            f"day {day} autonomous_m/eligible_m": (centimetres(a), centimetres(e))
            for day, (a, e) in result.day_m.items()
        },
        **{
            f"segment {segment_id} eligible_m": centimetres(metres)
            for segment_id, metres in result.segment_m.items()
            if metres > 0
        },
    }


def _compare(trip: Trip) -> Iterable[DeepFinding]:
    try:
        again = _rederived(trip)
    except RawFileChangedError as error:
        yield DeepFinding(trip.pk, "raw file SHA-256", trip.raw_sha256, str(error))
        return
    except Exception as error:
        yield DeepFinding(trip.pk, "raw file", "readable", f"{type(error).__name__}: {error}")
        return
    stored = _stored(trip)
    for figure in sorted(set(again) | set(stored)):
        want, have = again.get(figure, "-"), stored.get(figure, "-")
        if want != have:
            yield DeepFinding(trip.pk, figure, str(want), str(have))


def deep_check(*, year: int | None = None, trip_ids: Iterable[int] | None = None) -> DeepCheck:
    """Verify again every trip in an issued statement (of `year`, if given)."""
    started = time.perf_counter()
    check = DeepCheck()
    ids = list(trip_ids) if trip_ids is not None else issued_trip_ids(year)
    trips = (
        Trip.objects.filter(pk__in=ids)
        .select_related("vehicle", "operator")
        .prefetch_related("days", "segments")
        .order_by("pk")
    )
    for trip in trips.iterator(chunk_size=200):
        if trip.raw_purged_at is not None:
            check.purged += 1
            continue
        check.trips += 1
        check.findings += _compare(trip)
    check.seconds = time.perf_counter() - started
    return check
