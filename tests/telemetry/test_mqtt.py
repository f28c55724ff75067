"""MQTT end to end through a real Mosquitto started on a free port for the test."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from django.db import OperationalError
from django.utils import timezone
from paho.mqtt.enums import CallbackAPIVersion

from recorder.models import AdsEvent
from recorder.mqtt import TOPIC_FILTER as EVENTS_TOPIC
from recorder.mqtt import handle_event_message
from telemetry import services
from telemetry.models import Fix, Terminal
from telemetry.mqtt import Ingest, PayloadError, parse_payload
from telemetry.writer import FixWriter
from tests.conftest import World, make_world
from tests.telemetry.live import drive_positions
from trips.live import close_live_trips
from trips.models import Trip

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("mosquitto"), reason="needs Debian's mosquitto"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def broker(tmp_path: Any) -> Iterator[int]:
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen(  # noqa: S603 - Debian's binary and our own config
        [str(shutil.which("mosquitto")), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(10)


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return make_world()


def publisher(port: int) -> mqtt.Client:
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="car")
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def ingest_on(port: int) -> tuple[Ingest, FixWriter]:
    writer = FixWriter(batch_s=0.02, archive_s=0.0).start()
    ingest = Ingest(
        fix_writer=writer,
        host="127.0.0.1",
        port=port,
        group="test",
        topic="yq/av/+/telemetry",
        client_id="ingest-1",
        refresh_s=0.0,
    )
    ingest.start()
    assert ingest.subscribed.wait(10)
    return ingest, writer


def wait_until(check: Any, timeout: float = 10.0) -> None:
    """Poll `check` until it holds or `timeout` passes. On SQLite the test database is a
    shared-cache memory database, where a read that meets the writer thread's write is
    refused at once ("table is locked") instead of waiting: that poll counts as not yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OperationalError as error:
            if "locked" not in str(error):
                raise
        time.sleep(0.05)


def fix_payload(t: dt.datetime, i: int) -> bytes:
    lat, lon = drive_positions(60)[i]
    return json.dumps(
        {"t": t.isoformat(), "lat": lat, "lon": lon, "mode": "auto", "seq": i, "speed_kmh": 36}
    ).encode()


def test_mqtt_fixes_end_to_end_become_a_verified_trip(live_world: World, broker: int) -> None:
    vin = live_world.vehicle_a.vin
    services.terminal_register(
        actor=live_world.staff_a,
        vehicle_id=live_world.vehicle_a.pk,
        protocol=Terminal.Protocol.MQTT,
        terminal_id=vin,
    )
    ingest, writer = ingest_on(broker)
    car = publisher(broker)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=20)
    for i in range(61):  # 61 fixes, 60 steps of 10 m: 600 m
        car.publish(f"yq/av/{vin}/telemetry", fix_payload(start + dt.timedelta(seconds=i), i), 1)
    car.publish(f"yq/av/{vin}/telemetry", b"{not json", 1)
    car.publish("yq/av/LSVAA0000XX000000/telemetry", fix_payload(start, 0), 1)  # no terminal
    wait_until(lambda: Fix.objects.count() >= 61 and ingest.stats["received"] >= 63)
    ingest.stop()
    writer.stop()
    car.loop_stop()
    assert Fix.objects.count() == 61
    assert ingest.stats["malformed"] == 1  # counted, and the consumer went on
    assert ingest.stats["unknown_vin"] == 1
    (trip_id,) = close_live_trips(now=timezone.now() + dt.timedelta(seconds=301))
    trip = Trip.objects.get(pk=trip_id)
    assert (trip.source, trip.status, trip.points_total) == ("mqtt", "accepted", 61)
    assert abs(float(trip.total_m) - 600.0) < 0.5


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[]", "not_an_object"),
        (b'{"lat": 1, "lon": 2, "mode": "auto", "seq": 1}', "t_missing"),
        (b'{"t": "2026-03-02T09:00:00", "lat": 1, "lon": 2, "mode": "auto", "seq": 1}',
         "t_no_offset"),
        (b'{"t": "2026-03-02T09:00:00Z", "lat": 91, "lon": 2, "mode": "auto", "seq": 1}',
         "lat_out_of_range"),
        (b'{"t": "2026-03-02T09:00:00Z", "lat": 1, "lon": 2, "mode": "robot", "seq": 1}',
         "mode_invalid"),
        (b'{"t": "2026-03-02T09:00:00Z", "lat": 1, "lon": "x", "mode": "auto", "seq": 1}',
         "lon_not_a_number"),
    ],
)  # fmt: skip
def test_a_malformed_payload_names_what_is_wrong(payload: bytes, reason: str) -> None:
    with pytest.raises(PayloadError) as refused:
        parse_payload(payload)
    assert refused.value.reason == reason


def test_recorder_events_on_the_same_connection_reach_the_recorder(
    live_world: World, broker: int
) -> None:
    # As run_mqtt_ingest wires it: the recorder's topic and handler beside the fixes.
    writer = FixWriter(batch_s=0.02, archive_s=0.0).start()
    ingest = Ingest(
        fix_writer=writer,
        host="127.0.0.1",
        port=broker,
        group="test",
        topic="yq/av/+/telemetry",
        client_id="ingest-events",
        refresh_s=0.0,
        events=(
            EVENTS_TOPIC,
            lambda vin, payload: handle_event_message(vin=vin, payload=payload),
        ),
    )
    ingest.start()
    assert ingest.subscribed.wait(10)
    car = publisher(broker)
    at = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    vin = live_world.vehicle_a.vin
    event = {"time": at.isoformat(), "event": "activation", "initiator": "driver"}
    car.publish(f"yq/av/{vin}/events", json.dumps(event).encode(), 1)
    car.publish(f"yq/av/{vin}/events", json.dumps(event).encode(), 1)  # delivered twice
    wait_until(lambda: ingest.stats["events"] >= 2)
    ingest.stop()
    writer.stop()
    car.loop_stop()

    recorded = AdsEvent.objects.get(vehicle=live_world.vehicle_a)
    assert (recorded.at, recorded.type) == (at, "activation")
    assert ingest.stats["events"] == 2
    assert Fix.objects.count() == 0
