"""Fixtures for any hardening test: the seeded world of tests/hardening/seed.py, built once
per module (`seeded`), and a real API token for each of its actors (`tokens`)."""

from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.hardening.seed import seeded, tokens  # noqa: F401 - fixtures


@pytest.fixture(scope="module", autouse=True)
def one_person_office_for_the_seed() -> Iterator[None]:
    # The module-scoped seed issues and pays as one finance officer with no notice period,
    # before any function-scoped `settings` fixture runs (tests/conftest.py).
    with override_settings(FOUR_EYES=False, PUBLIC_NOTICE_WORKING_DAYS=0):
        yield
