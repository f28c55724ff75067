"""`manage.py run_mqtt_ingest --broker mqtt://HOST:PORT`: the MQTT ingest (docs/operations.md)."""

from __future__ import annotations

import signal
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recorder.mqtt import TOPIC_FILTER as EVENTS_TOPIC
from recorder.mqtt import handle_event_message
from telemetry.mqtt import Ingest, run_periodically
from telemetry.partitions import ensure_fix_partitions
from telemetry.runner import make_writer
from trips.live import close_live_trips


class Command(BaseCommand):
    help = (
        "Consume vehicles' MQTT fixes and recorder events; with eager Celery it also closes "
        "live trips itself."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
        parser.add_argument("--group", default=settings.MQTT_GROUP)
        parser.add_argument(
            "--client-id",
            default="",
            help="stable per process for a persistent session (default: group-hostname)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = urlsplit(options["broker"])
        if url.scheme != "mqtt" or not url.hostname:
            raise CommandError("--broker takes mqtt://HOST:PORT")
        group = options["group"]
        ensure_fix_partitions()
        writer = make_writer().start()
        ingest = Ingest(
            fix_writer=writer,
            host=url.hostname,
            port=url.port or 1883,
            group=group,
            topic=settings.MQTT_TOPIC,
            client_id=options["client_id"] or f"{group}-{socket.gethostname()}",
            # The data recorder's live events (docs/recorder.md) on the same connection.
            events=(
                EVENTS_TOPIC,
                lambda vin, payload: handle_event_message(vin=vin, payload=payload),
            ),
        )
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        ingest.start()
        eager = settings.CELERY_TASK_ALWAYS_EAGER
        try:
            run_periodically(stop, settings.LIVE_SWEEP_S, close_live_trips if eager else None)
        finally:
            ingest.stop()
            writer.stop()
        self.stdout.write(f"Stopped: {dict(ingest.stats)}; {writer.stats.summary()}")
