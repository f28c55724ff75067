"""The fix writer: one thread that batches fixes and raw messages into the database, so the
gateway's event loop and the MQTT network thread never wait on it.

Producers call `put(rows, raw, on_stored)` from any thread. The thread stores a batch when it
holds `batch_fixes` fixes or its oldest is `batch_s` old, then calls each batch's
`on_stored` callbacks (the acknowledgements: a fix is acknowledged only once stored). Raw
lines are kept per terminal and local day and written as a gzip archive at
`archive_messages` lines or `archive_s` seconds, and on stop. A batch that fails (the
database is away) is retried until it is stored or the writer is stopped; nothing is
acknowledged meanwhile, so the sender sends it again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from . import services
from .services import FixRow

logger = logging.getLogger(__name__)

RawLine = tuple[int, datetime, str]  # terminal pk, received at, the line
Callback = Callable[[], None]


@dataclass
class WriterStats:
    fixes_stored: int = 0
    batches: int = 0
    failures: int = 0
    archives: int = 0
    # Receipt-to-stored latencies (seconds) of the last `max_latencies` fixes.
    latencies: list[float] = field(default_factory=list)
    max_latencies: int = 200_000

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
        batch_s: float = 0.2,
        archive_messages: int = 20_000,
        archive_s: float = 300.0,
        store: Callable[[Sequence[FixRow]], object] | None = None,
    ) -> None:
        self.batch_fixes = batch_fixes
        self.batch_s = batch_s
        self.archive_messages = archive_messages
        self.archive_s = archive_s
        self.stats = WriterStats()
        self._store = store or (lambda rows: services.fixes_store(rows=rows))
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._raw: dict[tuple[int, date], list[str]] = defaultdict(list)
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

    def stop(self, timeout: float = 30.0) -> None:
        """Store what is queued, write every open archive, end the thread."""
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
            try:
                close_old_connections()
                self._store(rows)
                break
            except DatabaseError:
                self.stats.failures += 1
                logger.exception("Storing %d fixes failed; retrying.", len(rows))
                connection.close()
                time.sleep(1.0)
        now = timezone.now()
        self.stats.fixes_stored += len(rows)
        self.stats.batches += 1
        latencies = self.stats.latencies
        if len(latencies) < self.stats.max_latencies:
            latencies.extend((now - row.received_at).total_seconds() for row in rows)
        for item in items:
            for terminal_pk, received_at, line in item.raw:
                key = (terminal_pk, timezone.localdate(received_at))
                if key not in self._raw_since:
                    self._raw_since[key] = time.monotonic()
                self._raw[key].append(line)
            if item.on_stored is not None:
                try:
                    item.on_stored()
                except Exception:  # a closed connection must not stop the writer
                    logger.debug("An acknowledgement could not be sent.", exc_info=True)

    def _archive(self, *, force: bool) -> None:
        now = time.monotonic()
        for key in list(self._raw):
            lines = self._raw[key]
            due = now - self._raw_since[key] >= self.archive_s
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
