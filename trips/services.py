"""Every state change of trips: upload, processing, review and re-verification."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, models, transaction
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import ApplicationError
from core.models import AuditRecord
from core.roles import REVIEW_TRIPS, UPLOAD
from core.services import audit_record, require, transition
from core.units import centimetres
from operators.identifiers import normalise_vin
from operators.models import User, Vehicle, local_day_start
from operators.selectors import vehicle_list
from recorder.selectors import recorder_intervals
from routes.selectors import zone_timeline
from trips import parsers
from trips.live_check import live_mismatch
from trips.reason_codes import TripReason
from trips.replay import (
    ShapeSignature,
    fingerprint,
    fix_fingerprint,
)
from trips.verification.geojson import trace_geojson
from trips.verification.params import replay_params, verify_params
from trips.verification.verify import VERSION, VerificationResult, VerifyParams, verify

from . import copies
from .models import WITHDRAW_REFUSED, Trip, TripDay, TripSegment
from .selectors import trip_list
from .versions import version_decide, version_record

logger = logging.getLogger(__name__)


def _raw_path(sha256: str) -> str:
    return f"raw/{sha256[:2]}/{sha256}"


def _stored_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with default_storage.open(path, "rb") as stored:
        for chunk in stored.chunks():
            digest.update(chunk)
    return digest.hexdigest()


def _store_raw(data: bytes, sha256: str) -> str:
    """Store the bytes once under their hash; the same content is never written twice.

    The file is written before the trip row is committed: a crash in between leaves a file
    that no trip references (it counts for nothing, and the next upload of the same bytes
    finds it by its hash), never a trip without its file. A file already at the path is
    checked against the hash, because a crash while it was being written (local disk writes
    in place) leaves it torn; a torn file is written again.
    """
    path = _raw_path(sha256)
    if default_storage.exists(path):
        if _stored_sha256(path) == sha256:
            return path
        logger.warning("Raw file %s does not match its hash; writing it again.", path)
        default_storage.delete(path)
    saved = default_storage.save(path, ContentFile(data))
    if saved != path:  # a concurrent upload of the same bytes won the race
        default_storage.delete(saved)
    return path


def _existing_trip(*, vehicle: Vehicle, sha256: str, external_id: str) -> Trip | None:
    same_file = Trip.objects.filter(vehicle=vehicle, raw_sha256=sha256).first()
    if same_file or not external_id:
        return same_file
    return Trip.objects.filter(operator_id=vehicle.operator_id, external_id=external_id).first()


def trip_upload(
    *,
    actor: User | None,
    vin: str,
    data: bytes,
    original_name: str = "",
    declared_format: str = "",
    crs: str = Trip.Crs.WGS84,
    declared_mode: str = "",
    external_id: str = "",
) -> tuple[Trip, bool]:
    """Store a trip log and queue it for verification; returns (trip, created).

    The same file for the same vehicle, or the same external id for the same company,
    returns the existing trip — also when two identical uploads race (unique constraints).
    `actor` None is the system (bulk back-fill from the command line).
    """
    if actor is not None:
        require(actor, UPLOAD)
        vehicles = vehicle_list(user=actor)
    else:
        vehicles = Vehicle.objects.all()
    vehicle = vehicles.select_related("operator").filter(vin=normalise_vin(vin)).first()
    if vehicle is None:
        raise ApplicationError(_("No such vehicle."), field="vin")
    if len(data) > settings.TRIP_MAX_BYTES:
        raise ApplicationError(_("The file is larger than the limit."), field="file")
    if not data:
        raise ApplicationError(_("The file is empty."), field="file")
    _refuse_at_upload(data, declared_format=declared_format, declared_mode=declared_mode)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = _existing_trip(vehicle=vehicle, sha256=sha256, external_id=external_id)
    if existing:
        return existing, False
    path = _store_raw(data, sha256)
    trip = Trip(
        operator=vehicle.operator,
        vehicle=vehicle,
        uploaded_by=actor,
        external_id=external_id,
        raw_sha256=sha256,
        raw_file=path,
        raw_size=len(data),
        original_name=original_name[:255],
        declared_format=declared_format,
        crs=crs,
        declared_mode=declared_mode,
    )
    trip.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            trip.save()
            audit_record(
                actor=actor,
                obj=trip,
                action="upload",
                changes={"raw_sha256": [None, sha256], "vehicle": [None, vehicle.pk]},
            )
    except IntegrityError:
        # The identical upload that arrived at the same moment committed first.
        existing = _existing_trip(vehicle=vehicle, sha256=sha256, external_id=external_id)
        if existing is None:
            raise
        return existing, False
    _schedule_processing(trip.pk)
    return trip, True


# Formats whose fixes never carry a driving mode: the upload must declare one.
FORMATS_WITHOUT_MODE = frozenset({Trip.Format.GPX, Trip.Format.NMEA})


def _refuse_at_upload(data: bytes, *, declared_format: str, declared_mode: str) -> None:
    """Refuse, before anything is stored, what can never become a trip: binary junk (an
    image, a zip, random bytes) and a file of a format without modes uploaded without one.
    A cheap look at the content; the parser judges the rest when the trip is verified."""
    fmt = declared_format or parsers.detect_format(data)
    if fmt != Trip.Format.PARQUET:
        try:
            parsers.refuse_binary(data)
        except parsers.TraceError as error:
            raise ApplicationError(
                _(
                    "This is not a trip log: the file holds binary data (an image, an archive, "
                    "UTF-16 text?), first at line %(line)s. Upload CSV, GPX, GeoJSON, NMEA 0183 "
                    "or Parquet."
                )
                % {"line": error.line},
                field="file",
            ) from None
    if fmt is None:
        raise ApplicationError(
            _(
                "The format could not be recognised; expected CSV, GPX, GeoJSON, NMEA 0183 "
                "or Parquet."
            ),
            field="file",
        )
    if fmt in FORMATS_WITHOUT_MODE and not declared_mode:
        raise ApplicationError(
            _(
                "A %(format)s file carries no driving mode: choose the mode it was driven in "
                "(autonomous or manual)."
            )
            % {"format": Trip.Format(fmt).label},
            field="mode",
        )


def _schedule_processing(trip_id: int) -> None:
    transaction.on_commit(lambda: _enqueue_processing(trip_id))


def _enqueue_processing(trip_id: int) -> None:
    """Queue the trip's verification. A broker that is down does not fail the upload: the
    trip is committed and stays `received`, and `trip_requeue_stale` queues it later."""
    from kombu.exceptions import OperationalError as BrokerError  # noqa: PLC0415

    from .tasks import process_trip  # noqa: PLC0415 - tasks import services

    try:
        process_trip.delay(trip_id)
    except BrokerError:
        logger.warning("Trip %s stored but not queued: broker unreachable.", trip_id, exc_info=True)


def trip_requeue_stale(*, older_than: timedelta) -> list[int]:
    """Queue again every trip left waiting longer than `older_than`; returns their ids.

    A trip waits in `received` after upload, or in `processing` after `trip_reverify`, until
    a worker commits its result in one transaction. One that waits longer lost its queue
    message: the broker was down at upload, or the worker running it was killed (its
    transaction rolled back). Queuing a trip twice is harmless: `trip_process` does nothing
    for a trip that is no longer waiting.
    """
    from .tasks import process_trip  # noqa: PLC0415 - tasks import services

    cutoff = timezone.now() - older_than
    queued_at = (
        AuditRecord.objects.filter(
            content_type=ContentType.objects.get_for_model(Trip),
            object_id=Cast(models.OuterRef("pk"), models.CharField()),
            action=Trip.Status.PROCESSING,
        )
        .order_by("-at")
        .values("at")[:1]
    )
    stale = list(
        Trip.objects.filter(status__in=[Trip.Status.RECEIVED, Trip.Status.PROCESSING])
        .annotate(queued_at=models.Subquery(queued_at))
        .filter(
            models.Q(status=Trip.Status.RECEIVED, received_at__lt=cutoff)
            | models.Q(status=Trip.Status.PROCESSING, queued_at__lt=cutoff)
        )
        .order_by("received_at")
        .values_list("pk", flat=True)
    )
    for trip_id in stale:
        process_trip.delay(trip_id)
    if stale:
        logger.info("Queued %d stale trip(s) again.", len(stale))
    return stale


def _reason_dicts(reasons: list[Any]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(r) for r in reasons]


class _Again(NamedTuple):
    data: bytes
    params: VerifyParams
    max_points: int
    now: datetime | None


class _Verified(NamedTuple):
    format: str
    result: VerificationResult | None  # None: the file could not be parsed
    reasons: list[dict[str, Any]]
    outcome: str
    fixes_sha256: str = ""
    signature: ShapeSignature | None = None


def _verify(trip: Trip, again: _Again | None = None) -> _Verified:
    """Parse and verify the raw file (`again`: the bytes, parameters and time of a past
    verification, to derive its result a second time)."""
    if again is None:
        with trip.raw_file.open("rb") as raw:
            data = raw.read()
    else:
        data = again.data
    max_points = settings.TRIP_MAX_POINTS if again is None else again.max_points
    try:
        trace = parsers.parse(data, fmt=trip.declared_format or None, max_points=max_points)
    except parsers.TraceError as error:
        reason = {
            "code": error.code,
            "message": error.message,
            "count": 0,
            "metres": 0.0,
            "line": error.line,
        }
        return _Verified(trip.declared_format, None, [reason], Trip.Status.REJECTED)
    # The raw bytes are not needed past parsing: released before verification, the trip's
    # memory peak (see bench/README.md).
    del data
    start, end = _time_range(trace)
    vehicle = trip.vehicle
    eligible_from = trip.operator.eligible_from
    result = verify(
        trace,
        crs=trip.crs,
        default_auto=None if not trip.declared_mode else trip.declared_mode == Trip.Mode.AUTO,
        zones=zone_timeline(start=start, end=end),
        permit=vehicle.permit_window() if vehicle.status != Vehicle.Status.REJECTED else None,
        eligible_from=local_day_start(eligible_from) if eligible_from else None,
        params=verify_params() if again is None else again.params,
        now=None if again is None else again.now,
        # The data recorder decides what was autonomous where it covers the trip.
        recorder_intervals=recorder_intervals(vehicle_id=vehicle.pk, start=start, end=end),
    )
    reasons = _reason_dicts(result.reasons)  # the parser's notes are among them
    outcome = result.outcome
    # Deriving a past result again compares figures: the conflicts with other trips and the
    # review are decisions, not figures, and are not looked for again.
    if result.lon.size == 0 or again is not None:
        return _Verified(trace.format, result, reasons, outcome)
    # A kilometre is paid once: whatever verification found, the conflicts with other
    # trips (overlaps, the same content, near copies) and the plausibility flags are all
    # looked for, so one flag never hides another (trips.copies).
    replay = replay_params()
    fixes_sha256 = fix_fingerprint(result.lon, result.lat, result.t_ns)
    signature = fingerprint(result.lon, result.lat, result.t_ns, params=replay)
    found = copies.conflicts(
        trip=trip,
        started=result.started_at,
        ended=result.ended_at,
        fixes_sha256=fixes_sha256,
        signature=signature,
        params=replay,
    )
    flags = copies.plausibility_reasons(result, replay) + [conflict.reason() for conflict in found]
    if outcome != Trip.Status.REJECTED:  # an upload over time a live stream covers
        mismatch = live_mismatch(trip=trip, trace=trace, total_m=result.total_m)
        if mismatch is not None:
            flags.append(mismatch)
    reasons += flags
    if flags and outcome == Trip.Status.ACCEPTED:
        outcome = Trip.Status.NEEDS_REVIEW
    return _Verified(trace.format, result, reasons, outcome, fixes_sha256, signature)


def _time_range(trace: parsers.ParsedTrace) -> tuple[datetime, datetime]:
    if len(trace.t_ns) == 0:
        now = timezone.now()
        return now, now
    first = datetime.fromtimestamp(int(trace.t_ns.min()) / 1e9, tz=UTC)
    last = datetime.fromtimestamp(int(trace.t_ns.max()) / 1e9, tz=UTC)
    return first, last


def _lock_vehicle(vehicle_id: int) -> None:
    """Decide one vehicle's trips one at a time (see trip_process)."""
    Vehicle.objects.select_for_update(no_key=True).filter(pk=vehicle_id).exists()


@transaction.atomic
def trip_process(*, trip_id: int, actor: User | None = None, reason: str = "") -> Trip:
    """Verify a received (or re-queued) trip from its raw file and record the result.

    Idempotent: a trip that is no longer received/processing is returned untouched, and a
    retry after a crash recomputes the same result from the same raw file.
    """
    # The trip's row only: a bare FOR UPDATE would also lock its company's row, which an
    # upload's deferred foreign-key check needs at commit while it holds the audit chain's
    # lock that this transaction waits for next (a deadlock, seen in bench_load.py).
    trip = (
        Trip.objects.select_for_update(of=("self",))
        .select_related("vehicle", "operator")
        .get(pk=trip_id)
    )
    if trip.status not in (Trip.Status.RECEIVED, Trip.Status.PROCESSING):
        return trip
    # One vehicle's trips are decided one at a time: the overlap check and the decision
    # are then one step (PostgreSQL; its exclusion constraint stands behind it). SQLite runs
    # one writer at a time anyway. NO KEY UPDATE: an upload for the vehicle, whose deferred
    # foreign-key check takes KEY SHARE at commit while it holds the audit chain's lock,
    # must not wait for it (a deadlock with FOR UPDATE, seen in bench_load.py).
    _lock_vehicle(trip.vehicle_id)
    # Verified before the first audit record is written: writing one takes the audit
    # chain's lock until this transaction commits (core.models.ChainedModel).
    verified = _verify(trip)
    fmt, result, reasons, outcome = verified[:4]
    if trip.status == Trip.Status.RECEIVED:
        trip = transition(instance=trip, to=Trip.Status.PROCESSING, actor=actor, reason=reason)
    copies.fingerprint_store(
        trip=trip, fixes_sha256=verified.fixes_sha256, signature=verified.signature
    )
    data: dict[str, Any] = {
        "reasons": reasons,
        "params": {**dataclasses.asdict(verify_params()), "max_points": settings.TRIP_MAX_POINTS},
        "code_version": VERSION,
        "processed_at": timezone.now(),
        "format": fmt,
    }
    days: list[TripDay] = []
    segments: list[TripSegment] = []
    if result is None:
        data.update(
            total_m=0,
            autonomous_m=0,
            eligible_m=0,
            disengagements=0,
            points_total=0,
            points_used=0,
            trace_file="",
        )
    else:
        data.update(
            started_at=result.started_at,
            ended_at=result.ended_at,
            points_total=result.points_total,
            points_used=result.points_used,
            total_m=centimetres(result.total_m),
            autonomous_m=centimetres(result.autonomous_m),
            eligible_m=centimetres(result.eligible_m),
            disengagements=result.disengagements,
            trace_file=_store_trace(trip, result),
        )
        days = [
            TripDay(
                trip=trip,
                day=day,
                autonomous_m=centimetres(auto_m),
                eligible_m=centimetres(eligible_m),
            )
            for day, (auto_m, eligible_m) in sorted(result.day_m.items())
        ]
        segments = [
            TripSegment(trip=trip, segment_id=segment_id, eligible_m=centimetres(metres))
            for segment_id, metres in sorted(result.segment_m.items())
            if metres > 0
        ]
    return version_record(
        trip=trip,
        to=outcome,
        data=data,
        days=days,
        segments=segments,
        actor=actor,
        reason=reason,
        created_at=data["processed_at"],
    )


class RawFileChangedError(Exception):
    """The stored raw file is not the bytes the trip was verified from."""


class Rederived(NamedTuple):
    result: VerificationResult | None  # None: the file no longer parses
    reasons: list[dict[str, Any]]


def trip_rederive(*, trip: Trip) -> Rederived:
    """Verify a processed trip again from its stored raw file, with its own stored
    parameters, verifier time and the approvals as recorded now; writes nothing.

    The bytes are checked against the trip's SHA-256 as they are read (RawFileChangedError).
    The figures to compare are the result's; the outcome is not derived again (the overlap
    with other trips and the review are decisions, not figures).
    """
    with trip.raw_file.open("rb") as raw:
        data = raw.read()
    found = hashlib.sha256(data).hexdigest()
    if found != trip.raw_sha256:
        raise RawFileChangedError(found)
    stored = dict(trip.params)
    max_points = int(stored.pop("max_points", settings.TRIP_MAX_POINTS))
    again = _Again(data, VerifyParams(**stored), max_points, trip.processed_at)
    verified = _verify(trip, again)
    return Rederived(verified.result, verified.reasons)


def _store_trace(trip: Trip, result: VerificationResult) -> str:
    path = f"traces/{trip.pk}-{VERSION}-{timezone.now():%Y%m%d%H%M%S%f}.geojson"
    body = json.dumps(trace_geojson(result), separators=(",", ":"))
    return default_storage.save(path, ContentFile(body.encode()))


@transaction.atomic
def trip_review(*, actor: User, trip: Trip, accept: bool, reason: str) -> Trip:
    """The bureau's decision on a flagged trip; only accepted trips count toward subsidies."""
    require(actor, REVIEW_TRIPS)
    if not reason.strip():
        raise ApplicationError(_("Give a reason."), field="reason")
    _lock_vehicle(trip.vehicle_id)
    trip = (
        Trip.objects.select_for_update(of=("self",))
        .select_related("current_verification")
        .get(pk=trip.pk)
    )
    if trip.status != Trip.Status.NEEDS_REVIEW:
        raise ApplicationError(_("Only a trip that needs review can be reviewed."), field="status")
    # The conflicts as they are now: overlaps looked for again, copies as recorded.
    conflicts = copies.stored_conflicts_now(trip)
    if accept:
        accepted = set(
            Trip.objects.filter(
                pk__in=[c.trip_id for c in conflicts], status=Trip.Status.ACCEPTED
            ).values_list("pk", flat=True)
        )
        standing = sorted({c.trip_id for c in conflicts if c.trip_id in accepted})
        if standing:
            raise ApplicationError(
                ngettext(
                    "This trip cannot be accepted while accepted trip %(ids)s counts the "
                    "same kilometres. Reject one of them first (or the company withdraws one).",
                    "This trip cannot be accepted while accepted trips %(ids)s count the "
                    "same kilometres. Reject one of them first (or the company withdraws one).",
                    len(standing),
                )
                % {"ids": ", ".join(f"#{pk}" for pk in standing)},
                field="decision",
            )
    kept = trip.pk if accept else next((c.trip_id for c in conflicts), None)
    # A new version with the verified figures and the decided outcome: accepting a trip held
    # for the recorder credits what verification measured, the supported metres only.
    return version_decide(
        trip=trip,
        to=Trip.Status.ACCEPTED if accept else Trip.Status.REJECTED,
        actor=actor,
        reason=reason,
        decision={
            "reviewed_by": actor,
            "reviewed_at": timezone.now(),
            "review_reason": reason,
            "review_kept_trip": Trip.objects.get(pk=kept) if kept and conflicts else None,
        },
    )


@transaction.atomic
def trip_reverify(*, actor: User | None, trip: Trip, reason: str) -> Trip:
    """Queue a processed trip to be verified again from its raw file (e.g. after an
    approval was corrected); a result that changes after a statement was issued flows
    into an adjustment at the next computation."""
    if actor is not None:
        require(actor, REVIEW_TRIPS)
    trip = Trip.objects.select_for_update().get(pk=trip.pk)
    if trip.raw_purged_at is not None:
        raise ApplicationError(
            _(
                "The raw file of this trip was deleted under the retention rule; it cannot "
                "be verified again."
            ),
            field="status",
        )
    if trip.status in (Trip.Status.RECEIVED, Trip.Status.PROCESSING):
        return trip
    trip = transition(instance=trip, to=Trip.Status.PROCESSING, actor=actor, reason=reason)
    _schedule_processing(trip.pk)
    return trip


def _own_trip(actor: User, trip: Trip) -> Trip:
    """The company's own trip, locked; another company's is "no such trip"."""
    require(actor, UPLOAD)
    mine = trip_list(user=actor).filter(pk=trip.pk).values_list("pk", flat=True).first()
    if mine is None:
        raise ApplicationError(_("No such trip."), field="trip")
    return (
        Trip.objects.select_for_update(of=("self",))
        .select_related("current_verification")
        .get(pk=mine)
    )


@transaction.atomic
def trip_declare_mode(*, actor: User, trip: Trip, mode: str, reason: str = "") -> Trip:
    """A company declares the driving mode of its trip rejected for `mode_missing` (a file
    whose fixes carry none, uploaded without one) and has it verified again from its raw
    file: audited here, and a new verification version when it is processed."""
    trip = _own_trip(actor, trip)
    if mode not in Trip.Mode.values:
        raise ApplicationError(_("Choose autonomous or manual."), field="mode")
    missing = any(r.get("code") == TripReason.MODE_MISSING for r in trip.reasons)
    if trip.status != Trip.Status.REJECTED or not missing:
        raise ApplicationError(
            _("Only a trip rejected for a missing driving mode can be given one."),
            field="status",
        )
    if trip.raw_purged_at is not None:
        raise ApplicationError(
            _("The raw file of this trip was deleted; it cannot be verified again."),
            field="status",
        )
    trip = transition(
        instance=trip,
        to=Trip.Status.PROCESSING,
        actor=actor,
        reason=reason or _("Driving mode declared: %(mode)s") % {"mode": Trip.Mode(mode).label},
        data={"declared_mode": mode},
    )
    _schedule_processing(trip.pk)
    return trip


@transaction.atomic
def trip_withdraw(*, actor: User, trip: Trip, reason: str) -> Trip:
    """A company withdraws its trip (a wrong upload): a new verification version with the
    outcome `withdrawn`; the trip is kept, pays nothing and conflicts with no other trip.
    Refused while an approved or issued statement holds it (a trigger, trips.0009)."""
    if not reason.strip():
        raise ApplicationError(_("Give a reason."), field="reason")
    trip = _own_trip(actor, trip)
    if Trip.Status.WITHDRAWN not in Trip.TRANSITIONS[trip.status]:
        raise ApplicationError(
            _("Only a verified trip that is not withdrawn yet can be withdrawn."), field="status"
        )
    try:
        with transaction.atomic():
            return version_decide(
                trip=trip, to=Trip.Status.WITHDRAWN, actor=actor, reason=reason, decision={}
            )
    except DatabaseError as error:
        if WITHDRAW_REFUSED not in str(error):
            raise
    raise ApplicationError(
        _(
            "This trip is part of an approved or issued statement; it cannot be withdrawn. "
            "Ask the bureau to review it instead."
        ),
        field="status",
    )
