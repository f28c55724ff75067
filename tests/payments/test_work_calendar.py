"""The working-day calendar for years chinese-calendar does not know: finance enters a
year's official schedule, and notices may then run into that year.

The 2027 schedule here is made up (the real one is the State Council's to publish):
元旦 Fri 2027-01-01 … Sun 01-03 off, and Sat 2027-01-09 a make-up working day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from core.errors import ApplicationError
from core.models import AuditRecord
from payments import services
from payments.models import WorkCalendarDay, WorkCalendarYear
from payments.notice import notice_period
from payments.workdays import DayRange, is_working_day, package_years, parse_ranges
from tests.conftest import World, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.after_statement]

MADE_UP_2027 = [
    DayRange(dt.date(2027, 1, 1), dt.date(2027, 1, 3), "holiday", "元旦"),
    DayRange(dt.date(2027, 1, 9), dt.date(2027, 1, 9), "workday", "元旦调休"),
]


def _one(day: dt.date, kind: str) -> DayRange:
    return DayRange(day, day, kind, "x")


SOURCE = "国办发明电〔2026〕99号（测试用，虚构）"


def enter_2027(world: World) -> WorkCalendarYear:
    return services.work_calendar_enter(
        actor=world.finance, year=2027, source=SOURCE, ranges=MADE_UP_2027
    )


def test_the_installed_package_stops_at_2026_so_2027_must_be_entered() -> None:
    assert package_years()[-1] == 2026
    with pytest.raises(ApplicationError) as refused:
        notice_period(dt.date(2026, 12, 31), 5)
    # Names the year, and where to enter it.
    assert "2027" in refused.value.message
    assert "/payments/calendar/" in refused.value.message
    assert refused.value.field == "issued_on"


def test_a_notice_runs_into_an_entered_year_with_its_holidays_and_makeup_day(
    world: World,
) -> None:
    enter_2027(world)
    # Issued Thu 2026-12-31 (the package's last year; the day of issue does not count).
    # 2027: Fri 01-01, Sat 01-02, Sun 01-03 holiday; Mon 01-04 (1) … Fri 01-08 (5),
    # Sat 01-09 make-up (6), Sun 01-10 off, Mon 01-11 (7).
    assert notice_period(dt.date(2026, 12, 31), 5) == (dt.date(2027, 1, 4), dt.date(2027, 1, 8))
    assert notice_period(dt.date(2026, 12, 31), 7) == (dt.date(2027, 1, 4), dt.date(2027, 1, 11))
    assert [is_working_day(dt.date(2027, 1, d)) for d in (1, 4, 9, 10)] == [
        False,
        True,
        True,
        False,
    ]


def test_entering_a_year_records_who_from_what_source_and_audits_the_ranges(
    world: World,
) -> None:
    calendar = enter_2027(world)
    assert (calendar.source, calendar.entered_by) == (SOURCE, world.finance)
    assert [(d.day, d.kind) for d in calendar.days.all()] == [
        (dt.date(2027, 1, 1), "holiday"),
        (dt.date(2027, 1, 2), "holiday"),
        (dt.date(2027, 1, 3), "holiday"),
        (dt.date(2027, 1, 9), "workday"),
    ]
    record = AuditRecord.objects.filter(action="schedule").get()
    assert record.changes["days"][1] == [
        "2027-01-01..2027-01-03 holiday 元旦",
        "2027-01-09..2027-01-09 workday 元旦调休",
    ]


@pytest.mark.parametrize(
    ("year", "ranges", "message"),
    [
        (2026, MADE_UP_2027, "已包含 2026"),
        (2027, [MADE_UP_2027[1]], "放假日"),
        (2027, [_one(dt.date(2028, 1, 1), "holiday")], "2028"),
        (
            2027,
            [*MADE_UP_2027, DayRange(dt.date(2027, 1, 4), dt.date(2027, 1, 4), "workday", "x")],
            "周六或周日",
        ),
        (
            2027,
            [*MADE_UP_2027, DayRange(dt.date(2027, 1, 3), dt.date(2027, 1, 5), "holiday", "y")],
            "2027-01-03",
        ),
        (2027, [DayRange(dt.date(2027, 1, 3), dt.date(2027, 1, 1), "holiday", "z")], "早于"),
    ],
    ids=["package-year", "no-holiday", "other-year", "weekday-workday", "overlap", "backwards"],
)
def test_a_wrong_schedule_is_refused_and_nothing_is_entered(
    world: World, year: int, ranges: list[DayRange], message: str
) -> None:
    with pytest.raises(ApplicationError, match=message):
        services.work_calendar_enter(actor=world.finance, year=year, source=SOURCE, ranges=ranges)
    assert not WorkCalendarYear.objects.exists()


def test_a_year_is_entered_once(world: World) -> None:
    enter_2027(world)
    with pytest.raises(ApplicationError, match="已录入"):
        enter_2027(world)


def test_only_finance_enters_a_schedule(world: World) -> None:
    response = client_for(world.bureau).post(
        "/api/v1/work-calendar/", {"year": 2027, "source": SOURCE, "ranges": []}, format="json"
    )
    assert response.status_code == 403


def test_finance_enters_and_reads_a_schedule_over_the_api(world: World) -> None:
    client = client_for(world.finance)
    response = client.post(
        "/api/v1/work-calendar/",
        {
            "year": 2027,
            "source": SOURCE,
            "ranges": [
                {"start": "2027-01-01", "end": "2027-01-03", "kind": "holiday", "name": "元旦"},
                {"start": "2027-01-09", "kind": "workday", "name": "元旦调休"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = client.get("/api/v1/work-calendar/2027/").json()
    assert [d["day"] for d in body["days"]] == [
        "2027-01-01",
        "2027-01-02",
        "2027-01-03",
        "2027-01-09",
    ]
    refused = client.post(
        "/api/v1/work-calendar/",
        {
            "year": 2026,
            "source": SOURCE,
            "ranges": [{"start": "2026-01-01", "kind": "holiday", "name": "元旦"}],
        },
        format="json",
    )
    assert refused.status_code == 400
    assert "2026" in str(refused.json())


def test_ranges_are_read_from_lines_and_a_bad_line_is_named() -> None:
    text = "# 2027（虚构）\n2027-01-01..2027-01-03 holiday 元旦\n\n2027-01-09 workday 元旦调休\n"
    assert parse_ranges(text) == MADE_UP_2027
    # As the State Council's notice words it.
    assert parse_ranges(text.replace("holiday", "放假").replace("workday", "上班")) == MADE_UP_2027
    with pytest.raises(ApplicationError, match="第 2 行") as refused:
        parse_ranges("2027-01-01 holiday 元旦\n2027-02-30 holiday 春节\n")
    assert refused.value.field == "ranges"


def test_finance_enters_a_year_on_the_page(world: World, client: Client) -> None:
    client.force_login(world.finance)
    page = client.get("/payments/calendar/")
    assert page.status_code == 200
    assert "2004–2026" in page.content.decode()
    bad = client.post(
        "/payments/calendar/",
        {"year": 2027, "source": SOURCE, "ranges": "2027-01-01 holiday 元旦\n2027-01-04 workday x"},
    )
    assert bad.status_code == 200
    assert "周六或周日" in bad.content.decode()
    done = client.post(
        "/payments/calendar/",
        {"year": 2027, "source": SOURCE, "ranges": "2027-01-01..2027-01-03 holiday 元旦"},
        follow=True,
    )
    assert "2027" in done.content.decode()
    assert WorkCalendarDay.objects.count() == 3


def test_the_database_refuses_to_change_an_entered_schedule(world: World) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the triggers exist on PostgreSQL only")
    enter_2027(world)
    for sql in (
        "UPDATE payments_workcalendarday SET kind = 'workday' WHERE day = '2027-01-01'",
        "DELETE FROM payments_workcalendarday",
        "UPDATE payments_workcalendaryear SET source = 'x'",
        "DELETE FROM payments_workcalendaryear",
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            connection.cursor().execute(sql)
