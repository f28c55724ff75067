"""Running the gateway: the server, the writer, the eager sweep and a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable

from django.conf import settings

from .gateway import Gateway
from .partitions import ensure_fix_partitions
from .writer import FixWriter

logger = logging.getLogger(__name__)


def make_writer() -> FixWriter:
    return FixWriter(
        batch_fixes=settings.TELEMETRY_BATCH_FIXES,
        batch_s=settings.TELEMETRY_BATCH_S,
        archive_messages=settings.TELEMETRY_ARCHIVE_MESSAGES,
        archive_s=settings.TELEMETRY_ARCHIVE_S,
    )


async def _sweep_forever(sweep: Callable[[], object], every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await asyncio.to_thread(sweep)
        except Exception:
            logger.exception("The closing sweep failed.")


async def serve_jt808(
    *,
    host: str,
    port: int,
    sweep: Callable[[], object] | None,
    stop: asyncio.Event | None = None,
    ready: Callable[[Gateway, int], None] | None = None,
) -> Gateway:
    """Serve until `stop` is set (or SIGTERM/SIGINT); returns the gateway (its stats)."""
    await asyncio.to_thread(ensure_fix_partitions)
    writer = make_writer().start()
    gateway = Gateway(
        fix_writer=writer,
        mode_extra_id=settings.JT808_MODE_EXTRA_ID,
        idle_timeout_s=settings.JT808_IDLE_TIMEOUT_S,
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError, RuntimeError):  # not the main thread (tests)
            loop.add_signal_handler(sig, stop.set)
    server = await gateway.serve(host, port)
    bound = server.sockets[0].getsockname()[1]
    logger.info("JT/T 808 gateway listening on %s:%s", host, bound)
    sweeper = asyncio.create_task(_sweep_forever(sweep, settings.LIVE_SWEEP_S)) if sweep else None
    if ready is not None:
        ready(gateway, bound)
    try:
        await stop.wait()
    finally:
        server.close()
        if sweeper is not None:
            sweeper.cancel()
        await asyncio.to_thread(writer.stop)
        gateway.close()
    return gateway
