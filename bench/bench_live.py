"""Live telemetry benchmark: N simulated vehicles at 1 Hz over JT/T 808 or MQTT through the
real gateway or ingest (its own process) into PostgreSQL (run by hand).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/yq_bench_live \\
        .venv/bin/python bench/bench_live.py --vehicles 5000 --seconds 600    # the target run
    ... bench/bench_live.py --transport mqtt --vehicles 2000 --seconds 120

The bench migrates the database and makes one company with N vehicles and a terminal each
(rows written directly, not through the services: set-up, not the thing measured). The
server process runs with production settings (DEBUG off, LOG_LEVEL WARNING, a Celery
broker named so that the closing sweep is beat's job, not the measured process's).

- jt808: it starts `manage.py run_jt808` and connects N terminals from one asyncio
  process. Each authenticates, then sends one 0x0200 location a second (phases spread over
  the second). The gateway acknowledges a location only once it is stored, so the time
  from sending to its 0x8001 bounds receipt-to-stored from above.
- mqtt: it starts its own Mosquitto on a free port with the production queue settings of
  docs/operations.md, then `manage.py run_mqtt_ingest`, waits for it to connect, and
  publishes each vehicle's fix a second at QoS 1 to `yq/av/<VIN>/telemetry` over
  --publishers connections (a simulator with a connection per vehicle would measure itself). The
  broker's PUBACK says it has the message; that the ingest stored it, only the database
  and the ingest's own figures say.

Either way it then waits until the database holds every fix sent (or nothing more comes
for 30 s), counts lost = sent - stored, and prints the server's own receipt-to-stored
percentiles (its FixWriter measures every fix), the throughput, the CPU seconds of the
server and of the simulator, and the load average before and after: the machine is shared,
so the load says what the figures were measured under. Target (DESIGN.md §7): >= 5,000
vehicles at 1 Hz for 10 minutes, 0 lost, p99 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")

import django  # noqa: E402

django.setup()

import paho.mqtt.client as mqtt  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

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
# The production broker's queue settings (docs/operations.md), without TLS and passwords.
MOSQUITTO_CONF = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 100000
sys_interval 1
"""
# Production settings: DEBUG off, and a Celery broker, so that the closing sweep runs in
# beat's worker as in production, not in the process measured (nothing is sent to it here).
SERVER_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-only",
    "LOG_LEVEL": "WARNING",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"Nothing listens on port {port}.")


def setup(vehicles: int, protocol: str) -> tuple[list[int], list[str]]:
    """N vehicles with an active terminal of `protocol` each; returns the terminals' pks
    and ids (phones for JT/T 808, VINs for MQTT)."""
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
    if protocol == Terminal.Protocol.JT808:
        ids = [f"{PHONE_BASE + n:012d}" for n in range(vehicles)]
    else:
        ids = [car.vin for car in cars]
    existing = set(
        Terminal.objects.filter(protocol=protocol, terminal_id__in=ids).values_list(
            "terminal_id", flat=True
        )
    )
    Terminal.objects.bulk_create(
        Terminal(
            vehicle=car,
            protocol=protocol,
            terminal_id=terminal_id,
            auth_code_sha256=hashlib.sha256(CODE.encode()).hexdigest(),
        )
        for car, terminal_id in zip(cars, ids, strict=True)
        if terminal_id not in existing
    )
    terminals = Terminal.objects.filter(protocol=protocol, terminal_id__in=ids, active=True)
    return list(terminals.values_list("pk", flat=True)), ids


class Stats:
    def __init__(self) -> None:
        self.sent = 0
        self.acked = 0
        self.refused = 0
        self.connect_failed = 0
        self.latencies: list[float] = []  # send to acknowledgement, seconds


def position(n: int, k: int) -> tuple[float, float]:
    """Vehicle n's position at second k: a grid of starts, each driving east."""
    return 37.80 + (n // 100) * 0.001, 113.50 + (n % 100) * 0.001 + k * 0.0001


async def vehicle(  # noqa: PLR0917 - one simulated terminal's whole setting
    phone: str,
    port: int,
    connect_at: float,
    start: float,
    base: datetime,
    seconds: int,
    stats: Stats,
    n: int,
) -> None:
    delay = connect_at - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        stats.connect_failed += 1
        return
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
    phase = (n % 1000) / 1000
    for k in range(seconds):
        delay = start + k + phase - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        serial = (serial % 0xFFFF) + 1
        lat, lon = position(n, k)
        fix = Location(
            alarm=0,
            status=0b10,
            lat_e6=round(lat * 1e6),
            lon_e6=round(lon * 1e6),
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
        await asyncio.wait_for(reading, 60)
    writer.close()


async def drive_jt808(  # noqa: PLR0917 - the whole simulated fleet's setting
    phones: list[str], port: int, base: datetime, seconds: int, ramp_s: float, stats: Stats
) -> None:
    """Connect and authenticate the terminals evenly over `ramp_s` (as a fleet comes on
    line), then every one sends a location a second from 2 s after the ramp: the ramp is
    outside the measured window (no location is sent during it)."""
    now = time.perf_counter()
    start = now + ramp_s + 2.0
    await asyncio.gather(
        *(
            vehicle(p, port, now + ramp_s * n / len(phones), start, base, seconds, stats, n)
            for n, p in enumerate(phones)
        )
    )


def drive_mqtt(  # noqa: PLR0917 - the whole simulated fleet's setting
    vins: list[str], port: int, base: datetime, seconds: int, publishers: int, stats: Stats
) -> None:
    """Publish each vehicle's fix once a second, phases spread over the second, from one
    thread over `publishers` connections; the broker's PUBACK ends a send."""
    # The lock is never held while calling paho: paho calls on_publish holding its own.
    lock = threading.Lock()
    sent_at: dict[tuple[int, int], float] = {}
    acked_at: dict[tuple[int, int], float] = {}  # a PUBACK before publish() returned

    def on_publish(client: mqtt.Client, userdata: int, mid: int, *_: object) -> None:
        now = time.perf_counter()
        with lock:
            at = sent_at.pop((userdata, mid), None)
            if at is None:
                acked_at[(userdata, mid)] = now
                return
            stats.acked += 1
            stats.latencies.append(now - at)

    clients = []
    for i in range(publishers):
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"bench-publisher-{os.getpid()}-{i}",
            userdata=i,
        )
        client.max_inflight_messages_set(0)  # unlimited: the fleet does not wait in line
        client.max_queued_messages_set(0)
        client.on_publish = on_publish
        client.connect("127.0.0.1", port, keepalive=60)
        client.loop_start()
        clients.append(client)
    order = sorted(range(len(vins)), key=lambda n: (n % 1000, n))  # by phase
    start = time.perf_counter() + 2.0
    for k in range(seconds):
        t = (base + timedelta(seconds=k)).isoformat()
        for n in order:
            delay = start + k + (n % 1000) / 1000 - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            lat, lon = position(n, k)
            payload = json.dumps(
                {"t": t, "lat": lat, "lon": lon, "mode": "auto", "seq": k, "speed_kmh": 30.0}
            )
            i = n % publishers
            at = time.perf_counter()
            info = clients[i].publish(f"yq/av/{vins[n]}/telemetry", payload, qos=1)
            with lock:
                acked = acked_at.pop((i, info.mid), None)
                if acked is None:
                    sent_at[(i, info.mid)] = at
                else:
                    stats.acked += 1
                    stats.latencies.append(acked - at)
            stats.sent += 1
    deadline = time.monotonic() + 60
    while sent_at and time.monotonic() < deadline:
        time.sleep(0.1)
    for client in clients:
        client.loop_stop()
        client.disconnect()


def wait_connected(port: int, clients: int) -> None:
    """Until the broker counts `clients` connected (its $SYS figure, our probe included; it
    does not count shared subscriptions, so this waits for the ingest's connection)."""
    done = threading.Event()

    def on_message(_client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        if int(message.payload) >= clients:
            done.set()

    probe = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    probe.on_message = on_message
    probe.connect("127.0.0.1", port)
    probe.subscribe("$SYS/broker/clients/connected")
    probe.loop_start()
    try:
        if not done.wait(120):
            sys.exit("The ingest did not connect within 120 s.")
    finally:
        probe.loop_stop()
        probe.disconnect()


def count_stored(terminal_pks: list[int], base: datetime, seconds: int) -> int:
    return Fix.objects.filter(
        terminal_id__in=terminal_pks, t__gte=base, t__lt=base + timedelta(seconds=seconds)
    ).count()


def wait_stored(terminal_pks: list[int], base: datetime, seconds: int, sent: int) -> int:
    """The fixes stored once they are all there or nothing more came for 30 s."""
    stored, changed = -1, time.monotonic()
    while True:
        now = count_stored(terminal_pks, base, seconds)
        if now >= sent or time.monotonic() - changed > 30:
            return now
        if now != stored:
            stored, changed = now, time.monotonic()
        time.sleep(0.5)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:  # noqa: PLR0915 - one run, start to figures
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transport", choices=["jt808", "mqtt"], default="jt808")
    parser.add_argument("--vehicles", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--publishers", type=int, default=8, help="MQTT connections")
    parser.add_argument(
        "--ramp-seconds",
        type=float,
        default=0.0,
        help="jt808: connect the terminals evenly over this time, before the measured window",
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the target is on PostgreSQL).")
    protocol = Terminal.Protocol.JT808 if args.transport == "jt808" else Terminal.Protocol.MQTT
    terminal_pks, ids = setup(args.vehicles, protocol)
    connection.close()  # no idle transaction held open over the run
    helpers: list[subprocess.Popen[bytes]] = []
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        if args.transport == "jt808":
            command = ["run_jt808", "--bind", f"127.0.0.1:{port}"]
        else:
            conf = Path(tmp) / "mosquitto.conf"
            conf.write_text(MOSQUITTO_CONF.format(port=port))
            broker = ["mosquitto", "-c", str(conf)]
            helpers.append(
                subprocess.Popen(broker, stderr=subprocess.DEVNULL)  # noqa: S603 - Debian's
            )
            wait_for_port(port)
            command = [
                "run_mqtt_ingest",
                "--broker", f"mqtt://127.0.0.1:{port}",
                "--group", f"bench{os.getpid()}",
                "--client-id", f"bench-ingest-{os.getpid()}",
            ]  # fmt: skip
        server = subprocess.Popen(  # noqa: S603 - our own manage.py
            [sys.executable, str(ROOT / "manage.py"), *command],
            env={**os.environ, **SERVER_ENV},
            stdout=subprocess.PIPE,
            text=True,
        )
        print(f"{args.transport} server pid {server.pid}", flush=True)
        try:
            if args.transport == "jt808":
                wait_for_port(port)
            else:  # the ingest and our probe; the ingest subscribes as it connects
                wait_connected(port, 2)
                time.sleep(1.0)
            base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
            load_before = os.getloadavg()
            stats = Stats()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if args.transport == "jt808":
                asyncio.run(drive_jt808(ids, port, base, args.seconds, args.ramp_seconds, stats))
            else:
                drive_mqtt(ids, port, base, args.seconds, args.publishers, stats)
            cpu = time.process_time() - cpu0
            stored = wait_stored(terminal_pks, base, args.seconds, stats.sent)
            wall = time.perf_counter() - wall0
            load_after = os.getloadavg()
        finally:
            server.terminate()
            report, _ = server.communicate(timeout=600)  # it writes every archive
            for helper in helpers:
                helper.terminate()
                helper.wait(30)
    server_cpu = children_cpu()  # the broker's too, when it is ours
    lat = sorted(stats.latencies)

    def q(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    ack = "send-to-ack (stored)" if args.transport == "jt808" else "publish-to-PUBACK (broker)"
    print(f"{args.transport}: {args.vehicles} vehicles at 1 Hz for {args.seconds} s")
    print(
        f"sent {stats.sent}  acked {stats.acked}  refused {stats.refused}  stored {stored}  "
        f"connections failed {stats.connect_failed} (ramp {args.ramp_seconds:.0f} s)"
    )
    print(f"lost (sent - stored): {stats.sent - stored}")
    busy = wall - 2.0 - args.ramp_seconds  # from the first location sent
    print(f"throughput: {stored / max(busy, 1e-9):.0f} fixes/s stored ({wall:.1f} s wall)")
    print(f"{ack} ms: p50 {q(0.50):.0f}  p99 {q(0.99):.0f}  max {q(1.0):.0f}")
    print(f"server: {report.strip()}")
    owners = "server" if args.transport == "jt808" else "ingest and broker"
    print(f"CPU s: {owners} {server_cpu:.1f}, simulator {cpu:.1f} (over {wall:.0f} s)")
    print(f"load average before {load_before}, after {load_after} (2 cores)")
    p99 = re.search(r"p99 ([0-9.]+) s", report)
    met = stats.sent == stored and p99 is not None and float(p99[1]) < 1.0
    print(f"target (0 lost, receipt-to-stored p99 < 1 s) at this N: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
