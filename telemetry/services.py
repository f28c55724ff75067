"""Every write of telemetry: terminals and their auth codes, fixes, raw archives, streams.

Auth codes. A code is issued when a terminal is registered (or issued again) and is shown
ONCE, in that answer, to the person registering, who writes it into the device. Only its
SHA-256 is stored (a 96-bit random secret needs no slow hash), so nobody can read it later.
A JT/T 808 device may instead fetch a code itself with 0x0100: it gets a fresh one (the
previous stops working) only while the terminal is unclaimed, i.e. once per issue, so
knowing a phone number and a plate is not enough to take a terminal over.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError
from core.roles import PROPOSE_VEHICLES
from core.services import audit_record, model_create, model_update, require
from operators.identifiers import normalise_vin
from operators.models import User, Vehicle
from operators.selectors import vehicle_list

from . import heads
from .models import RawArchive, Stream, Terminal

#: Who may register and deactivate terminals: the people who register vehicles (the bureau,
#: an admin, the owning company; scoping by company is the vehicle selector's).
MANAGE_TERMINALS = PROPOSE_VEHICLES
AUTH_CODE_BYTES = 12  # 96 bits, 16 characters of URL-safe base64 (fits JT/T 808's field)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _new_code() -> tuple[str, str]:
    code = secrets.token_urlsafe(AUTH_CODE_BYTES)
    return code, _hash(code)


def _normalise_terminal_id(protocol: str, terminal_id: str) -> str:
    terminal_id = terminal_id.strip()
    if protocol == Terminal.Protocol.MQTT:
        return normalise_vin(terminal_id)
    return terminal_id


@transaction.atomic
def terminal_register(
    *, actor: User, vehicle_id: int, protocol: str, terminal_id: str
) -> tuple[Terminal, str]:
    """Bind a terminal to a vehicle; returns the terminal and its auth code (shown once)."""
    require(actor, MANAGE_TERMINALS)
    vehicle = vehicle_list(user=actor).filter(pk=vehicle_id).first()
    if vehicle is None:
        raise ApplicationError(_("No such vehicle."), field="vehicle")
    if protocol not in Terminal.Protocol.values:
        raise ApplicationError(_("Unknown protocol."), field="protocol")
    terminal_id = _normalise_terminal_id(protocol, terminal_id)
    if protocol == Terminal.Protocol.JT808 and not (
        terminal_id.isdigit() and terminal_id.isascii() and len(terminal_id) in (12, 20)
    ):
        raise ApplicationError(
            _("A JT/T 808 terminal id is its phone number: 12 digits (2013) or 20 (2019)."),
            field="terminal_id",
        )
    if protocol == Terminal.Protocol.MQTT and terminal_id != vehicle.vin:
        raise ApplicationError(_("An MQTT terminal id is the vehicle's VIN."), field="terminal_id")
    taken = Terminal.objects.select_for_update().filter(
        protocol=protocol, terminal_id=terminal_id, active=True
    )
    if taken.exists():
        raise ApplicationError(
            _("This terminal id is already registered; deactivate it first."),
            field="terminal_id",
        )
    code, digest = _new_code()
    terminal = model_create(
        instance=Terminal(
            vehicle=vehicle,
            protocol=protocol,
            terminal_id=terminal_id,
            auth_code_sha256=digest,
            registered_by=actor,
        ),
        actor=actor,
    )
    return terminal, code


@transaction.atomic
def terminal_issue_code(*, actor: User, terminal: Terminal) -> tuple[Terminal, str]:
    """A new auth code for an active terminal (the old one stops working), shown once."""
    require(actor, MANAGE_TERMINALS)
    terminal = Terminal.objects.select_for_update().get(pk=terminal.pk)
    if not terminal.active:
        raise ApplicationError(_("The terminal is deactivated."), field="active")
    code, digest = _new_code()
    Terminal.objects.filter(pk=terminal.pk).update(auth_code_sha256=digest, claimed_at=None)
    audit_record(actor=actor, obj=terminal, action="issue_code")
    terminal.refresh_from_db()
    return terminal, code


@transaction.atomic
def terminal_deactivate(*, actor: User, terminal: Terminal, reason: str = "") -> Terminal:
    """Refuse the terminal from now on (its fixes stay)."""
    require(actor, MANAGE_TERMINALS)
    terminal = Terminal.objects.select_for_update().get(pk=terminal.pk)
    if not terminal.active:
        return terminal
    return model_update(
        instance=terminal,
        data={"active": False, "deactivated_at": timezone.now()},
        actor=actor,
        action="deactivate",
        reason=reason,
    )


# --- the gateway's side: the system acts (actor None), driven by what terminals send ---


@dataclass(frozen=True, slots=True)
class TerminalRef:
    """What a connection needs to know of an authenticated terminal."""

    pk: int
    vehicle_pk: int
    protocol: str


class ClaimResult:
    """0x8100 results (JT/T 808's RegisterResult values)."""

    OK = 0
    TERMINAL_REGISTERED = 3
    NO_SUCH_TERMINAL = 4


def _names_vehicle(vehicle: Vehicle, plate_colour: int, plate: str) -> bool:
    """Whether a register message's vehicle identity is this vehicle (colour 0: a VIN)."""
    plate = plate.strip()
    if not plate:
        return True  # the terminal names no vehicle: the binding decides
    if plate_colour == 0:
        return normalise_vin(plate) == vehicle.vin
    return plate.upper() == vehicle.plate.upper()


@transaction.atomic
def terminal_claim(*, phone: str, plate_colour: int, plate: str) -> tuple[int, str | None]:
    """A JT/T 808 0x0100 register: (result, auth code for result 0)."""
    terminal = (
        Terminal.objects.select_for_update()
        .select_related("vehicle")
        .filter(protocol=Terminal.Protocol.JT808, terminal_id=phone, active=True)
        .first()
    )
    if terminal is None:
        return ClaimResult.NO_SUCH_TERMINAL, None
    if terminal.claimed_at is not None or not _names_vehicle(terminal.vehicle, plate_colour, plate):
        return ClaimResult.TERMINAL_REGISTERED, None
    code, digest = _new_code()
    Terminal.objects.filter(pk=terminal.pk).update(
        auth_code_sha256=digest, claimed_at=timezone.now()
    )
    audit_record(
        actor=None,
        obj=terminal,
        action="claim",
        reason=_("The terminal registered (JT/T 808 0x0100)."),
    )
    return ClaimResult.OK, code


def terminal_authenticate(*, protocol: str, terminal_id: str, code: str) -> TerminalRef | None:
    """The active terminal whose auth code this is, or None (unknown, inactive or wrong)."""
    terminal = Terminal.objects.filter(
        protocol=protocol, terminal_id=terminal_id, active=True
    ).first()
    if terminal is None or not hmac.compare_digest(terminal.auth_code_sha256, _hash(code)):
        return None
    return TerminalRef(terminal.pk, terminal.vehicle_id, terminal.protocol)


@transaction.atomic
def terminal_release(*, terminal_pk: int) -> None:
    """A JT/T 808 0x0003 deregister: the device may claim a code again with 0x0100."""
    terminal = Terminal.objects.select_for_update().get(pk=terminal_pk)
    if terminal.claimed_at is not None:
        Terminal.objects.filter(pk=terminal_pk).update(claimed_at=None)
        audit_record(
            actor=None,
            obj=terminal,
            action="release",
            reason=_("The terminal deregistered (JT/T 808 0x0003)."),
        )


@dataclass(frozen=True, slots=True)
class FixRow:
    """One fix to store (the gateway's and the ingest's common shape)."""

    terminal_pk: int
    vehicle_pk: int
    t: datetime
    received_at: datetime
    lat: float
    lon: float
    autonomous: bool
    speed_kmh: float | None = None
    hdop: float | None = None
    satellites: int | None = None
    odometer_m: float | None = None
    backfill: bool = False


_COLUMNS = (
    "terminal_id, vehicle_id, t, received_at, lat, lon, autonomous, speed_kmh, hdop, "
    "satellites, odometer_m, backfill"
)
# PostgreSQL: each batch is COPYed into this session's staging table, then moved with one
# INSERT ... SELECT ... ON CONFLICT DO NOTHING (COPY alone cannot skip duplicates). COPY
# sends the rows in one stream, with no SQL text to build per row. The rows leave the
# staging table when the transaction commits.
_STAGING = "telemetry_fix_staging"
_STAGING_DDL = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} ("
    "terminal_id bigint, vehicle_id bigint, t timestamptz, received_at timestamptz, "
    "lat double precision, lon double precision, autonomous boolean, "
    "speed_kmh double precision, hdop double precision, satellites smallint, "
    "odometer_m double precision, backfill boolean) ON COMMIT DELETE ROWS"
)


_Values = tuple[
    int, int, datetime, datetime, float, float, bool,
    float | None, float | None, int | None, float | None, bool,
]  # fmt: skip


def _values(r: FixRow) -> _Values:
    return (
        r.terminal_pk,
        r.vehicle_pk,
        r.t,
        r.received_at,
        r.lat,
        r.lon,
        r.autonomous,
        r.speed_kmh,
        r.hdop,
        r.satellites,
        r.odometer_m,
        r.backfill,
    )


def fixes_store(*, rows: Sequence[FixRow], anchors: heads.Anchors | None = None) -> int:
    """Insert fixes, ignoring any already stored for the same terminal and fix time.

    One transaction per batch: on PostgreSQL a COPY into the staging table and one INSERT
    ... SELECT (the partitioned table routes each row to its day); on SQLite an
    executemany of INSERT OR IGNORE. The batch's terminals' stream heads advance in the
    same transaction (`_heads_advance`), with `anchors` the caller's memory of where each
    terminal was (the writer's; a one-off call finds pairs within its rows only). Returns
    the rows given; what was new is not counted (a duplicate is not an error).
    """
    if not rows:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_STAGING_DDL)
            with cursor.copy(f"COPY {_STAGING} ({_COLUMNS}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(_values(r))
            cursor.execute(
                f"INSERT INTO telemetry_fix ({_COLUMNS}) "  # noqa: S608 - constant names
                f"SELECT {_COLUMNS} FROM {_STAGING} ON CONFLICT (terminal_id, t) DO NOTHING"
            )
        else:
            cursor.executemany(
                f"INSERT OR IGNORE INTO telemetry_fix ({_COLUMNS}) VALUES "  # noqa: S608
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [_values(r) for r in rows],
            )
        _heads_advance(cursor, rows, anchors)
    return len(rows)


# The stream heads of a batch's terminals (what the closing sweep reads instead of the
# fixes; docs/telemetry.md), from `b`, one row per terminal of the batch: its fixes'
# earliest and latest time and latest receipt, and a new `moved_at` or NULL
# (telemetry.heads). A batch with a fix at or before the newest already stored, or at or
# before the vehicle's `closed_until` as it stands (read, not locked: the sweep holds a
# stream's lock while it verifies a trip), may hold a late fix: its latest receipt goes
# to `late_received_at`. Every SET reads the row as it was; nothing goes backwards.
_HEADS_UPDATE = """
UPDATE telemetry_terminal SET
    late_received_at = CASE
        WHEN (b.min_t <= telemetry_terminal.last_fix_at
              OR b.min_t <= (SELECT s.closed_until FROM telemetry_stream s
                             WHERE s.vehicle_id = telemetry_terminal.vehicle_id))
             AND (telemetry_terminal.late_received_at IS NULL
                  OR b.max_received > telemetry_terminal.late_received_at)
        THEN b.max_received ELSE telemetry_terminal.late_received_at END,
    last_fix_at = CASE
        WHEN telemetry_terminal.last_fix_at IS NULL OR b.max_t > telemetry_terminal.last_fix_at
        THEN b.max_t ELSE telemetry_terminal.last_fix_at END,
    last_received_at = CASE
        WHEN telemetry_terminal.last_received_at IS NULL
             OR b.max_received > telemetry_terminal.last_received_at
        THEN b.max_received ELSE telemetry_terminal.last_received_at END,
    moved_at = CASE
        WHEN b.moved_at IS NOT NULL
             AND (telemetry_terminal.moved_at IS NULL OR b.moved_at > telemetry_terminal.moved_at)
        THEN b.moved_at ELSE telemetry_terminal.moved_at END
FROM {source} AS b
WHERE telemetry_terminal.id = b.terminal_id
"""
# PostgreSQL: from the staging table, in SQL (no value of the batch goes through Python
# again), the terminals locked first in id order so two writers of the same terminals
# (two MQTT ingests) never deadlock; the few new `moved_at` as two arrays.
_HEADS_LOCK_PG = """
SELECT 1 FROM telemetry_terminal WHERE id IN (SELECT terminal_id FROM telemetry_fix_staging)
ORDER BY id FOR UPDATE
"""
_HEADS_SOURCE_PG = """(
SELECT st.terminal_id, MIN(st.t) AS min_t, MAX(st.t) AS max_t,
       MAX(st.received_at) AS max_received, MAX(m.moved_at) AS moved_at
FROM telemetry_fix_staging st
LEFT JOIN unnest(%s::bigint[], %s::timestamptz[]) AS m(terminal_id, moved_at)
       ON m.terminal_id = st.terminal_id
GROUP BY st.terminal_id)"""
# SQLite (one writer at a time): one row per terminal, aggregated here.
_HEADS_SOURCE_SQLITE = (
    "(SELECT %s AS terminal_id, %s AS min_t, %s AS max_t, %s AS max_received, %s AS moved_at)"
)


def _heads_advance(
    cursor: CursorWrapper, rows: Sequence[FixRow], anchors: heads.Anchors | None
) -> None:
    """Advance the stream heads of the batch's terminals: one statement per batch on
    PostgreSQL. A fix given twice counts as received again (at most one closer look by
    the sweep, never a missed one)."""
    if anchors is None:  # a one-off store (tests, benches): pairs within the rows given
        anchors = heads.Anchors(far_m=moved_far_m())
    moved = anchors.moved((r.terminal_pk, r.lat, r.lon, r.t) for r in rows)
    if connection.vendor == "postgresql":
        cursor.execute(_HEADS_LOCK_PG)
        cursor.execute(
            _HEADS_UPDATE.format(source=_HEADS_SOURCE_PG), [list(moved), list(moved.values())]
        )
        return
    spans: dict[int, tuple[datetime, datetime, datetime]] = {}
    for r in rows:
        span = spans.get(r.terminal_pk)
        if span is None:
            spans[r.terminal_pk] = (r.t, r.t, r.received_at)
        else:
            spans[r.terminal_pk] = (
                min(span[0], r.t),
                max(span[1], r.t),
                max(span[2], r.received_at),
            )
    adapt = connection.ops.adapt_datetimefield_value
    cursor.executemany(
        _HEADS_UPDATE.format(source=_HEADS_SOURCE_SQLITE),
        [
            (pk, adapt(t0), adapt(t1), adapt(received), adapt(moved.get(pk)))
            for pk, (t0, t1, received) in spans.items()
        ],
    )


def moved_far_m() -> float:
    """How far apart two fixes prove a vehicle did not stand still (telemetry.heads)."""
    return 2 * float(settings.LIVE_STATIONARY_RADIUS_M) * heads.FAR_MARGIN


@transaction.atomic
def archive_write(*, terminal_pk: int, day: date, lines: Sequence[str]) -> RawArchive:
    """Keep raw frames or messages as received: one gzip file and its row, never changed."""
    data = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6, mtime=0)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = RawArchive.objects.filter(sha256=sha256).first()
    if existing is not None:  # the very same chunk written twice (a retried flush)
        return existing
    path = default_storage.save(
        f"telemetry/raw/{day:%Y/%m/%d}/{terminal_pk}-{sha256[:16]}.log.gz", ContentFile(data)
    )
    archive = RawArchive(
        terminal_id=terminal_pk,
        day=day,
        file=path,
        sha256=sha256,
        size=len(data),
        messages=len(lines),
    )
    archive.save()
    return archive


@transaction.atomic
def stream_advance(
    *, vehicle_pk: int, closed_until: datetime | None, checked_received_at: datetime | None
) -> Stream:
    """Record how far the closing sweep has got for a vehicle (never backwards)."""
    stream, _created = Stream.objects.select_for_update().get_or_create(vehicle_id=vehicle_pk)
    if closed_until is not None and (
        stream.closed_until is None or closed_until > stream.closed_until
    ):
        stream.closed_until = closed_until
    if checked_received_at is not None and (
        stream.checked_received_at is None or checked_received_at > stream.checked_received_at
    ):
        stream.checked_received_at = checked_received_at
    stream.save()
    return stream


# PostgreSQL: the pairs go in as two arrays (a statement with thousands of placeholders
# took psycopg longer to bind than PostgreSQL to run); a stream another sweep holds
# locked is skipped (SKIP LOCKED), to be looked at again next pass, so two sweeps never
# wait for each other's rows in different orders (a deadlock). SQLite has one writer.
_ADVANCE_PG = """
WITH v AS (SELECT * FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(vehicle_id, checked)),
free AS (SELECT s.vehicle_id FROM telemetry_stream s JOIN v ON v.vehicle_id = s.vehicle_id
         ORDER BY s.vehicle_id FOR UPDATE OF s SKIP LOCKED),
made AS (INSERT INTO telemetry_stream (vehicle_id, checked_received_at)
         SELECT vehicle_id, checked FROM v ON CONFLICT (vehicle_id) DO NOTHING)
UPDATE telemetry_stream t SET checked_received_at = v.checked FROM v, free
WHERE t.vehicle_id = v.vehicle_id AND free.vehicle_id = v.vehicle_id
  AND (t.checked_received_at IS NULL OR t.checked_received_at < v.checked)
"""


def streams_advance_checked(*, checked: Mapping[int, datetime]) -> None:
    """Advance many streams' `checked_received_at` (vehicle pk -> receipt time; never
    backwards) at once, making the streams not yet there: the closing sweep's write for
    every stream still open (one `stream_advance` each took a transaction per vehicle)."""
    if not checked:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_ADVANCE_PG, [list(checked), list(checked.values())])
            return
        adapt = connection.ops.adapt_datetimefield_value
        pairs = [(pk, adapt(at)) for pk, at in checked.items()]
        cursor.executemany(
            "INSERT OR IGNORE INTO telemetry_stream (vehicle_id, checked_received_at) "
            "VALUES (%s, %s)",
            pairs,
        )
        cursor.executemany(
            "UPDATE telemetry_stream SET checked_received_at = %s WHERE vehicle_id = %s "
            "AND (checked_received_at IS NULL OR checked_received_at < %s)",
            [(at, pk, at) for pk, at in pairs],
        )


def fixes_export_day(*, day: date, delete: bool) -> tuple[str, int, str]:
    """Write a UTC day's fixes to Parquet in storage; returns (path, rows, sha256).

    With `delete` the day then leaves the database: its partition is dropped on PostgreSQL
    (or its rows deleted from the default partition / SQLite's table). Export first, always:
    the file is written and read back before anything is deleted.
    """
    import io  # noqa: PLC0415 - the export is rare; pyarrow loads only here

    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    from .models import Fix  # noqa: PLC0415
    from .partitions import partition_name  # noqa: PLC0415

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    fixes = Fix.objects.filter(t__gte=start, t__lt=end).order_by("terminal_id", "t")
    columns = [
        "terminal_id", "vehicle_id", "t", "received_at", "lat", "lon", "autonomous",
        "speed_kmh", "hdop", "satellites", "odometer_m", "backfill",
    ]  # fmt: skip
    rows = list(fixes.values_list(*columns))
    table = pa.table({name: [row[i] for row in rows] for i, name in enumerate(columns)})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    path = f"telemetry/fixes/{day:%Y/%m/%d}-{sha256[:16]}.parquet"
    if not default_storage.exists(path):
        path = default_storage.save(path, ContentFile(data))
    with default_storage.open(path, "rb") as stored:
        if hashlib.sha256(stored.read()).hexdigest() != sha256:
            raise ApplicationError(_("The exported file does not match its hash."), field="day")
    if delete:
        with transaction.atomic(), connection.cursor() as cursor:
            name = partition_name(day)
            if connection.vendor == "postgresql":
                cursor.execute("SELECT to_regclass(%s)", [name])
                row = cursor.fetchone()
                if row is not None and row[0] is not None:
                    cursor.execute(f"DROP TABLE {name}")
            fixes.delete()
    return path, len(rows), sha256
