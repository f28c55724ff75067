import datetime as dt
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from subsidies import tasks
from subsidies.models import Statement
from tests.conftest import World
from tests.subsidies import factories
from yangquan_av.celery import app

pytestmark = pytest.mark.django_db


def test_the_command_computes_the_year_it_is_given(world: World) -> None:
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 4, 1): "1000.00"})
    out = StringIO()
    call_command("compute_subsidies", "--year", "2024", stdout=out)
    assert out.getvalue().strip() == "2024: 1 created, 0 updated, 0 unchanged, 0 voided"
    assert Statement.objects.filter(operator=world.company_a, year=2024).exists()


def test_running_the_task_twice_leaves_one_statement(world: World) -> None:
    factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 4, 1): "1000.00"})
    tasks.compute_statements.delay(2024)
    tasks.compute_statements.delay(2024)
    assert Statement.objects.filter(operator=world.company_a, year=2024).count() == 1


def test_the_nightly_run_also_recomputes_earlier_years_with_statements(world: World) -> None:
    trip = factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 4, 1): "1000.00"})
    tasks.compute_statements.delay(2024)
    factories.reject(trip)
    tasks.compute_current_year.delay()
    assert Statement.objects.get(operator=world.company_a, year=2024).km == 0


def test_the_beat_schedule_names_registered_tasks() -> None:
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled >= {
        "subsidies.compute_current_year",
        "subsidies.compute_previous_year",
        "subsidies.check_ledger",
        "subsidies.deep_check",
    }
    # What a worker loads at start (every app's tasks module), not what this test imported.
    app.loader.import_default_modules()
    assert scheduled <= set(app.tasks)
