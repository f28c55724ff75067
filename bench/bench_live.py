"""Live telemetry benchmark: N simulated vehicles at 1 Hz over JT/T 808 through the real
gateway (`manage.py run_jt808`, its own process) into PostgreSQL (run by hand).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yq_bench_live \\
        .venv/bin/python bench/bench_live.py --vehicles 5000 --seconds 600    # the target run

The bench migrates the database, makes one company with N vehicles and a JT/T 808
terminal each (rows written directly, not through the services: set-up, not the thing
measured), starts the gateway, and connects N terminals from one asyncio process. Each
authenticates, then sends one 0x0200 location a second (phases spread over the second), for
--seconds. The gateway acknowledges a location only once it is stored, so the time from
sending to its 0x8001 bounds receipt-to-stored from above. At the end it counts the fixes
in the database against those sent (lost = sent - stored) and prints the ack latencies, the
throughput, and the load average before and after. Target (DESIGN.md §7): >= 5,000
vehicles at 1 Hz for 10 minutes, 0 lost, p99 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from operators.models import Operator, Vehicle  # noqa: E402
from telemetry.jt808 import (  # noqa: E402
    Authenticate,
    FrameReader,
    Jt808Error,
    Location,
    decode_message,
    encode_message,
)
from telemetry.models import Fix, Terminal  # noqa: E402

CODE = "bench-auth-code"
PHONE_BASE = 19_900_000_000  # 12-digit phones 019900000000...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(vehicles: int) -> list[str]:
    """N vehicles with an active JT/T 808 terminal each; returns their phones."""
    call_command("migrate", verbosity=0)
    operator, _ = Operator.objects.get_or_create(
        credit_code="91140300MABENCH001", defaults={"name": "基准测试公司"}
    )
    have = Vehicle.objects.filter(operator=operator).count()
    Vehicle.objects.bulk_create(
        Vehicle(
            operator=operator,
            vin=f"LBENCH{n:011d}",
            plate=f"晋C{n:06d}",
            category=Vehicle.Category.TAXI,
        )
        for n in range(have, vehicles)
    )
    cars = list(Vehicle.objects.filter(operator=operator).order_by("pk")[:vehicles])
    phones = [f"{PHONE_BASE + n:012d}" for n in range(vehicles)]
    existing = set(
        Terminal.objects.filter(terminal_id__in=phones).values_list("terminal_id", flat=True)
    )
    Terminal.objects.bulk_create(
        Terminal(
            vehicle=car,
            protocol=Terminal.Protocol.JT808,
            terminal_id=phone,
            auth_code_sha256=hashlib.sha256(CODE.encode()).hexdigest(),
        )
        for car, phone in zip(cars, phones, strict=True)
        if phone not in existing
    )
    return phones


class Stats:
    def __init__(self) -> None:
        self.sent = 0
        self.acked = 0
        self.refused = 0
        self.latencies: list[float] = []


async def vehicle(  # noqa: PLR0917 - one simulated terminal's whole setting
    phone: str, port: int, start: float, base: datetime, seconds: int, stats: Stats, n: int
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    frames = FrameReader()
    sent_at: dict[int, float] = {}
    serial = 1
    writer.write(encode_message(Authenticate(CODE), phone=phone, serial=serial))
    done = asyncio.Event()

    async def read() -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            now = time.perf_counter()
            for item in frames.feed(data):
                if isinstance(item, Jt808Error):
                    continue
                answer = decode_message(item)
                reply_serial = getattr(answer, "reply_serial", None)
                if reply_serial in sent_at:
                    if getattr(answer, "result", 1) == 0:
                        stats.acked += 1
                        stats.latencies.append(now - sent_at.pop(reply_serial))
                    else:
                        stats.refused += 1
                        sent_at.pop(reply_serial)
                if done.is_set() and not sent_at:
                    return

    reading = asyncio.create_task(read())
    lon0 = 113.50 + (n % 100) * 0.001
    lat0 = 37.80 + (n // 100) * 0.001
    phase = (n % 1000) / 1000
    for k in range(seconds):
        delay = start + k + phase - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        serial = (serial % 0xFFFF) + 1
        fix = Location(
            alarm=0,
            status=0b10,
            lat_e6=round(lat0 * 1e6),
            lon_e6=round((lon0 + k * 0.0001) * 1e6),
            altitude_m=700,
            speed_kmh_x10=300,
            heading_deg=90,
            time=base + timedelta(seconds=k),
            satellites=12,
            autonomous=True,
        )
        sent_at[serial] = time.perf_counter()
        writer.write(encode_message(fix, phone=phone, serial=serial))
        stats.sent += 1
    done.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(reading, 30)
    writer.close()


async def drive(phones: list[str], port: int, seconds: int, stats: Stats) -> datetime:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    start = time.perf_counter() + 2.0
    await asyncio.gather(
        *(vehicle(p, port, start, base, seconds, stats, n) for n, p in enumerate(phones))
    )
    return base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vehicles", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the target is on PostgreSQL).")
    phones = setup(args.vehicles)
    port = free_port()
    gateway = subprocess.Popen(  # noqa: S603 - our own manage.py
        [sys.executable, str(ROOT / "manage.py"), "run_jt808", "--bind", f"127.0.0.1:{port}"],
        env={**os.environ, "LOG_LEVEL": "WARNING"},
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        load_before = os.getloadavg()
        stats = Stats()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        base = asyncio.run(drive(phones, port, args.seconds, stats))
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        load_after = os.getloadavg()
    finally:
        gateway.terminate()
        gateway.wait(60)
    stored = Fix.objects.filter(
        terminal__terminal_id__in=phones,
        t__gte=base,
        t__lt=base + timedelta(seconds=args.seconds),
    ).count()
    lat = sorted(stats.latencies)

    def q(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    print(f"vehicles {args.vehicles} at 1 Hz for {args.seconds} s ({wall:.1f} s wall)")
    print(f"sent {stats.sent}  acked {stats.acked}  refused {stats.refused}  stored {stored}")
    print(f"lost (sent - stored): {stats.sent - stored}")
    print(f"throughput: {stored / max(wall - 2.0, 1e-9):.0f} fixes/s stored")
    print(f"send-to-ack (stored) ms: p50 {q(0.50):.0f}  p99 {q(0.99):.0f}  max {q(1.0):.0f}")
    print(f"simulator CPU {cpu:.1f} s; load average before {load_before}, after {load_after}")
    target = stats.sent == stored and q(0.99) < 1000
    print(f"target (0 lost, p99 < 1 s) at this N: {'met' if target else 'NOT met'}")


if __name__ == "__main__":
    main()
