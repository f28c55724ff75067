import importlib

import pytest
from django.apps import apps

# The seeded policy (data migration 0002) is emptied by tests that use transactional_db,
# which flush every table when they end; put it back for any test that uses the database.
_seed = importlib.import_module("subsidies.migrations.0002_seed_policy").seed


@pytest.fixture(autouse=True)
def default_policy(request: pytest.FixtureRequest) -> None:
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
    elif request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
    else:
        return
    _seed(apps, None)
