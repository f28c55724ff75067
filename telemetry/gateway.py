"""The JT/T 808 gateway: asyncio TCP server, one process (docs/telemetry.md).

Per connection: a FrameReader (checksum enforced, 8 KiB per frame) and a Reassembler for
sub-packages. What a terminal sends and what it gets:

- a frame with a bad check code, escape or length: nothing (discarded and counted; the
  connection goes on);
- 0x0100 register: 0x8100 with 0 and a fresh auth code (a bound, unclaimed terminal), 3
  (already claimed, or another vehicle named), 4 (unknown or deactivated);
- 0x0102 authenticate: 0x8001 with 0 (the code of an active terminal) or 1;
- 0x0002 heartbeat, 0x0001 terminal response: 0x8001 with 0;
- 0x0200 location, 0x0704 batch: 0x8001 with 0 once stored, 1 before authentication
  (dropped), 2 when undecodable;
- 0x0003 deregister: 0x8001 with 0, and the connection is no longer authenticated;
- anything else: 0x8001 with 3 (unsupported).

Database work never runs on the event loop: lookups go to a thread (`asyncio.to_thread`)
and fixes to the FixWriter's thread, whose callback queues the acknowledgement once stored;
the loop sends what is queued in one wake-up per batch, not one per fix.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from telemetry.jt808 import (
    Authenticate,
    Deregister,
    Header,
    Heartbeat,
    Jt808Error,
    Location,
    LocationBatch,
    Message,
    Packet,
    Reassembler,
    Register,
    RegisterResponse,
    ResponseResult,
    TerminalResponse,
    decode_message,
    general_response,
    reply,
)
from telemetry.jt808.framing import FrameReader

from . import services
from .models import Terminal
from .services import FixRow, TerminalRef
from .writer import FixWriter, RawLine

logger = logging.getLogger(__name__)


@dataclass
class GatewayStats:
    connections: int = 0
    frames: int = 0
    fixes: int = 0
    bad_frames: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)


def fix_row(
    terminal: TerminalRef, location: Location, received: datetime, backfill: bool
) -> FixRow:
    return FixRow(
        terminal_pk=terminal.pk,
        vehicle_pk=terminal.vehicle_pk,
        t=location.time,
        received_at=received,
        lat=location.lat,
        lon=location.lon,
        autonomous=location.autonomous,
        speed_kmh=location.speed_kmh,
        satellites=location.satellites,
        odometer_m=None if location.odometer_m is None else float(location.odometer_m),
        backfill=backfill,
    )


def _storable(location: Location) -> bool:
    return (
        location.positioned
        and abs(location.lat_e6) <= 90_000_000
        and abs(location.lon_e6) <= 180_000_000
    )


class _Connection(asyncio.Protocol):
    """One terminal connection. Frames are handled as they arrive, in `data_received`,
    except those that need the database (register, authenticate, deregister): these, and
    whatever arrives behind them, wait in the backlog for a task that works through it in
    order, so a location sent right after its authentication is still handled after it."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.transport: asyncio.Transport | None = None
        self.frames = FrameReader()
        self.parts = Reassembler()
        self.terminals: dict[str, TerminalRef] = {}  # phone -> authenticated terminal
        self.serial = 0
        self.loop = asyncio.get_running_loop()
        self.last_seen = self.loop.time()
        # (the packet that arrived, its whole message's packet, the message, received at)
        self.backlog: deque[tuple[Packet, Packet, Message, datetime]] = deque()
        self.lookups: asyncio.Task[None] | None = None
        self.peer = "?"
        # Locations before authentication are logged once a connection (a terminal that
        # never authenticates would otherwise write a line a second); all are counted.
        self.logged_unauthenticated = False

    def _next_serial(self) -> int:
        self.serial = (self.serial + 1) & 0xFFFF
        return self.serial

    def send(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def answer(self, header: Header, result: int) -> None:
        self.send(general_response(header, result, serial=self._next_serial()))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - a TCP server's
        self.transport = transport
        peer = transport.get_extra_info("peername")
        # host:port, named in every refusal logged for this connection
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.gateway.connections.add(self)
        self.gateway.stats.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.gateway.connections.discard(self)
        self.transport = None
        if self.lookups is not None:
            self.lookups.cancel()

    # A terminal that reads no answers must not fill our memory: stop reading it meanwhile.
    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        self.last_seen = self.loop.time()
        received = datetime.now(UTC)
        stats = self.gateway.stats
        try:
            for item in self.frames.feed(data):
                if isinstance(item, Jt808Error):
                    stats.bad_frames[item.reason] += 1
                    logger.info("Frame from %s discarded: %s (%s)", self.peer, item.reason, item)
                    continue
                stats.frames += 1
                decoded = self.decode(item)
                if decoded is None:
                    continue
                whole, message = decoded
                if self.lookups is not None or isinstance(message, _LOOKUPS):
                    self.backlog.append((item, whole, message, received))
                    if self.lookups is None:
                        self.lookups = self.loop.create_task(self.work_through_backlog())
                else:
                    self.handle(item, whole, message, received)
        except Exception:
            logger.exception("Connection failed")
            if self.transport is not None:
                self.transport.close()

    def decode(self, packet: Packet) -> tuple[Packet, Message] | None:
        """The whole message of a packet, or None once answered (a sub-package, an error)."""
        header = packet.header
        whole = packet
        if header.package_count is not None:
            try:
                whole_or_none = self.parts.add(packet)
            except Jt808Error:
                self.answer(header, ResponseResult.MESSAGE_ERROR)
                return None
            if whole_or_none is None:  # a sub-package: acknowledged, not whole yet
                self.answer(header, ResponseResult.SUCCESS)
                return None
            whole = whole_or_none
        try:
            return whole, decode_message(whole, mode_extra_id=self.gateway.mode_extra_id)
        except Jt808Error as error:
            self.gateway.stats.bad_frames[error.reason] += 1
            logger.info(
                "Message 0x%04x of %s from %s refused (2): %s",
                header.msg_id,
                header.phone,
                self.peer,
                error,
            )
            self.answer(header, ResponseResult.MESSAGE_ERROR)
            return None

    async def work_through_backlog(self) -> None:
        try:
            while self.backlog:
                packet, whole, message, received = self.backlog.popleft()
                if isinstance(message, _LOOKUPS):
                    await self.look_up(packet, whole, message, received)
                else:
                    self.handle(packet, whole, message, received)
        except Exception:
            logger.exception("Connection failed")
            if self.transport is not None:
                self.transport.close()
        finally:
            self.lookups = None

    def raw_line(self, whole: Packet, terminal: TerminalRef, received: datetime) -> RawLine:
        return (terminal.pk, received, f"{whole.header.msg_id:04x} {whole.body.hex()}")

    async def look_up(
        self,
        packet: Packet,
        whole: Packet,
        message: Register | Authenticate | Deregister,
        received: datetime,
    ) -> None:
        header = packet.header  # answered as the package that completed the message
        terminal = self.terminals.get(header.phone)
        if terminal is not None:  # archived as the terminal that was authenticated
            self.gateway.fix_writer.put((), [self.raw_line(whole, terminal, received)])
        match message:
            case Register():
                result, code = await asyncio.to_thread(
                    self.gateway.claim, header.phone, message.plate_colour, message.plate
                )
                if result != services.ClaimResult.OK:
                    self.gateway.stats.refused[f"register_{result}"] += 1
                    logger.warning(
                        "Registration of %s from %s refused (%s): %s",
                        header.phone,
                        self.peer,
                        result,
                        _REGISTER_REFUSALS.get(result, "refused"),
                    )
                self.send(
                    reply(
                        header,
                        RegisterResponse(header.serial, result, code),
                        serial=self._next_serial(),
                    )
                )
            case Authenticate():
                ref = await asyncio.to_thread(
                    self.gateway.authenticate, header.phone, message.auth_code
                )
                if ref is None:
                    self.gateway.stats.refused["auth"] += 1
                    logger.warning(
                        "Authentication of %s from %s refused: no active terminal with that code",
                        header.phone,
                        self.peer,
                    )
                    self.terminals.pop(header.phone, None)
                    self.answer(header, ResponseResult.FAILURE)
                else:
                    self.terminals[header.phone] = ref
                    self.answer(header, ResponseResult.SUCCESS)
            case Deregister():
                if terminal is not None:
                    await asyncio.to_thread(self.gateway.release, terminal.pk)
                    self.terminals.pop(header.phone, None)
                self.answer(header, ResponseResult.SUCCESS)

    def handle(self, packet: Packet, whole: Packet, message: Message, received: datetime) -> None:
        """Everything but the lookups: answered at once, or once stored (locations), as the
        package that completed the message."""
        header = packet.header
        terminal = self.terminals.get(header.phone)
        if isinstance(message, Location | LocationBatch):
            self.locations(packet, whole, message, terminal, received)
            return
        if terminal is not None:
            self.gateway.fix_writer.put((), [self.raw_line(whole, terminal, received)])
        if isinstance(message, Heartbeat | TerminalResponse):
            self.answer(header, ResponseResult.SUCCESS)
        else:
            self.answer(header, ResponseResult.UNSUPPORTED)

    def locations(
        self,
        packet: Packet,
        whole: Packet,
        message: Location | LocationBatch,
        terminal: TerminalRef | None,
        received: datetime,
    ) -> None:
        header = packet.header
        if terminal is None:
            self.gateway.stats.refused["not_authenticated"] += 1
            if not self.logged_unauthenticated:
                self.logged_unauthenticated = True
                logger.warning(
                    "Locations of %s from %s refused (1): not authenticated on this connection",
                    header.phone,
                    self.peer,
                )
            self.answer(header, ResponseResult.FAILURE)
            return
        if isinstance(message, Location):
            locations: tuple[Location, ...] = (message,)
            backfill = False
        else:
            locations = message.locations
            backfill = message.batch_type == 1
        rows = [fix_row(terminal, loc, received, backfill) for loc in locations if _storable(loc)]
        self.gateway.stats.fixes += len(rows)
        ack = general_response(header, ResponseResult.SUCCESS, serial=self._next_serial())
        self.gateway.fix_writer.put(
            rows,
            [self.raw_line(whole, terminal, received)],
            functools.partial(self.gateway.ack, self, ack),
        )


_REGISTER_REFUSALS = {
    services.ClaimResult.TERMINAL_REGISTERED: "claimed already, or it names another vehicle",
    services.ClaimResult.NO_SUCH_TERMINAL: "no active terminal with that phone number",
}
_LOOKUPS = (Register, Authenticate, Deregister)  # the messages that wait for the database
# asyncio's default listen backlog is 100: a fleet reconnecting at once (after a gateway
# restart or a network cut) overflowed it and its connections were refused. The kernel
# caps it at net.core.somaxconn (4096 on current Linux; docs/operations.md).
LISTEN_BACKLOG = 4096


class Gateway:
    """Serves JT/T 808 terminals; `claim`, `authenticate` and `release` run in threads."""

    def __init__(
        self,
        *,
        fix_writer: FixWriter,
        mode_extra_id: int | None,
        idle_timeout_s: float,
    ) -> None:
        self.fix_writer = fix_writer
        self.mode_extra_id = mode_extra_id
        self.idle_timeout_s = idle_timeout_s
        self.stats = GatewayStats()
        self._acks: deque[tuple[_Connection, bytes]] = deque()
        self._acks_due = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle_sweeper: asyncio.Task[None] | None = None
        self.connections: set[_Connection] = set()
        self.claim: Callable[[str, int, str], tuple[int, str | None]] = (
            lambda phone, colour, plate: services.terminal_claim(
                phone=phone, plate_colour=colour, plate=plate
            )
        )
        self.authenticate: Callable[[str, str], TerminalRef | None] = lambda phone, code: (
            services.terminal_authenticate(
                protocol=Terminal.Protocol.JT808, terminal_id=phone, code=code
            )
        )
        self.release: Callable[[int], None] = lambda pk: services.terminal_release(terminal_pk=pk)

    def ack(self, connection: _Connection, data: bytes) -> None:
        """Queue an acknowledgement (from the writer's thread) and wake the loop once to
        send all that are queued. The flag is cleared before the queue is emptied, so an
        acknowledgement queued meanwhile is sent by this wake-up or schedules the next."""
        self._acks.append((connection, data))
        if not self._acks_due and self._loop is not None:
            self._acks_due = True
            self._loop.call_soon_threadsafe(self._send_acks)

    def _send_acks(self) -> None:
        self._acks_due = False
        acks = self._acks
        while acks:
            connection, data = acks.popleft()
            connection.send(data)

    def close(self) -> None:
        """Send the acknowledgements still queued and close every connection."""
        if self._idle_sweeper is not None:
            self._idle_sweeper.cancel()
        self._send_acks()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()

    async def serve(self, host: str, port: int) -> asyncio.Server:
        self._loop = asyncio.get_running_loop()
        self._idle_sweeper = self._loop.create_task(self._close_idle())
        return await self._loop.create_server(
            lambda: _Connection(self), host, port, backlog=LISTEN_BACKLOG
        )

    async def _close_idle(self) -> None:
        """Close connections silent for `idle_timeout_s` (checked a few times per timeout:
        one sweep for all, not a timer per connection reset at every read)."""
        assert self._loop is not None  # noqa: S101 - set by serve
        while True:
            await asyncio.sleep(min(self.idle_timeout_s / 4, 15.0))
            limit = self._loop.time() - self.idle_timeout_s
            for connection in [c for c in self.connections if c.last_seen < limit]:
                self.stats.refused["idle_timeout"] += 1
                if connection.transport is not None:
                    connection.transport.close()
