"""`manage.py run_jt808 --bind HOST:PORT`: the JT/T 808 gateway (docs/operations.md)."""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from telemetry.runner import serve_jt808
from trips.live import close_live_trips


class Command(BaseCommand):
    help = "Serve JT/T 808 terminals; with eager Celery it also closes live trips itself."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="0.0.0.0:6808", help="HOST:PORT to listen on")

    def handle(self, *args: Any, **options: Any) -> None:
        host, _, port = options["bind"].rpartition(":")
        if not host or not port.isdigit():
            raise CommandError("--bind takes HOST:PORT")
        eager = settings.CELERY_TASK_ALWAYS_EAGER
        gateway = asyncio.run(
            serve_jt808(host=host, port=int(port), sweep=close_live_trips if eager else None)
        )
        stats = gateway.stats
        self.stdout.write(
            f"Stopped: {stats.connections} connections, {stats.frames} frames, "
            f"{stats.fixes} fixes, bad frames {dict(stats.bad_frames)}, "
            f"refused {dict(stats.refused)}; {gateway.fix_writer.stats.summary()}"
        )
