"""Concurrent runs and the real worker (PostgreSQL and Redis; skipped on the embedded default)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from subprocess import Popen

import pytest
from django.db import connection

from subsidies import computation, selectors, tasks
from subsidies.models import Statement
from tests.conftest import World
from tests.subsidies import factories
from tests.worker import wait_for


def make_year(world: World) -> None:
    for vehicle in (world.vehicle_a, world.vehicle_b):
        for day in range(1, 6):
            factories.trip(vehicle=vehicle, days={dt.date(2024, 3, day): "1000.00"})
        factories.grade(actor=world.bureau, operator=vehicle.operator, year=2024, grade="A")


@pytest.mark.postgres
def test_two_concurrent_runs_leave_one_draft_per_operator_year(
    transactional_db: None, world: World
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("threads share one SQLite file badly; PostgreSQL locks are what is tested")
    make_year(world)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            computation.statements_compute(year=2024)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    drafts = Counter(Statement.objects.filter(status="draft").values_list("operator_id", "year"))
    assert drafts == {(world.company_a.pk, 2024): 1, (world.company_b.pk, 2024): 1}


@pytest.mark.worker
def test_a_real_worker_computes_the_year(celery_worker: Popen[bytes], world: World) -> None:
    make_year(world)

    tasks.compute_statements.delay(2024)

    wait_for(lambda: Statement.objects.filter(year=2024).count() == 2)
    statement = Statement.objects.get(operator=world.company_a, year=2024)
    # 5 trips × 1,000 m = 5 km × 3.00 = 15.00
    assert str(statement.amount_yuan) == "15.00"
    assert selectors.statement_lines(statement=statement).count() == 5
