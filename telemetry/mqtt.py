"""MQTT ingest: vehicles publish JSON fixes to `yq/av/<VIN>/telemetry` (docs/telemetry.md).

QoS 1, a persistent session (clean_session false, a stable client id) and the shared
subscription `$share/<group>/yq/av/+/telemetry`, so several ingest processes split the load
and a restarted one gets what the broker kept for it. A message is acknowledged (manual
PUBACK) only once its fix is stored, so a crash before that means the broker sends it again
(stored once: unique per terminal and fix time). A malformed message is counted, logged and
acknowledged (sending it again would not mend it); it never stops the consumer. Only VINs
with an active MQTT terminal are taken.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from . import selectors
from .services import FixRow
from .writer import FixWriter

logger = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 4096


class PayloadError(ValueError):
    """A message that is not a fix; `reason` names what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _number(data: dict[str, Any], key: str, *, low: float, high: float) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadError(f"{key}_not_a_number")
    if not low <= value <= high:
        raise PayloadError(f"{key}_out_of_range")
    return float(value)


def vin_of(topic: str) -> str:
    parts = topic.split("/")
    if len(parts) != 4 or parts[:2] != ["yq", "av"] or parts[3] != "telemetry":
        raise PayloadError("topic")
    return parts[2].upper()


def parse_payload(payload: bytes) -> dict[str, Any]:
    """The fix in a message: t (aware UTC), lat, lon, autonomous, seq and the optional
    speed_kmh, hdop, sats, odometer_m. Raises PayloadError."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError("too_large")
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PayloadError("not_json") from None
    if not isinstance(data, dict):
        raise PayloadError("not_an_object")
    for key in ("t", "lat", "lon", "mode", "seq"):
        if key not in data:
            raise PayloadError(f"{key}_missing")
    if not isinstance(data["t"], str):
        raise PayloadError("t_invalid")
    try:
        t = datetime.fromisoformat(data["t"])
    except ValueError:
        raise PayloadError("t_invalid") from None
    if t.tzinfo is None:
        raise PayloadError("t_no_offset")
    if data["mode"] not in ("auto", "manual"):
        raise PayloadError("mode_invalid")
    if isinstance(data["seq"], bool) or not isinstance(data["seq"], int):
        raise PayloadError("seq_invalid")
    lat = _number(data, "lat", low=-90, high=90)
    lon = _number(data, "lon", low=-180, high=180)
    sats = _number(data, "sats", low=0, high=255)
    odometer_km = _number(data, "odometer_km", low=0, high=1e8)
    return {
        "t": t.astimezone(UTC),
        "lat": lat,
        "lon": lon,
        "autonomous": data["mode"] == "auto",
        "seq": data["seq"],
        "speed_kmh": _number(data, "speed_kmh", low=0, high=500),
        "hdop": _number(data, "hdop", low=0, high=100),
        "satellites": None if sats is None else int(sats),
        "odometer_m": None if odometer_km is None else odometer_km * 1000,
    }


class Ingest:
    """Consumes the shared subscription into the FixWriter."""

    def __init__(
        self,
        *,
        fix_writer: FixWriter,
        host: str,
        port: int,
        group: str,
        topic: str,
        client_id: str,
        refresh_s: float = 10.0,
        events: tuple[str, Callable[[str, bytes], object]] | None = None,
    ) -> None:
        """`events` is another topic filter and the handler of its messages (the recorder's
        `yq/av/+/events`), given by the process that wires the apps together: telemetry
        knows nothing of what they mean. A handler that raises leaves the message
        unacknowledged, so the broker delivers it again."""
        self.fix_writer = fix_writer
        self.host, self.port = host, port
        self.subscription = f"$share/{group}/{topic}"
        self.events_subscription = None if events is None else f"$share/{group}/{events[0]}"
        self.on_event = None if events is None else events[1]
        self.stats: Counter[str] = Counter()
        self.refresh_s = refresh_s
        self._terminals: dict[str, tuple[int, int]] = {}
        self._loaded_at = -math.inf
        self.subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe(self.subscription, qos=1)
        if self.events_subscription is not None:
            client.subscribe(self.events_subscription, qos=1)

    def _on_subscribe(self, *_args: Any) -> None:
        self.subscribed.set()

    def _terminal(self, vin: str) -> tuple[int, int] | None:
        """The active terminal of a VIN, from a cache refreshed every `refresh_s` (and at
        most that often on an unknown VIN, so a flood of strangers costs one query each)."""
        now = time.monotonic()
        if now - self._loaded_at >= self.refresh_s:
            self._terminals = selectors.active_mqtt_terminals()
            self._loaded_at = now
        return self._terminals.get(vin)

    def _on_message(self, client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        received = datetime.now(UTC)
        self.stats["received"] += 1
        mid, qos = message.mid, message.qos

        def ack() -> None:
            if qos:
                client.ack(mid, qos)

        if self.on_event is not None and message.topic.endswith("/events"):
            self._on_event_message(message.topic, message.payload, ack)
            return
        try:
            vin = vin_of(message.topic)
            fix = parse_payload(message.payload)
        except PayloadError as error:
            self.stats[f"malformed_{error.reason}"] += 1
            self.stats["malformed"] += 1
            logger.warning("Malformed message on %s: %s", message.topic, error.reason)
            ack()
            return
        terminal = self._terminal(vin)
        if terminal is None:
            self.stats["unknown_vin"] += 1
            ack()
            return
        terminal_pk, vehicle_pk = terminal
        row = FixRow(
            terminal_pk=terminal_pk,
            vehicle_pk=vehicle_pk,
            t=fix["t"],
            received_at=received,
            lat=fix["lat"],
            lon=fix["lon"],
            autonomous=fix["autonomous"],
            speed_kmh=fix["speed_kmh"],
            hdop=fix["hdop"],
            satellites=fix["satellites"],
            odometer_m=fix["odometer_m"],
        )
        what = f"{message.topic} {message.payload.decode(errors='replace')}"
        self.fix_writer.put([row], [(terminal_pk, received, what)], ack)
        self.stats["taken"] += 1

    def _on_event_message(self, topic: str, payload: bytes, ack: Callable[[], None]) -> None:
        parts = topic.split("/")
        if len(parts) != 4 or parts[:2] != ["yq", "av"] or not parts[2]:
            self.stats["malformed_topic"] += 1
            ack()
            return
        assert self.on_event is not None  # noqa: S101 - checked by the caller
        try:
            self.on_event(parts[2].upper(), payload)
        except Exception:
            self.stats["event_failed"] += 1
            logger.exception("The event handler failed on %s; left for redelivery.", topic)
            return
        self.stats["events"] += 1
        ack()

    def start(self) -> None:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def run_periodically(
    stop: threading.Event, every_s: float, work: Callable[[], object] | None
) -> None:
    """Call `work` every `every_s` until `stop` is set (the eager closing sweep)."""
    while not stop.wait(every_s):
        if work is None:
            continue
        try:
            work()
        except Exception:
            logger.exception("The periodic sweep failed.")
