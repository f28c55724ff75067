"""Correcting an entered year's holiday schedule: a new revision (source, reason, who, when)
supersedes the one in effect, which stays readable; nothing entered is ever changed; a
notice already computed keeps its dates.

The 2027 schedules here are made up (the real one is the State Council's to publish):
revision 1 has 元旦 Fri 2027-01-01 … Sun 01-03 off and Sat 01-09 a make-up working day;
revision 2 says 元旦 runs to Mon 01-04, the make-up day unchanged."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditRecord
from payments import services
from payments.models import Notice, WorkCalendarDay, WorkCalendarYear
from payments.notice import notice_period
from payments.workdays import DayRange, format_ranges, is_working_day, parse_ranges
from tests.conftest import World, client_for
from tests.payments.conftest import Office, approved, issue
from tests.payments.test_work_calendar import MADE_UP_2027, SOURCE, enter_2027

pytestmark = [pytest.mark.django_db, pytest.mark.after_statement]

CORRECTED_2027 = [
    DayRange(dt.date(2027, 1, 1), dt.date(2027, 1, 4), "holiday", "元旦"),
    DayRange(dt.date(2027, 1, 9), dt.date(2027, 1, 9), "workday", "元旦调休"),
]
CORRECTION_SOURCE = "国办发明电〔2026〕100号（测试用，虚构）"
REASON = "元旦假期录成了三天，通知为四天"


def correct_2027(world: World, **more: Any) -> WorkCalendarYear:
    return services.work_calendar_correct(
        actor=world.finance,
        year=2027,
        source=CORRECTION_SOURCE,
        ranges=CORRECTED_2027,
        reason=REASON,
        **more,
    )


def test_a_correction_is_a_new_revision_in_effect_and_the_first_stays(world: World) -> None:
    first = enter_2027(world)
    # Revision 1: issued Thu 2026-12-31, 2027-01-01..03 off; Mon 01-04 (1) … Fri 01-08 (5).
    assert notice_period(dt.date(2026, 12, 31), 5) == (dt.date(2027, 1, 4), dt.date(2027, 1, 8))

    second = correct_2027(world)

    assert (second.revision, second.source, second.reason) == (2, CORRECTION_SOURCE, REASON)
    assert (second.entered_by, first.revision) == (world.finance, 1)
    # Revision 2: 01-04 is off too: Tue 01-05 (1) … Fri 01-08 (4), Sat 01-09 make-up (5).
    assert not is_working_day(dt.date(2027, 1, 4))
    assert notice_period(dt.date(2026, 12, 31), 5) == (dt.date(2027, 1, 5), dt.date(2027, 1, 9))
    # The first revision is untouched: its own three holidays and the make-up day.
    first.refresh_from_db()
    assert [(d.day.day, d.kind) for d in first.days.all()] == [
        (1, "holiday"),
        (2, "holiday"),
        (3, "holiday"),
        (9, "workday"),
    ]
    assert first.source == SOURCE
    assert WorkCalendarDay.objects.filter(calendar=second).count() == 5  # 01-01..04, 01-09
    record = AuditRecord.objects.filter(action="schedule").order_by("id").last()
    assert record is not None
    assert (record.reason, record.changes["days"][1][0]) == (
        REASON,
        "2027-01-01..2027-01-04 holiday 元旦",
    )


def test_a_third_revision_supersedes_the_second(world: World) -> None:
    enter_2027(world)
    correct_2027(world)
    third = correct_2027(world, seen_revision=2)
    assert third.revision == 3
    assert list(WorkCalendarYear.objects.values_list("revision", flat=True)) == [3, 2, 1]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reason": "  "}, "reason", "更正理由"),
        ({"year": 2028}, "year", "尚未录入 2028"),
        ({"seen_revision": 2}, "seen_revision", "已被他人更正（第 1 版）"),
        ({"source": ""}, "source", "国办发明电"),
        ({"ranges": [MADE_UP_2027[1]]}, "ranges", "放假"),
    ],
    ids=["no-reason", "never-entered", "stale", "no-source", "no-holiday"],
)
def test_a_wrong_correction_is_refused_and_nothing_is_written(
    world: World, change: dict[str, Any], field: str, message: str
) -> None:
    enter_2027(world)
    before = AuditRecord.objects.count()
    arguments = {
        "actor": world.finance,
        "year": 2027,
        "source": CORRECTION_SOURCE,
        "ranges": CORRECTED_2027,
        "reason": REASON,
        **change,
    }
    with pytest.raises(ApplicationError, match=message) as refused:
        services.work_calendar_correct(**arguments)
    assert refused.value.field == field
    assert WorkCalendarYear.objects.count() == 1
    assert AuditRecord.objects.count() == before


def test_a_stale_correction_is_refused_after_another_correction(world: World) -> None:
    enter_2027(world)
    correct_2027(world, seen_revision=1)
    with pytest.raises(ApplicationError, match="第 2 版") as refused:
        correct_2027(world, seen_revision=1)
    assert refused.value.field == "seen_revision"
    assert WorkCalendarYear.objects.count() == 2


def test_the_database_refuses_a_correction_without_a_reason(world: World) -> None:
    enter_2027(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkCalendarYear.objects.create(
            year=2027,
            revision=2,
            source=CORRECTION_SOURCE,
            reason="",
            entered_by=world.finance,
            entered_at=timezone.now(),
        )


def test_the_database_refuses_to_change_any_revision(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist on PostgreSQL only")
    enter_2027(world)
    correct_2027(world)
    for sql in (
        "UPDATE payments_workcalendaryear SET reason = 'x' WHERE revision = 2",
        "UPDATE payments_workcalendaryear SET revision = 3 WHERE revision = 1",
        "DELETE FROM payments_workcalendaryear WHERE revision = 2",
        "UPDATE payments_workcalendarday SET kind = 'workday' WHERE day = '2027-01-04'",
        "DELETE FROM payments_workcalendarday WHERE day = '2027-01-04'",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            connection.cursor().execute(sql)
    assert list(WorkCalendarYear.objects.values_list("revision", "reason")) == [
        (2, REASON),
        (1, ""),
    ]


def test_a_notice_computed_before_a_correction_keeps_its_dates(
    world: World, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue on Thu 2026-12-31, as if it were that day (the issue date cannot be in the future).
    real = timezone.localdate
    monkeypatch.setattr(
        timezone,
        "localdate",
        lambda value=None, tz=None: dt.date(2026, 12, 31) if value is None else real(value, tz),
    )
    enter_2027(world)
    statement = issue(
        office, approved(world, office), number="阳财建〔2026〕31号", on=dt.date(2026, 12, 31)
    )
    # Revision 1: the notice runs Mon 2027-01-04 … Fri 01-08.
    assert Notice.objects.values_list("starts_on", "ends_on").get(statement=statement) == (
        dt.date(2027, 1, 4),
        dt.date(2027, 1, 8),
    )
    correct_2027(world)
    # Stored, not recomputed: revision 2 would say 01-05 … 01-09.
    assert Notice.objects.values_list("starts_on", "ends_on").get(statement=statement) == (
        dt.date(2027, 1, 4),
        dt.date(2027, 1, 8),
    )


def test_an_entered_schedule_reads_back_as_the_lines_it_was_entered_with(world: World) -> None:
    text = format_ranges(enter_2027(world).days.all())
    assert text == "2027-01-01..2027-01-03 holiday 元旦\n2027-01-09 workday 元旦调休"
    assert parse_ranges(text) == MADE_UP_2027


# --- the page --------------------------------------------------------------------------------


def browser_for(world: World) -> Client:
    client = Client()
    client.force_login(world.finance)
    return client


def seen_revision(page: bytes) -> str:
    found = re.search(r'name="seen_revision" value="(\d+)"', page.decode())
    assert found is not None, "the form carries no revision"
    return found.group(1)


CORRECTED_TEXT = "2027-01-01..2027-01-04 holiday 元旦\n2027-01-09 workday 元旦调休"


def test_finance_corrects_a_year_on_the_page_and_reads_both_revisions(world: World) -> None:
    enter_2027(world)
    client = browser_for(world)
    page = client.get("/payments/calendar/").content.decode()
    assert 'href="?correct=2027#calendar-enter"' in page
    form = client.get("/payments/calendar/?correct=2027").content.decode()
    # The form starts from the revision in effect.
    assert "2027-01-01..2027-01-03 holiday 元旦" in form
    assert "更正 2027 年放假安排" in form
    done = client.post(
        "/payments/calendar/?correct=2027",
        {
            "source": CORRECTION_SOURCE,
            "ranges": CORRECTED_TEXT,
            "reason": REASON,
            "seen_revision": seen_revision(form.encode()),
        },
        follow=True,
    )
    shown = done.content.decode()
    assert "2027 年放假安排已更正（第 2 版）" in shown
    assert f"更正理由：{REASON}" in shown
    assert "此前 1 个版本，已不再适用" in shown
    assert "第 1 版（已被取代）" in shown
    assert SOURCE in shown
    assert CORRECTION_SOURCE in shown
    assert WorkCalendarYear.objects.count() == 2


def test_a_correction_without_a_reason_names_the_field(world: World) -> None:
    enter_2027(world)
    response = browser_for(world).post(
        "/payments/calendar/?correct=2027",
        {"source": CORRECTION_SOURCE, "ranges": CORRECTED_TEXT, "reason": "", "seen_revision": 1},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert WorkCalendarYear.objects.count() == 1


def test_a_stale_correction_page_is_refused_and_nothing_is_written(world: World) -> None:
    enter_2027(world)
    first, second = browser_for(world), browser_for(world)
    seen_first = seen_revision(first.get("/payments/calendar/?correct=2027").content)
    seen_second = seen_revision(second.get("/payments/calendar/?correct=2027").content)
    data = {"source": CORRECTION_SOURCE, "ranges": CORRECTED_TEXT, "reason": REASON}
    assert (
        first.post(
            "/payments/calendar/?correct=2027", {**data, "seen_revision": seen_first}
        ).status_code
        == 302
    )
    response = second.post(
        "/payments/calendar/?correct=2027",
        {**data, "reason": "另一处错误", "seen_revision": seen_second},
    )
    assert response.status_code == 200
    (error,) = response.context["form"].non_field_errors()
    assert "在您打开此页面之后已被他人更正（第 2 版）" in error
    assert list(WorkCalendarYear.objects.values_list("revision", "reason")) == [
        (2, REASON),
        (1, ""),
    ]


def test_the_correction_page_of_a_year_never_entered_is_not_offered(world: World) -> None:
    response = browser_for(world).get("/payments/calendar/?correct=2028", follow=True)
    assert response.redirect_chain == [("/payments/calendar/", 302)]
    assert "尚未录入 2028 年放假安排，无可更正。" in response.content.decode()


# --- the API ---------------------------------------------------------------------------------


def test_finance_corrects_a_year_over_the_api_and_lists_every_revision(world: World) -> None:
    enter_2027(world)
    api = client_for(world.finance)
    body = {
        "year": 2027,
        "source": CORRECTION_SOURCE,
        "ranges": [
            {"start": "2027-01-01", "end": "2027-01-04", "kind": "holiday", "name": "元旦"},
            {"start": "2027-01-09", "kind": "workday", "name": "元旦调休"},
        ],
    }
    again = api.post("/api/v1/work-calendar/", body, format="json")
    assert again.status_code == 400
    assert "已录入" in again.json()["year"][0]
    stale = api.post(
        "/api/v1/work-calendar/", {**body, "reason": REASON, "seen_revision": 2}, format="json"
    )
    assert stale.status_code == 400
    assert "seen_revision" in stale.json()
    done = api.post(
        "/api/v1/work-calendar/", {**body, "reason": REASON, "seen_revision": 1}, format="json"
    )
    assert done.status_code == 201, done.content
    assert (done.json()["revision"], done.json()["reason"]) == (2, REASON)
    in_effect = api.get("/api/v1/work-calendar/2027/").json()
    assert (in_effect["revision"], in_effect["days"][3]["day"]) == (2, "2027-01-04")
    listed = api.get("/api/v1/work-calendar/").json()["results"]
    assert [(c["year"], c["revision"]) for c in listed] == [(2027, 2), (2027, 1)]
