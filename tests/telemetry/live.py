"""Helpers for the live-telemetry tests: a real gateway on a free port in a thread, a
JT/T 808 terminal over a real socket, and drives to send."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from telemetry.gateway import Gateway
from telemetry.jt808 import (
    Authenticate,
    FrameReader,
    Jt808Error,
    Location,
    Message,
    Packet,
    Register,
    decode_message,
    encode_message,
)
from telemetry.runner import serve_jt808
from tests.telemetry.frames import FIX
from tests.trips.csvtrace import metres_per_degree_lat, metres_per_degree_lon, wander

LAT = 37.86
LON0 = 113.55


@dataclass
class RunningGateway:
    gateway: Gateway
    port: int
    loop: asyncio.AbstractEventLoop
    stop: asyncio.Event
    thread: threading.Thread

    def close(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.stop.set)
            self.thread.join(30)


def start_gateway() -> RunningGateway:
    """The real gateway (server, writer thread) on 127.0.0.1 and a free port."""
    ready = threading.Event()
    box: dict[str, object] = {}

    def run() -> None:
        async def main() -> None:
            stop = asyncio.Event()
            box["stop"] = stop
            box["loop"] = asyncio.get_running_loop()

            def on_ready(gateway: Gateway, port: int) -> None:
                box["gateway"], box["port"] = gateway, port
                ready.set()

            await serve_jt808(host="127.0.0.1", port=0, sweep=None, stop=stop, ready=on_ready)

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30), "the gateway did not start"
    return RunningGateway(
        box["gateway"],  # type: ignore[arg-type]
        box["port"],  # type: ignore[arg-type]
        box["loop"],  # type: ignore[arg-type]
        box["stop"],  # type: ignore[arg-type]
        thread,
    )


class Terminal:
    """A JT/T 808 terminal over a real socket: send messages or bytes, read answers."""

    def __init__(self, port: int, phone: str, version: int | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.phone = phone
        self.version = version
        self.serial = 0
        self.reader = FrameReader()
        self.inbox: list[tuple[Packet, Message]] = []

    def frame(self, message: Message) -> bytes:
        self.serial += 1
        return encode_message(message, phone=self.phone, serial=self.serial, version=self.version)

    def send(self, message: Message) -> int:
        self.sock.sendall(self.frame(message))
        return self.serial

    def send_bytes(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answers(self, count: int) -> list[tuple[Packet, Message]]:
        """The next `count` answers (waits up to the socket timeout)."""
        while len(self.inbox) < count:
            data = self.sock.recv(65536)
            if not data:
                break
            for item in self.reader.feed(data):
                assert not isinstance(item, Jt808Error), item
                self.inbox.append((item, decode_message(item)))
        got, self.inbox = self.inbox[:count], self.inbox[count:]
        return got

    def answer(self) -> Message:
        (pair,) = self.answers(1)
        return pair[1]

    def register(self, plate: str = "", colour: int = 1) -> Message:
        self.send(Register(14, 300, "YQAV", "T1", "ABC1234", colour, plate))
        return self.answer()

    def authenticate(self, code: str) -> Message:
        self.send(
            Authenticate(code, "861234567890123", "1.0") if self.version else Authenticate(code)
        )
        return self.answer()

    def close(self) -> None:
        self.sock.close()


@lru_cache(maxsize=16)
def drive_positions(seconds: int, speed_ms: float = 10.0) -> tuple[tuple[float, float], ...]:
    """(lat, lon) of a drive east from LON0 along LAT, one a second, `speed_ms` along its
    path, which wanders 2-5 m about the parallel as a receiver's slow noise does
    (csvtrace.wander, one fixed curve): a ruler-straight line would be held as too smooth
    to be a recording (trips.replay.plausibility)."""
    east, north = wander(7, seconds * speed_ms)
    arc = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(east), np.diff(north)))))
    at = np.arange(seconds + 1) * speed_ms
    x, y = np.interp(at, arc, east), np.interp(at, arc, north)
    m_lon, m_lat = metres_per_degree_lon(LAT), metres_per_degree_lat(LAT)
    return tuple(
        (LAT + float(dy) / m_lat, LON0 + float(dx) / m_lon) for dx, dy in zip(x, y, strict=True)
    )


def drive(start: dt.datetime, seconds: int, *, speed_ms: float = 10.0) -> Iterator[Location]:
    """A drive east (drive_positions) at `speed_ms`, one autonomous fix a second."""
    for i, (lat, lon) in enumerate(drive_positions(seconds, speed_ms)):
        yield replace(
            FIX,
            lat_e6=round(lat * 1e6),
            lon_e6=round(lon * 1e6),
            time=start + dt.timedelta(seconds=i),
            speed_kmh_x10=round(speed_ms * 36),
            odometer_km_x10=None,
        )
