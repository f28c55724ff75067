"""The fix writer: one thread that batches fixes and raw messages into the database, so the
gateway's event loop and the MQTT network thread never wait on it.

Producers call `put(rows, raw, on_stored)` from any thread. The thread stores a batch when it
holds `batch_fixes` fixes or its oldest is `batch_s` old, then calls each batch's
`on_stored` callbacks (the acknowledgements: a fix is acknowledged only once stored). Raw
lines are kept per terminal and local day and written as a gzip archive at
`archive_messages` lines or `archive_s` seconds, and on stop. Archives fall due together
(every terminal's first line comes in the same second), so each pass writes them for at
most `ARCHIVE_PASS_S` and leaves the rest to the next: thousands of archive files at once
never hold fixes back for more than that. A batch that fails (the database is away) is
retried until it is stored or the writer is stopped; nothing is acknowledged meanwhile, so
the sender sends it again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import DatabaseError, connection

from . import heads, services
from .services import FixRow

logger = logging.getLogger(__name__)

# Terminal pk, received at, what was received; the archive line is its time, a space, that.
RawLine = tuple[int, datetime, str]
Callback = Callable[[], None]
ARCHIVE_PASS_S = 0.05  # the longest one pass spends writing archives that are due


@dataclass
class WriterStats:
    fixes_stored: int = 0
    batches: int = 0
    failures: int = 0
    archives: int = 0
    # Receipt-to-stored latency of every fix stored, in whole milliseconds -> fixes: the
    # same small memory however long the process runs.
    latency_ms: Counter[int] = field(default_factory=Counter)

    def percentile(self, q: float) -> float:
        """The receipt-to-stored latency (seconds) that a share `q` of fixes did not exceed."""
        total = self.latency_ms.total()
        if not total:
            return 0.0
        rank = min(total, max(1, round(q * total)))
        seen = 0
        for ms in sorted(self.latency_ms):
            seen += self.latency_ms[ms]
            if seen >= rank:
                return ms / 1000
        raise AssertionError  # unreachable: the counts add up to total

    def summary(self) -> str:
        return (
            f"{self.fixes_stored} fixes stored in {self.batches} batches, receipt to stored "
            f"p50 {self.percentile(0.5):.3f} s, p99 {self.percentile(0.99):.3f} s, "
            f"max {self.percentile(1.0):.3f} s; {self.archives} raw archives"
        )


@dataclass
class _Item:
    rows: Sequence[FixRow]
    raw: Sequence[RawLine]
    on_stored: Callback | None


_TICK = _Item((), (), None)  # "no item within the wait": time to flush what is pending


class FixWriter:
    def __init__(
        self,
        *,
        batch_fixes: int = 2000,
        batch_s: float = 0.1,
        archive_messages: int = 20_000,
        archive_s: float = 300.0,
        store: Callable[[Sequence[FixRow]], object] | None = None,
    ) -> None:
        self.batch_fixes = batch_fixes
        self.batch_s = batch_s
        self.archive_messages = archive_messages
        self.archive_s = archive_s
        self.stats = WriterStats()
        # This process's anchors: when each terminal last moved (telemetry.heads).
        anchors = heads.Anchors(far_m=services.moved_far_m())
        self._store = store or (lambda rows: services.fixes_store(rows=rows, anchors=anchors))
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)  # archives are per local day
        self._raw: dict[tuple[int, date], list[str]] = defaultdict(list)
        # When each open archive got its first line, oldest first (dicts keep that order).
        self._raw_since: dict[tuple[int, date], float] = {}
        self._thread = threading.Thread(target=self._run, name="fix-writer", daemon=True)
        self._stopping = threading.Event()

    def start(self) -> FixWriter:
        self._thread.start()
        return self

    def put(
        self,
        rows: Sequence[FixRow],
        raw: Sequence[RawLine] = (),
        on_stored: Callback | None = None,
    ) -> None:
        self._queue.put(_Item(rows, raw, on_stored))

    def stop(self, timeout: float | None = None) -> None:
        """Store what is queued, write every open archive, end the thread. It waits for
        all of that (a fleet's archives take a while): with the database away, each batch
        left is tried once and left unacknowledged, so stopping never hangs on it."""
        self._stopping.set()
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            connection.close()

    def _loop(self) -> None:
        pending: list[_Item] = []
        count = 0
        started = 0.0
        while True:
            wait = self.batch_s
            if pending:
                wait = max(0.0, started + self.batch_s - time.monotonic())
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                item = _TICK
            if item is None:
                break
            if item is not _TICK:
                if not pending:
                    started = time.monotonic()
                pending.append(item)
                count += len(item.rows)
                if count < self.batch_fixes:
                    continue
            if pending:
                self._flush(pending)
                pending, count = [], 0
            self._archive(force=False)
        if pending:
            self._flush(pending)
        self._archive(force=True)

    def _flush(self, items: list[_Item]) -> None:
        rows = [row for item in items for row in item.rows]
        while True:
            # The thread keeps its connection (and its session's COPY staging table) from
            # batch to batch: `close_old_connections` with CONN_MAX_AGE 0 reconnected for
            # every batch, ten times a second. A failure closes it (below), so a database
            # restarted is reconnected to on the retry.
            try:
                self._store(rows)
                break
            except DatabaseError:
                self.stats.failures += 1
                connection.close()
                if self._stopping.is_set():
                    logger.exception("Stopping: %d fixes not stored nor acknowledged.", len(rows))
                    return
                logger.exception("Storing %d fixes failed; retrying.", len(rows))
                time.sleep(1.0)
        now = datetime.now(UTC)
        self.stats.fixes_stored += len(rows)
        self.stats.batches += 1
        self.stats.latency_ms.update(
            int((now - row.received_at).total_seconds() * 1000) for row in rows
        )
        for item in items:  # acknowledge first: the raw lines can wait
            if item.on_stored is not None:
                try:
                    item.on_stored()
                except Exception:  # a closed connection must not stop the writer
                    logger.debug("An acknowledgement could not be sent.", exc_info=True)
        opened = time.monotonic()
        for item in items:
            for terminal_pk, received_at, what in item.raw:
                key = (terminal_pk, received_at.astimezone(self._zone).date())
                if key not in self._raw_since:
                    self._raw_since[key] = opened
                self._raw[key].append(f"{received_at.isoformat()} {what}")

    def _archive(self, *, force: bool) -> None:
        now = time.monotonic()
        until = now + ARCHIVE_PASS_S
        for key, since in list(self._raw_since.items()):
            lines = self._raw[key]
            due = now - since >= self.archive_s
            if not force and time.monotonic() > until:
                return
            if force or due or len(lines) >= self.archive_messages:
                try:
                    services.archive_write(terminal_pk=key[0], day=key[1], lines=lines)
                except DatabaseError:
                    logger.exception("Raw archive of terminal %s not written; kept.", key[0])
                    connection.close()
                    continue
                self.stats.archives += 1
                del self._raw[key]
                del self._raw_since[key]
