"""Real processes for end-to-end tests: a Celery worker on Redis and a gunicorn server
(PostgreSQL and REDIS_URL only).

The worker is a separate process that uses the test database, so tests that use it need
`transactional_db` (data committed, visible to the worker). Everything else in the suite
runs tasks eagerly in-process (see the autouse fixture in conftest.py).
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from yangquan_av.celery import app

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database's URL, for other processes and connections to use."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(*, broker_url: str = "") -> dict[str, str]:
    """The environment of a process that shares this test's database and files (settings
    put MEDIA_ROOT under VAR_DIR), on the suite's broker or on `broker_url`."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "VAR_DIR": str(Path(settings.MEDIA_ROOT).parent),
    }
    if broker_url:
        # One Redis for the broker and the cache, as in production (docs/operations.md):
        # a fault of the broker is a fault of the throttles' cache too.
        env["REDIS_URL"] = broker_url
        env.pop("CELERY_BROKER_URL", None)
    return env


def start_worker(*, broker_url: str = "", pool: str = "solo") -> subprocess.Popen[bytes]:
    """Start `celery worker` on the test database, on the suite's broker or on `broker_url`,
    and return once it answers a ping. `pool` "prefork" runs tasks in one child process
    under the worker, as production does; "solo" runs them in the worker itself."""
    worker = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "yangquan_av",
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=process_env(broker_url=broker_url),
    )
    # Not the current app: tasks sent later by this process must go to the suite's broker.
    probe = Celery(broker=broker_url, set_as_current=False) if broker_url else app
    try:
        deadline = time.monotonic() + 60
        while not probe.control.ping(timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                worker.kill()
                raise RuntimeError("the Celery worker did not start")
    finally:
        if probe is not app:
            probe.close()
    return worker


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started here (SIGTERM: a worker finishes its task first)."""
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    """Start `celery worker` against the test database; stop it after the test."""
    require_worker()
    app.control.purge()  # tasks left over by an earlier, interrupted run
    app.conf.task_always_eager = False
    worker = None
    try:
        worker = start_worker()
        yield worker
    finally:
        app.conf.task_always_eager = True
        if worker is not None:
            stop(worker)


def require_worker() -> None:
    """Skip, saying why, unless a worker process can run and share the test database."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("needs a broker: set REDIS_URL")
    if connection.vendor != "postgresql":
        pytest.skip("a worker process can share the test database only on PostgreSQL")


@contextmanager
def gunicorn(*, port: int, broker_url: str = "") -> Iterator[str]:
    """Serve the app with gunicorn on the test database at 127.0.0.1:`port` (several
    processes and threads, so requests really run at the same time); yields the base URL."""
    server = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        [
            sys.executable,
            "-m",
            "gunicorn",
            "yangquan_av.wsgi",
            f"--bind=127.0.0.1:{port}",
            "--workers=3",
            "--threads=4",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=process_env(broker_url=broker_url),
    )
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/api/v1/schema/")
        connection.getresponse().read()
    except OSError:
        return False
    finally:
        connection.close()
    return True


def wait_for(condition: object, *, timeout: float = 60.0) -> None:
    """Poll `condition()` until it is true (the worker commits in its own transaction)."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.2)
