"""A real Celery worker on Redis, for end-to-end tests (PostgreSQL and REDIS_URL only).

The worker is a separate process that uses the test database, so tests that use it need
`transactional_db` (data committed, visible to the worker). Everything else in the suite
runs tasks eagerly in-process (see the autouse fixture in conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from yangquan_av.celery import app

ROOT = Path(__file__).resolve().parents[1]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """Start `celery worker` against the test database; stop it after the test."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("needs a broker: set REDIS_URL")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process can share the test database only on PostgreSQL")
    app.control.purge()  # tasks left over by an earlier, interrupted run
    env = {**os.environ, "DATABASE_URL": _database_url()}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "yangquan_av",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
    )
    app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start")
        yield worker
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(timeout=30)


def wait_for(condition: object, *, timeout: float = 60.0) -> None:
    """Poll `condition()` until it is true (the worker commits in its own transaction)."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.2)
