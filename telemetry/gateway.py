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
import contextlib
import functools
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from telemetry.jt808 import (
    Authenticate,
    Deregister,
    Heartbeat,
    Jt808Error,
    Location,
    LocationBatch,
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


class _Connection:
    def __init__(
        self,
        gateway: Gateway,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.gateway = gateway
        self.reader = reader
        self.writer = writer
        self.frames = FrameReader()
        self.parts = Reassembler()
        self.terminals: dict[str, TerminalRef] = {}  # phone -> authenticated terminal
        self.serial = 0
        self.loop = asyncio.get_running_loop()

    def _next_serial(self) -> int:
        self.serial = (self.serial + 1) & 0xFFFF
        return self.serial

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    async def run(self) -> None:
        timeout = self.gateway.idle_timeout_s
        try:
            # One deadline for the connection, moved on at each read (cheaper than a
            # wait_for, which makes a task per read).
            async with asyncio.timeout(timeout) as idle:
                while True:
                    data = await self.reader.read(65536)
                    if not data:
                        return
                    idle.reschedule(self.loop.time() + timeout)
                    await self.received(data)
        except TimeoutError:
            self.gateway.stats.refused["idle_timeout"] += 1

    async def received(self, data: bytes) -> None:
        received = datetime.now(UTC)
        raw: list[RawLine] = []
        for item in self.frames.feed(data):
            if isinstance(item, Jt808Error):
                self.gateway.stats.bad_frames[item.reason] += 1
                logger.info("Frame discarded: %s (%s)", item.reason, item)
                continue
            self.gateway.stats.frames += 1
            await self.packet(item, received, raw)
        await self.writer.drain()

    async def packet(  # noqa: PLR0912 - one branch per message kind, as the table above
        self, packet: Packet, received: datetime, raw: list[RawLine]
    ) -> None:
        header = packet.header
        whole = packet
        if header.package_count is not None:
            try:
                whole_or_none = self.parts.add(packet)
            except Jt808Error:
                self.send(
                    general_response(
                        header, ResponseResult.MESSAGE_ERROR, serial=self._next_serial()
                    )
                )
                return
            if whole_or_none is None:  # a sub-package: acknowledged, the message is not whole yet
                self.send(
                    general_response(header, ResponseResult.SUCCESS, serial=self._next_serial())
                )
                return
            whole = whole_or_none
        try:
            message = decode_message(whole, mode_extra_id=self.gateway.mode_extra_id)
        except Jt808Error as error:
            self.gateway.stats.bad_frames[error.reason] += 1
            self.send(
                general_response(header, ResponseResult.MESSAGE_ERROR, serial=self._next_serial())
            )
            return
        terminal = self.terminals.get(header.phone)
        if terminal is not None:
            raw.append(
                (
                    terminal.pk,
                    received,
                    f"{whole.header.msg_id:04x} {whole.body.hex()}",
                )
            )
        match message:
            case Register():
                result, code = await asyncio.to_thread(
                    self.gateway.claim, header.phone, message.plate_colour, message.plate
                )
                if result != services.ClaimResult.OK:
                    self.gateway.stats.refused[f"register_{result}"] += 1
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
                    self.terminals.pop(header.phone, None)
                    result = ResponseResult.FAILURE
                else:
                    self.terminals[header.phone] = ref
                    result = ResponseResult.SUCCESS
                self.send(general_response(header, result, serial=self._next_serial()))
            case Location() | LocationBatch():
                self.locations(packet, message, terminal, received, raw)
                raw.clear()
            case Heartbeat() | TerminalResponse():
                self.send(
                    general_response(header, ResponseResult.SUCCESS, serial=self._next_serial())
                )
            case Deregister():
                if terminal is not None:
                    await asyncio.to_thread(self.gateway.release, terminal.pk)
                    self.terminals.pop(header.phone, None)
                self.send(
                    general_response(header, ResponseResult.SUCCESS, serial=self._next_serial())
                )
            case _:
                self.send(
                    general_response(header, ResponseResult.UNSUPPORTED, serial=self._next_serial())
                )
        if raw and not isinstance(message, (Location, LocationBatch)):
            self.gateway.fix_writer.put((), list(raw))
            raw.clear()

    def locations(
        self,
        packet: Packet,
        message: Location | LocationBatch,
        terminal: TerminalRef | None,
        received: datetime,
        raw: list[RawLine],
    ) -> None:
        header = packet.header
        if terminal is None:
            self.gateway.stats.refused["not_authenticated"] += 1
            self.send(general_response(header, ResponseResult.FAILURE, serial=self._next_serial()))
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
        self.gateway.fix_writer.put(rows, list(raw), functools.partial(self.gateway.ack, self, ack))


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

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        connection = _Connection(self, reader, writer)
        try:
            await connection.run()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            logger.exception("Connection failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def serve(self, host: str, port: int) -> asyncio.Server:
        self._loop = asyncio.get_running_loop()
        return await asyncio.start_server(self.handle, host, port, limit=1 << 16)
