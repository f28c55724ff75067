"""Live recorder events: published to the real Mosquitto, handled by `handle_event_message`."""

from __future__ import annotations

import json
import queue
import socket
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from recorder.models import AdsEvent, Incident
from recorder.mqtt import handle_event_message, vin_from_topic
from tests.conftest import World

pytestmark = pytest.mark.django_db

BROKER = ("127.0.0.1", 1883)


def _broker_up() -> bool:
    try:
        socket.create_connection(BROKER, timeout=1).close()
    except OSError:
        return False
    return True


def relay(messages: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Publish `messages` to the broker and return what a subscriber on the events' topics
    received, in order (QoS 1, a topic prefix of its own so parallel runs do not mix)."""
    prefix = f"test-{uuid.uuid4().hex[:8]}/"
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.on_message = lambda _c, _u, m: received.put((m.topic.removeprefix(prefix), m.payload))
    sub.on_subscribe = lambda *_args: subscribed.put(True)
    sub.connect(*BROKER)
    sub.subscribe(prefix + "yq/av/+/events", qos=1)
    sub.loop_start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect(*BROKER)
    pub.loop_start()
    try:
        subscribed.get(timeout=5)
        for topic, payload in messages:
            pub.publish(prefix + topic, payload, qos=1).wait_for_publish(timeout=5)
        return [received.get(timeout=5) for _ in messages]
    finally:
        for client in (pub, sub):
            client.loop_stop()
            client.disconnect()


@pytest.mark.skipif(not _broker_up(), reason="needs Mosquitto on 127.0.0.1:1883")
def test_events_published_over_mqtt_are_recorded_once(world: World) -> None:
    vin = world.vehicle_a.vin
    activation = json.dumps(
        {"time": "2026-03-02T09:00:00+08:00", "event": "activation", "initiator": "driver"}
    ).encode()
    collision = json.dumps(
        {
            "time": "2026-03-02T09:05:00+08:00",
            "event": "collision",
            "initiator": "",
            "lat": 37.86,
            "lon": 113.55,
            "note": "rear-ended at a light",
        }
    ).encode()
    topic = f"yq/av/{vin}/events"
    delivered = relay([(topic, activation), (topic, collision), (topic, activation)])
    results = []
    for got_topic, payload in delivered:
        topic_vin = vin_from_topic(got_topic)
        assert topic_vin == vin
        results.append(handle_event_message(vin=topic_vin, payload=payload))
    assert [(r.created, r.error) for r in results] == [(True, ""), (True, ""), (False, "")]
    assert AdsEvent.objects.filter(source="stream").count() == 2
    assert Incident.objects.get().event.note == "rear-ended at a light"


def test_a_message_for_an_unknown_vehicle_is_answered_not_raised(world: World) -> None:
    payload = b'{"time": "2026-03-02T01:00:00Z", "event": "activation", "initiator": ""}'
    handled = handle_event_message(vin="LFV2A2BS0N9999999", payload=payload)
    assert handled.event is None
    assert handled.error


def test_a_message_naming_another_vin_than_its_topic_is_refused(world: World) -> None:
    payload = json.dumps(
        {
            "time": "2026-03-02T01:00:00Z",
            "vin": world.vehicle_b.vin,
            "event": "activation",
            "initiator": "",
        }
    ).encode()
    handled = handle_event_message(vin=world.vehicle_a.vin, payload=payload)
    assert handled.event is None
    assert AdsEvent.objects.count() == 0


def test_a_message_that_is_not_json_is_refused(world: World) -> None:
    assert handle_event_message(vin=world.vehicle_a.vin, payload=b"\xff").error == "not JSON"


def test_only_event_topics_carry_a_vin() -> None:
    assert vin_from_topic("yq/av/LFV2A2BS0N0000001/events") == "LFV2A2BS0N0000001"
    assert vin_from_topic("yq/av/LFV2A2BS0N0000001/fixes") is None
