"""Data protection (issue #7 item 6): who reads raw data, what is logged, login throttling,
security headers, no internals in a 500, and the retention rule for raw tracks."""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from core.errors import ApplicationError
from core.models import AuditRecord
from core.roles import Role
from core.security import tile_source
from operators.models import User
from subsidies.computation import statements_compute
from subsidies.models import Statement
from tests import factories
from tests.conftest import World, client_for
from tests.subsidies import factories as subsidy_factories
from tests.trips.csvtrace import straight_east
from trips import retention as trip_retention
from trips import services as trip_services
from trips.models import Trip

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def processed_trip(world: World, *, metres: float = 300, start: dt.datetime = T0) -> Trip:
    trip, _ = trip_services.trip_upload(
        actor=world.staff_a,
        vin=world.vehicle_a.vin,
        data=straight_east(start=start, metres=metres),
        original_name="trip.csv",
    )
    return trip_services.trip_process(trip_id=trip.pk)


def fresh_user() -> User:
    # A name of its own: the login throttle's counts outlive a test in a shared cache (Redis).
    return factories.user(Role.BUREAU, username=f"guess-{secrets.token_hex(6)}")


# --- who may read raw data ------------------------------------------------------------------


def test_raw_file_and_trace_are_another_companys_404_and_the_bureaus_to_read(
    world: World,
) -> None:
    trip = processed_trip(world)
    other = client_for(world.staff_b)
    assert other.get(f"/api/v1/trips/{trip.pk}/raw/").status_code == 404
    assert other.get(f"/api/v1/trips/{trip.pk}/trace/").status_code == 404
    assert client_for(world.bureau).get(f"/api/v1/trips/{trip.pk}/raw/").status_code == 200
    assert client_for(world.staff_a).get(f"/api/v1/trips/{trip.pk}/trace/").status_code == 200


def test_every_statement_export_and_the_public_notice_download_is_logged(world: World) -> None:
    subsidy_factories.trip(vehicle=world.vehicle_a, days={dt.date(2024, 3, 1): "1000.00"})
    subsidy_factories.grade(actor=world.bureau, operator=world.company_a, year=2024, grade="A")
    statements_compute(year=2024)
    statement = Statement.objects.get(operator=world.company_a)
    finance = client_for(world.finance)
    for kind in ("pdf", "xlsx", "csv"):
        assert finance.get(f"/api/v1/statements/{statement.pk}/{kind}/").status_code == 200
    notice = finance.get("/api/v1/statements/public-notice/", {"year": "2024", "file": "xlsx"})
    assert notice.status_code == 200
    logged = AuditRecord.objects.filter(actor=world.finance, action__startswith="download_")
    assert sorted(logged.values_list("action", flat=True)) == [
        "download_csv",
        "download_pdf",
        "download_public_notice",
        "download_xlsx",
    ]
    assert logged.get(action="download_pdf").object_id == str(statement.pk)
    assert logged.get(action="download_public_notice").changes == {
        "year": [None, 2024],
        "file": [None, "xlsx"],
    }


def test_a_path_in_the_uploaded_name_is_never_a_storage_path_nor_a_download_name(
    world: World,
) -> None:
    data = straight_east(start=T0, metres=100)
    trip, _ = trip_services.trip_upload(
        actor=world.staff_a, vin=world.vehicle_a.vin, data=data, original_name="../../etc/passwd"
    )
    # Content-addressed: the stored name is the hash, whatever the uploader called the file.
    assert trip.raw_file.name == f"raw/{trip.raw_sha256[:2]}/{trip.raw_sha256}"
    response = client_for(world.staff_a).get(f"/api/v1/trips/{trip.pk}/raw/")
    assert response["Content-Disposition"] == 'attachment; filename="passwd"'


# --- login throttling -------------------------------------------------------------------------


def test_token_endpoint_answers_429_after_too_many_failures_even_to_the_right_password(
    settings: Any,
) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    user = fresh_user()
    client = APIClient()
    wrong = {"username": user.username, "password": "not-the-password"}
    right = {"username": user.username, "password": factories.PASSWORD}
    for _ in range(3):
        assert client.post("/api/v1/auth/token/", wrong, REMOTE_ADDR="10.1.1.1").status_code == 401
    refused = client.post("/api/v1/auth/token/", right, REMOTE_ADDR="10.1.1.1")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW_S
    # The owner, from another address, is not locked out by someone guessing.
    assert client.post("/api/v1/auth/token/", right, REMOTE_ADDR="10.2.2.2").status_code == 200


def test_a_successful_login_clears_the_failure_count(settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    user = fresh_user()
    client = APIClient()
    wrong = {"username": user.username, "password": "not-the-password"}
    right = {"username": user.username, "password": factories.PASSWORD}
    for _ in range(2):
        client.post("/api/v1/auth/token/", wrong, REMOTE_ADDR="10.1.1.1")
    assert client.post("/api/v1/auth/token/", right, REMOTE_ADDR="10.1.1.1").status_code == 200
    for _ in range(2):
        client.post("/api/v1/auth/token/", wrong, REMOTE_ADDR="10.1.1.1")
    assert client.post("/api/v1/auth/token/", right, REMOTE_ADDR="10.1.1.1").status_code == 200


def test_web_login_says_so_and_refuses_after_too_many_failures(settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LANGUAGE_CODE = "en"
    user = fresh_user()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies["django_language"] = "en"
    for _ in range(3):
        client.post("/accounts/login/", {"username": user.username, "password": "nope"})
    form = client.post(
        "/accounts/login/", {"username": user.username, "password": factories.PASSWORD}
    )
    assert form.status_code == 200  # the form again, not a redirect into the UI
    assert "_auth_user_id" not in client.session
    assert b"Too many failed logins. Try again in 15 minutes." in form.content


def test_admin_login_counts_against_the_same_throttle(settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    user = factories.user(Role.ADMIN, username=f"admin-{secrets.token_hex(6)}")
    client = APIClient()
    for _ in range(3):
        client.post("/api/v1/auth/token/", {"username": user.username, "password": "nope"})
    admin = Client()
    admin.post("/admin/login/", {"username": user.username, "password": factories.PASSWORD})
    assert "_auth_user_id" not in admin.session


def test_with_the_cache_down_logins_and_uploads_go_on_unthrottled(
    world: World, settings: Any
) -> None:
    # Redis holds the throttles' counts; nothing listens on port 1. The throttles fail open.
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    settings.LOGIN_FAILURE_LIMIT = 1
    settings.TRIP_UPLOAD_RATE = "1/min"
    user = fresh_user()
    client = APIClient()
    wrong = {"username": user.username, "password": "not-the-password"}
    right = {"username": user.username, "password": factories.PASSWORD}
    assert client.post("/api/v1/auth/token/", wrong).status_code == 401
    assert client.post("/api/v1/auth/token/", right).status_code == 200
    uploader = client_for(world.staff_a)
    for metres in (300, 400):
        data = straight_east(start=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC), metres=metres)
        response = uploader.post(
            "/api/v1/trips/",
            {"vin": world.vehicle_a.vin, "file": io.BytesIO(data)},
            format="multipart",
        )
        assert response.status_code == 202, response.content


# --- headers ------------------------------------------------------------------------------------


def test_web_pages_carry_csp_and_the_other_security_headers(client: Client) -> None:
    response = client.get("/accounts/login/")
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}", "https://*.tianditu.gov.cn"),
        ("https://tiles.example.cn:8443/{z}/{x}/{y}.png", "https://tiles.example.cn:8443"),
        ("", None),
        ("/tiles/{z}/{x}/{y}.png", None),  # same origin: 'self' already covers it
    ],
)
def test_the_tile_host_becomes_a_csp_image_source(url: str, source: str | None) -> None:
    assert tile_source(url) == source


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_answers_with_hsts_and_lets_the_tile_host_into_img_src(
    tmp_path: Path,
) -> None:
    script = (
        "from django.test import Client\n"
        "r = Client().get('/api/v1/vehicles/', secure=True, HTTP_HOST='ledger.example.cn')\n"
        "print(r.status_code)\n"
        "print(r['Strict-Transport-Security'])\n"
        "print(r['Content-Security-Policy'])\n"
    )
    result = run_manage(
        "shell",
        "-c",
        script,
        env={
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "ledger.example.cn",
            "VAR_DIR": str(tmp_path),
            "MAP_TILE_URL": "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}",
        },
    )
    assert result.returncode == 0, result.stderr
    status, hsts, csp = result.stdout.strip().splitlines()[-3:]
    assert status == "401"
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert "img-src 'self' data: https://*.tianditu.gov.cn" in csp


# --- no internals in a 500 -------------------------------------------------------------------


SECRET_MARK = "SELECT password FROM operators_user -- secret"


@pytest.fixture
def broken_trip_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: the trip selector fails with SQL and a secret in its message."""

    def fail(**kwargs: Any) -> Any:
        raise RuntimeError(SECRET_MARK)

    monkeypatch.setattr("trips.api.trip_list", fail)
    monkeypatch.setattr("trips.views.trip_list", fail)


def test_an_unexpected_api_error_is_a_json_500_without_traceback_or_sql(
    world: World, settings: Any, broken_trip_list: None
) -> None:
    settings.DEBUG = False
    client = client_for(world.staff_a)
    client.raise_request_exception = False
    response = client.get("/api/v1/trips/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}
    for leak in (SECRET_MARK, "Traceback", "RuntimeError", "SECRET_KEY", "DATABASES"):
        assert leak not in response.content.decode()


def test_an_unexpected_page_error_is_a_plain_page_without_traceback_or_sql(
    world: World, settings: Any, broken_trip_list: None
) -> None:
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(world.staff_a)
    response = client.get("/trips/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "服务器错误" in body or "Server error" in body
    for leak in (SECRET_MARK, "Traceback", "RuntimeError", "SECRET_KEY", "DATABASES"):
        assert leak not in body


# --- retention -------------------------------------------------------------------------------


def aged(trip: Trip, days: int) -> Trip:
    Trip.objects.filter(pk=trip.pk).update(received_at=timezone.now() - dt.timedelta(days=days))
    trip.refresh_from_db()
    return trip


def test_purge_deletes_old_raw_files_and_traces_but_keeps_hash_and_totals(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TRIP_RAW_RETENTION_DAYS = 365
    old = aged(processed_trip(world, metres=300), days=400)
    recent = aged(processed_trip(world, metres=200, start=T0 + dt.timedelta(hours=2)), days=10)
    before = (old.raw_sha256, old.total_m, old.autonomous_m, old.eligible_m, old.status)
    days_before = list(old.days.values_list("day", "autonomous_m", "eligible_m"))
    raw_path, trace_path = str(old.raw_file.name), str(old.trace_file.name)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_raw_tracks", "--commit", stdout=io.StringIO())
    old.refresh_from_db()
    assert old.raw_purged_at is not None
    assert (old.raw_sha256, old.total_m, old.autonomous_m, old.eligible_m, old.status) == before
    assert list(old.days.values_list("day", "autonomous_m", "eligible_m")) == days_before
    assert not default_storage.exists(raw_path)
    assert not default_storage.exists(trace_path)
    assert default_storage.exists(str(recent.raw_file.name))
    assert Trip.objects.get(pk=recent.pk).raw_purged_at is None
    record = AuditRecord.objects.get(action="purge_raw", object_id=str(old.pk))
    assert record.actor is None
    assert record.changes["trace_file"] == [trace_path, ""]


def test_a_purged_trip_answers_410_for_raw_and_trace_and_cannot_be_verified_again(
    world: World,
) -> None:
    trip = processed_trip(world)
    trip = trip_retention.trip_raw_purge(trip_id=trip.pk, actor=None, reason="test")
    client = client_for(world.staff_a)
    for kind in ("raw", "trace"):
        response = client.get(f"/api/v1/trips/{trip.pk}/{kind}/")
        assert response.status_code == 410
        assert "按保存期限删除" in response.json()["detail"]  # "deleted under the retention rule"
    assert not AuditRecord.objects.filter(action="download_raw").exists()
    with pytest.raises(ApplicationError, match="按保存期限删除"):
        trip_services.trip_reverify(actor=world.bureau, trip=trip, reason="again")
    refused = client_for(world.bureau).post(
        f"/api/v1/trips/{trip.pk}/reverify/", {"reason": "again"}, format="json"
    )
    assert refused.status_code == 400


def test_dry_run_lists_and_deletes_nothing(world: World, settings: Any) -> None:
    settings.TRIP_RAW_RETENTION_DAYS = 30
    trip = aged(processed_trip(world), days=31)
    out = io.StringIO()
    call_command("purge_raw_tracks", stdout=out)
    assert f"trip {trip.pk} {trip.raw_sha256}" in out.getvalue()
    trip.refresh_from_db()
    assert trip.raw_purged_at is None
    assert default_storage.exists(str(trip.raw_file.name))


def test_a_year_with_an_unissued_statement_keeps_its_raw_files(world: World, settings: Any) -> None:
    settings.TRIP_RAW_RETENTION_DAYS = 30
    trip = aged(processed_trip(world), days=31)
    held = {(world.company_a.pk, 2026)}
    assert (
        trip_retention.raw_purge_candidates(
            received_before=timezone.now() - dt.timedelta(days=30), held=held
        )
        == []
    )
    assert trip_retention.raw_purge_candidates(
        received_before=timezone.now() - dt.timedelta(days=30), held={(world.company_b.pk, 2026)}
    ) == [trip]


def test_a_trip_still_being_decided_is_never_purged(world: World) -> None:
    trip = processed_trip(world)
    Trip.objects.filter(pk=trip.pk).update(status=Trip.Status.NEEDS_REVIEW)
    with pytest.raises(ApplicationError):
        trip_retention.trip_raw_purge(trip_id=trip.pk, actor=None, reason="test")


def test_a_raw_file_shared_with_another_vehicles_trip_stays_until_both_are_purged(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    data = straight_east(start=T0, metres=150)
    second_vehicle = factories.vehicle(actor=world.bureau, operator=world.company_a)
    first, _ = trip_services.trip_upload(actor=world.staff_a, vin=world.vehicle_a.vin, data=data)
    other, _ = trip_services.trip_upload(actor=world.staff_a, vin=second_vehicle.vin, data=data)
    assert first.raw_file.name == other.raw_file.name  # stored once by content
    for trip in (first, other):
        trip_services.trip_process(trip_id=trip.pk)
    # The same bytes for a second vehicle are held as a copy (issue 11); rejected, it is final.
    trip_services.trip_review(actor=world.bureau, trip=other, accept=False, reason="a copy")
    with django_capture_on_commit_callbacks(execute=True):
        trip_retention.trip_raw_purge(trip_id=first.pk, actor=None, reason="test")
    assert default_storage.exists(str(other.raw_file.name))
    with django_capture_on_commit_callbacks(execute=True):
        trip_retention.trip_raw_purge(trip_id=other.pk, actor=None, reason="test")
    assert not default_storage.exists(str(other.raw_file.name))


def test_purge_refuses_to_run_without_a_retention_setting(settings: Any) -> None:
    settings.TRIP_RAW_RETENTION_DAYS = None
    with pytest.raises(CommandError, match="TRIP_RAW_RETENTION_DAYS"):
        call_command("purge_raw_tracks")


def test_a_purged_trips_page_says_so_and_offers_no_download_or_reverification(
    world: World,
) -> None:
    trip = processed_trip(world)
    trip_retention.trip_raw_purge(trip_id=trip.pk, actor=None, reason="test")
    client = Client()
    client.force_login(world.bureau)
    page = client.get(f"/trips/{trip.pk}/").content.decode()
    assert "按保存期限删除" in page  # "deleted under the retention rule"
    assert f"/api/v1/trips/{trip.pk}/raw/" not in page
    assert f"/trips/{trip.pk}/reverify/" not in page


def test_raw_files_and_traces_have_no_url_of_their_own(world: World) -> None:
    # Only the scoped, audited endpoints serve them: nothing maps the media directory.
    trip = processed_trip(world)
    client = Client()
    client.force_login(world.staff_a)
    for name in (trip.raw_file.name, trip.trace_file.name):
        assert client.get(f"/media/{name}").status_code == 404
