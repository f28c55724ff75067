"""Every write of the recorder: importing event files, recording live events, incidents."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # no stubs installed
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from psycopg.copy import QueuedLibpqWriter

from core.errors import ApplicationError
from core.roles import IMPORT_ADS_EVENTS, REVIEW_TRIPS
from core.services import audit_record, model_create, require, transition
from operators.identifiers import normalise_vin
from operators.models import User, Vehicle
from operators.selectors import vehicle_list

from . import pgcopy
from .importer import EventFileError, Problem, detect_format, read_event_batches, read_events
from .models import AdsEvent, EventFile, EventType, Incident, Source
from .selectors import incident_list

# Below this many rows the ORM inserts; above it PostgreSQL gets the rows by COPY.
COPY_FROM_ROWS = 5000


# The importer's refusals (recorder/importer.py is pure), here so the catalogue has them.
IMPORTER_MESSAGES = (
    gettext_noop("the time is not ISO 8601 with an offset"),
    gettext_noop("no such vehicle"),
    gettext_noop("unknown event"),
    gettext_noop("unknown initiator"),
    gettext_noop("the note is too long"),
    gettext_noop("the place is not a latitude and longitude"),
    gettext_noop("the file has no events"),
    gettext_noop("not a JSON object"),
    gettext_noop("not UTF-8 text"),
    gettext_noop("not a readable CSV file"),
    gettext_noop("the row does not have the header's fields"),
    gettext_noop("missing column"),
    gettext_noop("unknown column"),
)


@dataclass(frozen=True)
class ImportResult:
    file: EventFile
    rows: int
    created: int
    incidents: int


def _problem_message(problems: list[Problem]) -> str:
    return "; ".join(
        _("line %(line)s: %(problem)s (%(field)s)")
        % {"line": p.line, "problem": _(p.message), "field": p.field}
        for p in problems
    )


def _vins(actor: User | None) -> dict[str, int]:
    """The VINs the importer may use: a company's own; everyone's for the bureau or the
    system. Another company's VIN is absent, so it is answered exactly as an unknown one."""
    vehicles = vehicle_list(user=actor) if actor is not None else Vehicle.objects.all()
    return dict(vehicles.values_list("vin", "pk"))


def _stored_path(sha256: str) -> str:
    return f"ads-events/{sha256[:2]}/{sha256}"


def _store(data: bytes, sha256: str) -> None:
    path = _stored_path(sha256)
    if not default_storage.exists(path):
        saved = default_storage.save(path, ContentFile(data))
        if saved != path:  # the same bytes stored meanwhile
            default_storage.delete(saved)


COPY_COLUMNS = ", ".join(pgcopy.COLUMNS)


@dataclass(frozen=True)
class _Written:
    rows: int
    created: int
    collisions: pd.DataFrame


def _copy_insert(batches: Iterator[pd.DataFrame], *, source_file_id: int) -> _Written:
    """PostgreSQL: the rows by COPY, batch by batch as the file is read and checked, so the
    server stores a batch while this process reads the next (bench/README.md, the recorder).

    The rows go straight into the events in one COPY, all of the file's or none (a
    savepoint; a refused row later in the file aborts it, and the service's transaction
    with it). Should the copy meet a known key (the file repeats an event, overlaps one
    imported before, or a concurrent import or live message recorded one meanwhile), it
    is undone and the batches, kept, are copied into a temporary table, from which one
    INSERT … SELECT adds those not yet recorded.
    """
    payloads: list[bytes] = []
    collisions: list[pd.DataFrame] = []
    rows = 0

    def read() -> Iterator[bytes]:
        nonlocal rows
        for frame in batches:
            payloads.append(pgcopy.file_event_rows(frame, source_file_id=source_file_id))
            collisions.append(frame[frame["type"] == EventType.COLLISION])
            rows += len(frame)
            yield payloads[-1]

    stream = read()
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                _copy(cursor, f"recorder_adsevent ({COPY_COLUMNS})", stream)
            created = rows
        except IntegrityError:
            # The server refuses when the copy ends, the file read by then; should it ever
            # refuse sooner, the rest is read all the same: the staged insert needs it all.
            for _payload in stream:
                pass
            created = _staged_insert(cursor, payloads)
    return _Written(rows, created, pd.concat(collisions, ignore_index=True))


def _staged_insert(cursor: Any, payloads: list[bytes]) -> int:
    """The rows not yet recorded, by COPY into a temporary table and one INSERT … SELECT."""
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS recorder_import (vehicle_id bigint, "
        "at timestamptz, source_file_id bigint, source text, lat float8, lon float8, "
        "type text, initiator text, note text) ON COMMIT DELETE ROWS"
    )
    _copy(cursor, "recorder_import", iter(payloads))
    # Temporary tables have no statistics until analysed: the planner needs the row
    # count to choose well between a hash anti-join and index probes.
    cursor.execute("ANALYZE recorder_import")
    # ON CONFLICT would try every row against the unique index first; the anti-join
    # leaves out the known ones, and only a key recorded meanwhile needs it.
    insert = f"INSERT INTO recorder_adsevent ({COPY_COLUMNS}) SELECT * FROM recorder_import s"  # noqa: S608 - constants
    try:
        with transaction.atomic():
            cursor.execute(
                insert + " WHERE NOT EXISTS (SELECT FROM recorder_adsevent e "
                "WHERE e.vehicle_id = s.vehicle_id AND e.at = s.at AND e.type = s.type)"
            )
    except IntegrityError:
        cursor.execute(insert + " ON CONFLICT (vehicle_id, at, type) DO NOTHING")
    created = int(cursor.rowcount)
    cursor.execute("DELETE FROM recorder_import")
    return created


def _copy(cursor: Any, target: str, payloads: Iterator[bytes]) -> None:
    # psycopg 3's COPY, past Django's cursor: its errors made Django's (IntegrityError...).
    # The queued writer sends from a thread of its own: a write returns at once, and this
    # thread reads the next batch while the last is still being sent, never waiting on
    # the server (which stores the rows more slowly than they are read).
    with (
        connection.wrap_database_errors,
        cursor.cursor.copy(
            f"COPY {target} FROM STDIN (FORMAT binary)", writer=QueuedLibpqWriter(cursor.cursor)
        ) as copy,
    ):
        copy.write(pgcopy.HEADER)
        for payload in payloads:
            copy.write(payload)
        copy.write(pgcopy.TRAILER)


def _orm_insert(frame: pd.DataFrame, *, source: str, source_file_id: int | None) -> int:
    # bulk_create(ignore_conflicts=True) does not say which rows were new: count the
    # events of the rows' vehicles and time span (on the unique index, not the table).
    span = AdsEvent.objects.filter(
        vehicle_id__in=[int(v) for v in frame["vehicle_id"].unique()],
        at__gte=frame["at"].min().to_pydatetime(),
        at__lte=frame["at"].max().to_pydatetime(),
    )
    before = span.count()
    AdsEvent.objects.bulk_create(
        (
            AdsEvent(
                vehicle_id=int(row.vehicle_id),
                at=row.at.to_pydatetime(),
                type=str(row.type),
                initiator=str(row.initiator),
                lat=None if pd.isna(row.lat) else float(row.lat),
                lon=None if pd.isna(row.lon) else float(row.lon),
                note=row.note,
                source=source,
                source_file_id=source_file_id,
            )
            for row in frame.itertuples(index=False)
        ),
        batch_size=2000,
        ignore_conflicts=True,
    )
    return span.count() - before


def _write(batches: Iterator[pd.DataFrame], *, copy: bool, source_file_id: int) -> _Written:
    if copy:
        return _copy_insert(batches, source_file_id=source_file_id)
    frame = pd.concat(list(batches), ignore_index=True)
    created = _orm_insert(frame, source=Source.FILE, source_file_id=source_file_id)
    return _Written(len(frame), created, frame[frame["type"] == EventType.COLLISION])


def _open_incidents(collisions: pd.DataFrame, *, actor: User | None) -> int:
    """An incident for each of the collisions (rows) that has none yet."""
    opened = 0
    for row in collisions.itertuples(index=False):
        event = (
            AdsEvent.objects.select_related("vehicle")
            .filter(
                vehicle_id=int(row.vehicle_id),
                at=row.at.to_pydatetime(),
                type=EventType.COLLISION,
                incident__isnull=True,
            )
            .first()
        )
        if event is not None:
            incident_open(event=event, actor=actor)
            opened += 1
    return opened


@transaction.atomic
def ads_events_import(*, actor: User, data: bytes, original_name: str = "") -> ImportResult:
    """Import a file of recorder events (CSV or JSON lines), all or nothing.

    A refused row refuses the file, naming its line; rows already recorded (same vehicle,
    time and event) are skipped, so importing a file again adds nothing. Each new collision
    opens an incident.
    """
    require(actor, IMPORT_ADS_EVENTS)
    if not data:
        raise ApplicationError(_("The file is empty."), field="file")
    if len(data) > settings.ADS_EVENT_IMPORT_MAX_BYTES:
        raise ApplicationError(_("The file is larger than the limit."), field="file")
    fmt = detect_format(data, original_name)
    batches = read_event_batches(data, fmt=fmt, vehicles=_vins(actor), normalise_vin=normalise_vin)
    sha256 = hashlib.sha256(data).hexdigest()
    event_file = EventFile.objects.filter(sha256=sha256).first()
    if event_file is None:
        # Rows and new events are known once the file is read, as it is being stored.
        event_file = EventFile(
            sha256=sha256,
            raw_file=_stored_path(sha256),
            size=len(data),
            original_name=original_name[:255],
            format=fmt,
            rows=0,
            created_events=0,
            uploaded_by=actor,
        )
        event_file.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                event_file.save()
        except IntegrityError:
            # The same bytes, imported at the same moment by another request that committed
            # first: its file holds every event, as below.
            event_file = EventFile.objects.get(sha256=sha256)
        else:
            # Lines are an upper bound on rows, counted without reading them.
            copy = connection.vendor == "postgresql" and data.count(b"\n") >= COPY_FROM_ROWS
            try:
                written = _write(batches, copy=copy, source_file_id=event_file.pk)
            except EventFileError as error:
                raise ApplicationError(_problem_message(error.problems), field="file") from None
            _store(data, sha256)
            event_file.rows, event_file.created_events = written.rows, written.created
            event_file.save(update_fields=["rows", "created_events"])
            incidents = _open_incidents(written.collisions, actor=actor)
            return _imported(actor, event_file, written.rows, written.created, incidents)
    # The same bytes were imported (all or nothing, and events are never deleted): every
    # event in them is recorded, and every collision has its incident. Read and checked
    # again all the same, so that another company learns nothing from it.
    try:
        rows = sum(len(frame) for frame in batches)
    except EventFileError as error:
        raise ApplicationError(_problem_message(error.problems), field="file") from None
    return _imported(actor, event_file, rows, 0, 0)


def _imported(
    actor: User, event_file: EventFile, rows: int, created: int, incidents: int
) -> ImportResult:
    audit_record(
        actor=actor,
        obj=event_file,
        action="import",
        changes={"rows": [None, rows], "created": [None, created]},
    )
    return ImportResult(file=event_file, rows=rows, created=created, incidents=incidents)


@transaction.atomic
def ads_event_record(
    *, vin: str, record: Mapping[str, Any], actor: User | None = None
) -> tuple[AdsEvent, bool]:
    """Record one live event (the stream's message for `vin`); returns (event, created).

    The message carries the import's fields; its `vin`, if given, must be the topic's. The
    same event again (same vehicle, time and type) returns the stored one.
    """
    vin = normalise_vin(vin)
    fields = {key: value for key, value in record.items() if value is not None}
    if normalise_vin(str(fields.setdefault("vin", vin))) != vin:
        raise ApplicationError(_("The message is for another vehicle."), field="vin")
    vehicles = _vins(actor)
    try:
        frame = read_events(json.dumps(fields).encode(), fmt="jsonl", vehicles={vin: vehicles[vin]})
    except KeyError:
        raise ApplicationError(_("No such vehicle."), field="vin") from None
    except EventFileError as error:
        raise ApplicationError(
            _problem_message(error.problems), field=error.problems[0].field
        ) from None
    row = next(frame.itertuples(index=False))
    key = {"vehicle_id": int(row.vehicle_id), "at": row.at.to_pydatetime(), "type": row.type}
    existing = AdsEvent.objects.filter(**key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            _orm_insert(frame, source=Source.STREAM, source_file_id=None)
    except IntegrityError:  # pragma: no cover - the same message from two consumers at once
        pass
    event = AdsEvent.objects.get(**key)
    if event.type == EventType.COLLISION and not hasattr(event, "incident"):
        incident_open(event=event, actor=actor)
    return event, True


def incident_open(*, event: AdsEvent, actor: User | None) -> Incident:
    """Open the incident a collision calls for, its report due INCIDENT_REPORT_DUE_H later."""
    vehicle: Vehicle = event.vehicle
    return model_create(
        instance=Incident(
            event=event,
            operator_id=vehicle.operator_id,
            vehicle=vehicle,
            occurred_at=event.at,
            report_due_at=event.at + dt.timedelta(hours=settings.INCIDENT_REPORT_DUE_H),
        ),
        actor=actor,
        reason=_("A collision was recorded."),
    )


def _incident_for_update(*, actor: User, incident: Incident) -> Incident:
    """The incident locked, as the actor may see it: another company's is not found."""
    found = incident_list(user=actor).select_for_update(of=("self",)).filter(pk=incident.pk)
    locked = found.first()
    if locked is None:
        raise ApplicationError(_("No such incident."), field="incident")
    return locked


@transaction.atomic
def incident_report(
    *, actor: User, incident: Incident, report: str, cause: str, injured: int, damage: str = ""
) -> Incident:
    """The company's (or the bureau's) report on an open incident: what happened, its cause,
    how many people were injured and the damage. Late reports are taken (and shown late:
    `reported_at` after `report_due_at`)."""
    require(actor, IMPORT_ADS_EVENTS)
    incident = _incident_for_update(actor=actor, incident=incident)
    if not report.strip():
        raise ApplicationError(_("Say what happened."), field="report")
    if not cause.strip():
        raise ApplicationError(_("Give the cause."), field="cause")
    if injured < 0:
        raise ApplicationError(
            _("The number of people injured cannot be negative."), field="injured"
        )
    return transition(
        instance=incident,
        to=Incident.Status.REPORTED,
        actor=actor,
        data={
            "report": report.strip(),
            "cause": cause.strip(),
            "injured": injured,
            "damage": damage.strip(),
            "reported_at": timezone.now(),
        },
    )


@transaction.atomic
def incident_close(*, actor: User, incident: Incident, reason: str) -> Incident:
    """The bureau closes an incident, reported or not (a false alarm), with a reason. Closed
    is final. Nothing is paid on it, so it is not a four-eyes step: the officer who filed a
    report for a company may close it."""
    require(actor, REVIEW_TRIPS)
    incident = _incident_for_update(actor=actor, incident=incident)
    if not reason.strip():
        raise ApplicationError(_("Give the reason for closing."), field="reason")
    return transition(
        instance=incident,
        to=Incident.Status.CLOSED,
        actor=actor,
        reason=reason.strip(),
        data={"close_reason": reason.strip(), "closed_at": timezone.now()},
    )
