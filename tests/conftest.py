"""Shared fixtures: one user per role, two companies, API clients with real tokens."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient

from core.roles import Role
from operators.models import Operator, User, Vehicle
from operators.services import token_create
from tests import factories
from tests.core.audit_guard import flush_past_the_audit_guard  # noqa: F401 - autouse
from tests.storage.seaweed import s3_server  # noqa: F401 - a fixture for any test
from tests.worker import celery_worker  # noqa: F401 - a fixture for any test
from yangquan_av.celery import app as celery_app

# Property tests check properties, not speed: on a shared 2-core CI machine input generation
# and single examples can be slow without anything being wrong.
settings.register_profile("yangquan", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("yangquan")


@dataclass
class World:
    bureau: User
    finance: User
    admin: User
    company_a: Operator
    company_b: Operator
    staff_a: User
    staff_b: User
    vehicle_a: Vehicle
    vehicle_b: Vehicle


@pytest.fixture(autouse=True)
def eager_tasks() -> None:
    # Tasks run in-process unless a test asks for the real worker (tests/worker.py), also
    # when REDIS_URL is set for the suite.
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def default_language() -> None:
    # Each test starts in the site's default language (zh-hans): a request of an earlier
    # test in the same xdist worker can leave another active in the thread.
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # PBKDF2's deliberate slowness is for attackers, not for a test suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def one_person_office(request: pytest.FixtureRequest, settings: Any) -> None:
    # Tests written before four eyes and the public notice (issue 15) act as one finance
    # officer paying at once; tests of those rules (tests/payments, ...) mark themselves
    # `after_statement` and run with the production defaults.
    if request.node.get_closest_marker("after_statement") is None:
        settings.FOUR_EYES = False
        settings.PUBLIC_NOTICE_WORKING_DAYS = 0
        # Objections are counted per address in the shared cache, for an hour: the suite's
        # many requests from 127.0.0.1 (and an earlier run's, in Redis) must not add up.
        settings.OBJECTION_RATE = "100000/hour"


@pytest.fixture
def world(db: None) -> World:
    return make_world()


def make_world() -> World:
    """The world's rows, for fixtures of a wider scope than a test (tests/hardening)."""
    bureau = factories.user(Role.BUREAU)
    company_a = factories.operator(actor=bureau, name="甲公司")
    company_b = factories.operator(actor=bureau, name="乙公司")
    return World(
        bureau=bureau,
        finance=factories.user(Role.FINANCE),
        admin=factories.user(Role.ADMIN),
        company_a=company_a,
        company_b=company_b,
        staff_a=factories.user(Role.OPERATOR, company_a),
        staff_b=factories.user(Role.OPERATOR, company_b),
        vehicle_a=factories.vehicle(actor=bureau, operator=company_a),
        vehicle_b=factories.vehicle(actor=bureau, operator=company_b),
    )


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)}")
    return client
