"""A kilometre is paid once: the conflicts of a trip with the other trips in the database.

Four kinds, each a reason that names the other trip (`trip` in the stored reason):

- `overlaps_accepted_trip`: the same vehicle's accepted trip over an overlapping time;
- `same_content`: the same raw bytes (SHA-256) under another trip, any vehicle or company;
- `same_fixes`: the same fixes (trips.replay.fix_fingerprint) in another encoding;
- `replayed_trace`: a near copy (trips.replay: band keys → candidates → `confirm`).

The candidate index is the database: `TripFingerprint` (the exact fix hash, the shape
signature) and `TripBandKey` (one row per MinHash band key, indexed). A trip conflicts
with a trip that was not rejected or withdrawn (their rows stay in the index as evidence,
and the look-ups pass them over) and is either accepted or was received before it (the
first submission is the one a later copy is measured against, whatever the order of
verification). Reads only; trips.services writes the fingerprints and decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from trips.reason_codes import CONFLICT_CODES, TripReason
from trips.replay import Match, ReplayParams, ShapeSignature, confirm, plausibility_flags
from trips.verification.params import verify_params
from trips.verification.verify import VerificationResult

from .models import Trip, TripBandKey, TripFingerprint


@dataclass(frozen=True)
class Conflict:
    code: TripReason
    trip_id: int
    figures: dict[str, float] = field(default_factory=dict)

    def reason(self) -> dict[str, Any]:
        """As stored in `Trip.reasons`: the other trip's id in `trip`, never in the message
        (the message reaches the company; another company's trip number must not)."""
        return {
            "code": self.code,
            "message": _MESSAGES[self.code].format(**self.figures),
            "count": 1,
            "metres": float(self.figures.get("matched_m", 0.0)),
            "line": None,
            "trip": self.trip_id,
            "figures": self.figures,
        }


# Stored messages are evidence in one language (English, as the verifier's); pages show
# each code's translated sentence (trips/reasons.py) and the conflicting trips beside it.
_MESSAGES = {
    TripReason.OVERLAPS_ACCEPTED_TRIP: "Overlaps in time an accepted trip of the same vehicle.",
    TripReason.SAME_CONTENT: "The same file was already submitted as another trip.",
    TripReason.SAME_FIXES: (
        "The same fixes (times and positions) were already submitted as another trip."
    ),
    TripReason.REPLAYED_TRACE: (
        "A near copy of another trip's recording: median {median_distance_m:.2f} m apart, "
        "{matched_share:.0%} of the length matched."
    ),
}


def _pool(trip: Trip, *, any_order: bool = False) -> Q:
    """The trips `trip` may conflict with (see the module's docstring); `any_order` for the
    sweep, which looks at every other trip that was not rejected or withdrawn."""
    pool = ~Q(pk=trip.pk) & ~Q(status__in=(Trip.Status.REJECTED, Trip.Status.WITHDRAWN))
    return pool if any_order else pool & (Q(status=Trip.Status.ACCEPTED) | Q(pk__lt=trip.pk))


def overlapping_accepted(*, trip: Trip, started: datetime, ended: datetime) -> list[int]:
    """The same vehicle's accepted trips overlapping [started, ended).

    No trip lasts longer than `max_duration_s` (verification refuses it), so one that
    overlaps started at most that long before: the lower bound keeps the look-up a short
    range of the (vehicle, started_at) index however long the vehicle's history.
    """
    earliest = started - timedelta(seconds=verify_params().max_duration_s)
    return list(
        Trip.objects.filter(
            vehicle_id=trip.vehicle_id,
            status=Trip.Status.ACCEPTED,
            started_at__gt=earliest,
            started_at__lt=ended,
            ended_at__gt=started,
        )
        .exclude(pk=trip.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def same_content(*, trip: Trip, any_order: bool = False) -> list[int]:
    return list(
        Trip.objects.filter(_pool(trip, any_order=any_order), raw_sha256=trip.raw_sha256)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def same_fixes(*, trip: Trip, fixes_sha256: str, any_order: bool = False) -> list[int]:
    return list(
        Trip.objects.filter(
            _pool(trip, any_order=any_order), fingerprint__fixes_sha256=fixes_sha256
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def candidates(
    *, trip: Trip, band_keys: Iterable[int], limit: int, any_order: bool = False
) -> list[int]:
    """Trips sharing at least one band key, most shared first (ties by id), at most `limit`."""
    rows = (
        TripBandKey.objects.filter(band_key__in=list(band_keys))
        .filter(trip__in=Trip.objects.filter(_pool(trip, any_order=any_order)))
        .values("trip_id")
        .annotate(shared=Count("pk"))
        .order_by("-shared", "trip_id")[:limit]
    )
    return [row["trip_id"] for row in rows]


def signatures(trip_ids: list[int], scheme: str) -> dict[int, ShapeSignature]:
    rows = TripFingerprint.objects.filter(
        trip_id__in=trip_ids, scheme=scheme, signature__isnull=False
    ).values_list("trip_id", "signature")
    return {
        trip_id: ShapeSignature.from_bytes(bytes(blob))
        for trip_id, blob in rows
        if blob is not None
    }


def replayed(
    *, trip: Trip, signature: ShapeSignature, params: ReplayParams, any_order: bool = False
) -> tuple[int, Match] | None:
    """The earlier (or accepted) trip this one copies, the closest if several, with figures."""
    ids = candidates(
        trip=trip,
        band_keys=signature.band_keys,
        limit=params.max_candidates,
        any_order=any_order,
    )
    best: tuple[int, Match] | None = None
    for trip_id, other in sorted(signatures(ids, signature.scheme).items()):
        match = confirm(signature, other, params=params)
        if match is None:
            continue
        if best is None or (match.matched_share, -match.median_distance_m) > (
            best[1].matched_share,
            -best[1].median_distance_m,
        ):
            best = (trip_id, match)
    return best


def match_figures(match: Match) -> dict[str, float]:
    return {
        "median_distance_m": round(match.median_distance_m, 3),
        "matched_share": round(match.matched_share, 4),
        "matched_m": round(match.matched_m, 1),
        "spread_m": round(match.spread_m, 3),
        "path_median_m": round(match.path_median_m, 3),
        "time_offset_s": round(match.time_offset_s, 1),
    }


def conflicts(
    *,
    trip: Trip,
    started: datetime | None,
    ended: datetime | None,
    fixes_sha256: str | None,
    signature: ShapeSignature | None,
    params: ReplayParams,
    any_order: bool = False,
) -> list[Conflict]:
    """Every conflict of `trip`, whatever else verification found."""
    found: list[Conflict] = []
    if started is not None and ended is not None:
        found += [
            Conflict(TripReason.OVERLAPS_ACCEPTED_TRIP, pk)
            for pk in overlapping_accepted(trip=trip, started=started, ended=ended)
        ]
    same = same_content(trip=trip, any_order=any_order)
    found += [Conflict(TripReason.SAME_CONTENT, pk) for pk in same]
    if fixes_sha256:
        found += [
            Conflict(TripReason.SAME_FIXES, pk)
            for pk in same_fixes(trip=trip, fixes_sha256=fixes_sha256, any_order=any_order)
            if pk not in same
        ]
    if signature is not None:
        exact = {c.trip_id for c in found if c.code != TripReason.OVERLAPS_ACCEPTED_TRIP}
        copy = replayed(trip=trip, signature=signature, params=params, any_order=any_order)
        if copy is not None and copy[0] not in exact:
            found.append(Conflict(TripReason.REPLAYED_TRACE, copy[0], match_figures(copy[1])))
    return found


def stored_conflicts(trip: Trip) -> list[Conflict]:
    """The conflicts recorded in the trip's reasons when it was verified."""
    return [
        Conflict(TripReason(reason["code"]), int(reason["trip"]), dict(reason.get("figures") or {}))
        for reason in trip.reasons
        if reason.get("code") in CONFLICT_CODES and reason.get("trip") is not None
    ]


def stored_conflicts_now(trip: Trip) -> list[Conflict]:
    """The recorded conflicts, with the overlaps looked for again (the other trip may have
    been accepted since, or rejected): what a review decides on."""
    recorded = [c for c in stored_conflicts(trip) if c.code != TripReason.OVERLAPS_ACCEPTED_TRIP]
    if trip.started_at is None or trip.ended_at is None:
        return recorded
    overlaps = overlapping_accepted(trip=trip, started=trip.started_at, ended=trip.ended_at)
    return [Conflict(TripReason.OVERLAPS_ACCEPTED_TRIP, pk) for pk in overlaps] + recorded


def accepted_overlaps(*, trip_ids: Iterable[int] | None = None) -> list[tuple[int, int]]:
    """Pairs (smaller id, larger id) of one vehicle's accepted trips that overlap in time.

    Never any on PostgreSQL (the exclusion constraint); on SQLite the services' rule is the
    only guard, and this is how the computation and the ledger check make sure.
    """
    accepted = Trip.objects.filter(status=Trip.Status.ACCEPTED, started_at__isnull=False)
    mine = accepted if trip_ids is None else accepted.filter(pk__in=trip_ids)
    others = accepted.filter(
        vehicle_id=OuterRef("vehicle_id"),
        started_at__lt=OuterRef("ended_at"),
        ended_at__gt=OuterRef("started_at"),
    ).exclude(pk=OuterRef("pk"))
    pairs: set[tuple[int, int]] = set()
    for trip in mine.filter(Exists(others)).only("pk", "vehicle_id", "started_at", "ended_at"):
        if trip.started_at is None or trip.ended_at is None:
            continue
        for other in overlapping_accepted(trip=trip, started=trip.started_at, ended=trip.ended_at):
            pairs.add((min(trip.pk, other), max(trip.pk, other)))
    return sorted(pairs)


@dataclass(frozen=True)
class SweepFinding:
    """A trip and another trip (any status but rejected or withdrawn) counting the same
    drive."""

    trip_id: int
    other_id: int
    code: TripReason
    figures: dict[str, float]

    def __str__(self) -> str:
        figures = ", ".join(f"{k}={v:g}" for k, v in self.figures.items())
        text = f"trip {self.trip_id} {self.code} trip {self.other_id}"
        return f"{text} ({figures})" if figures else text


def copies_sweep(*, trip_ids: Iterable[int], params: ReplayParams) -> list[SweepFinding]:
    """Check `trip_ids` again against every other trip, whatever the order they came in
    (a copy found only now, a threshold changed, a trip verified before detection existed).

    A dry read: it writes nothing; each pair is reported once.
    """
    findings: dict[tuple[int, int, str], SweepFinding] = {}
    trips = Trip.objects.filter(pk__in=list(trip_ids)).select_related("fingerprint").order_by("pk")
    for trip in trips.iterator(chunk_size=500):
        stored: TripFingerprint | None = getattr(trip, "fingerprint", None)
        signature = (
            ShapeSignature.from_bytes(bytes(stored.signature))
            if stored is not None and stored.signature and stored.scheme == params.scheme()
            else None
        )
        for found in conflicts(
            trip=trip,
            started=trip.started_at,
            ended=trip.ended_at,
            fixes_sha256=stored.fixes_sha256 if stored is not None else None,
            signature=signature,
            params=params,
            any_order=True,
        ):
            a, b = sorted((trip.pk, found.trip_id))
            kind = "copy" if found.code == TripReason.REPLAYED_TRACE else str(found.code)
            finding = SweepFinding(trip.pk, found.trip_id, found.code, found.figures)
            findings.setdefault((a, b, kind), finding)
    return sorted(findings.values(), key=lambda f: (f.trip_id, f.other_id, f.code))


def plausibility_reasons(result: VerificationResult, params: ReplayParams) -> list[dict[str, Any]]:
    """Physical plausibility of the kept fixes (trips.replay.plausibility), with figures."""
    if result.lon.size < 3:
        return []
    speed = None if result.speed_kmh is None else result.speed_kmh / 3.6
    flags = plausibility_flags(result.lon, result.lat, result.t_ns, speed_mps=speed, params=params)
    return [
        {
            "code": TripReason(flag.code),
            "message": _PLAUSIBILITY_MESSAGES[flag.code].format(**flag.figures),
            "count": 0,
            "metres": 0.0,
            "line": None,
            "figures": {k: round(v, 4) for k, v in flag.figures.items()},
        }
        for flag in flags
    ]


_PLAUSIBILITY_MESSAGES: dict[str, str] = {
    TripReason.IMPLAUSIBLE_ACCELERATION: (
        "Speed from the positions changes by up to {max_accel_mps2:.1f} m/s² gained and "
        "{max_decel_mps2:.1f} m/s² lost, sustained: beyond a road vehicle."
    ),
    TripReason.SPEED_DISAGREEMENT: (
        "The speed column differs from the speed from positions by {median_abs_diff_mps:.1f} m/s "
        "(median over {samples:.0f} fixes; ratio {median_ratio:.2f})."
    ),
    TripReason.TOO_SMOOTH: (
        "{straight_share:.0%} of the minute-long windows lie on a straight line at a constant "
        "speed to within centimetres (median {median_residual_m:.3f} m): no receiver's noise."
    ),
}


def fingerprint_store(*, trip: Trip, fixes_sha256: str, signature: ShapeSignature | None) -> None:
    """The trip's rows in the copy index (trips.copies), replaced on every verification."""
    TripBandKey.objects.filter(trip=trip).delete()
    if not fixes_sha256:
        TripFingerprint.objects.filter(trip=trip).delete()
        return
    TripFingerprint.objects.update_or_create(
        trip=trip,
        defaults={
            "fixes_sha256": fixes_sha256,
            "scheme": signature.scheme if signature else "",
            "signature": signature.to_bytes() if signature else None,
        },
    )
    if signature is not None:
        TripBandKey.objects.bulk_create(
            TripBandKey(trip=trip, band_key=key) for key in sorted(set(signature.band_keys))
        )
