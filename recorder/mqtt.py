"""Live recorder events over MQTT: the handler the ingest process calls for each message on
`yq/av/{vin}/events` (the integrator wires it into `run_mqtt_ingest`).

The payload is one JSON object with the import's fields (time, event, initiator and
optionally vin, lat, lon, note). A bad message is answered, never raised: the consumer logs
it and goes on with the next one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DatabaseError

from core.errors import ApplicationError

from .models import AdsEvent
from .services import ads_event_record

logger = logging.getLogger(__name__)

TOPIC = "yq/av/{vin}/events"
TOPIC_FILTER = "yq/av/+/events"


@dataclass(frozen=True)
class Handled:
    event: AdsEvent | None
    created: bool
    error: str = ""


def vin_from_topic(topic: str) -> str | None:
    """The VIN of `yq/av/{vin}/events`, or None for any other topic."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[:2] == ["yq", "av"] and parts[3] == "events" and parts[2]:
        return parts[2]
    return None


def handle_event_message(*, vin: str, payload: bytes) -> Handled:
    """Record one live event; a duplicate is `created` False; a refused one carries `error`."""
    try:
        record = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        logger.warning("Recorder message for %s is not JSON.", vin)
        return Handled(None, False, "not JSON")
    if not isinstance(record, dict):
        return Handled(None, False, "not a JSON object")
    try:
        event, created = ads_event_record(vin=vin, record=record)
    except (ApplicationError, ValidationError) as error:
        message = str(getattr(error, "message", error))
        logger.warning("Recorder message for %s refused: %s", vin, message)
        return Handled(None, False, message)
    except DatabaseError:
        logger.exception("Recorder message for %s not stored.", vin)
        raise
    return Handled(event, created)
