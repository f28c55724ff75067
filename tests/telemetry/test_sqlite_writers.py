"""The embedded SQLite database with a web server, a gateway and a worker writing at once:
WAL and a busy timeout (settings.DATABASES OPTIONS) let concurrent writers all succeed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each writer: 200 transactions, each inserting one terminal-less row in its own table.
WRITER = """
import django, os
django.setup()
from django.db import connection, transaction
for i in range(200):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_rows (writer, n) VALUES (%s, %s)", [{w}, i])
print("ok")
"""


@pytest.mark.skipif("DATABASE_URL" in os.environ, reason="the embedded SQLite default only")
def test_three_processes_write_to_the_embedded_sqlite_at_once_without_a_lock_error(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "yangquan_av.settings"}
    env.pop("DATABASE_URL", None)
    setup = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "c = connection.cursor()\n"
        "c.execute('CREATE TABLE bench_rows (writer int, n int)')\n"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0])\n"
    )
    mode = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", setup], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert mode.stdout.strip() == "wal"
    writers = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", WRITER.format(w=w)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(3)
    ]
    outputs = [writer.communicate(timeout=120) for writer in writers]
    assert [out.strip() for out, _err in outputs] == ["ok", "ok", "ok"], outputs
    count = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "print(connection.cursor().execute('SELECT count(*) FROM bench_rows').fetchone()[0])\n"
    )
    total = subprocess.run(  # noqa: S603
        [sys.executable, "-c", count], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert total.stdout.strip() == "600"  # 3 writers x 200 rows, none lost
