"""Working days on the PRC calendar: weekends and public holidays off, make-up working days
(调休) on.

Each year's schedule is the State Council's notice of the year before. A year is known when
finance has entered its schedule (WorkCalendarYear, used in preference; of a corrected
year, the newest revision) or the installed
`chinese-calendar` package has it; the package only knows the years up to its release, so
every December finance enters the next year's schedule (docs/operations.md). A date in a
year known neither way is refused, naming the year and where to enter it.

Periods are counted as the Civil Code counts days (民法典第二百零一条): the day of the
event does not count, the period starts the next day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import chinese_calendar
from django.urls import reverse
from django.utils.translation import gettext as _

from core.errors import ApplicationError

from .models import WorkCalendarDay, WorkCalendarYear

SATURDAY = 5  # date.weekday()


def package_years() -> range:
    """The years the installed `chinese-calendar` has holidays for."""
    years = {day.year for day in chinese_calendar.holidays}
    return range(min(years), max(years) + 1)


def in_effect(year: int) -> WorkCalendarYear | None:
    """The revision of the year's entered schedule in effect (the newest), None if none."""
    return WorkCalendarYear.objects.filter(year=year).order_by("-revision").first()


def _entered(year: int) -> dict[dt.date, bool] | None:
    """An entered year's exceptions (day → is a working day), None if it was not entered."""
    calendar = in_effect(year)
    if calendar is None:
        return None
    days = WorkCalendarDay.objects.filter(calendar=calendar).values_list("day", "kind")
    return {day: kind == WorkCalendarDay.Kind.WORKDAY for day, kind in days}


def unknown_year_message(year: int) -> str:
    known = package_years()
    return _(
        "No holiday schedule is known for %(year)s (the installed chinese-calendar %(version)s "
        "knows %(first)s–%(last)s): a finance officer enters the State Council's %(year)s "
        "schedule on the Working-day calendar page (%(url)s), then try again."
    ) % {
        "year": year,
        "version": chinese_calendar.__version__,
        "first": known.start,
        "last": known.stop - 1,
        "url": reverse("payments:work_calendar"),
    }


def _calendar_of(year: int) -> Callable[[dt.date], bool]:
    entered = _entered(year)
    if entered is not None:
        return lambda day: entered.get(day, day.weekday() < SATURDAY)
    if year in package_years():
        return lambda day: bool(chinese_calendar.is_workday(day))
    raise ApplicationError(unknown_year_message(year), field="issued_on")


def is_working_day(day: dt.date) -> bool:
    """Whether offices work on `day`; refused (400) for a year no calendar knows."""
    return _calendar_of(day.year)(day)


def working_days_after(day: dt.date, count: int) -> tuple[dt.date, dt.date]:
    """The first and last of the `count` working days after `day` (count ≥ 1)."""
    found: list[dt.date] = []
    calendars: dict[int, Callable[[dt.date], bool]] = {}
    current = day
    while len(found) < count:
        current += dt.timedelta(days=1)
        if current.year not in calendars:
            calendars[current.year] = _calendar_of(current.year)
        if calendars[current.year](current):
            found.append(current)
    return found[0], found[-1]


@dataclass(frozen=True)
class DayRange:
    """Consecutive days of one kind in an official schedule, e.g. 春节 2027-02-06–02-13."""

    start: dt.date
    end: dt.date
    kind: str
    name: str


_LINE = re.compile(
    r"^(?P<start>\d{4}-\d{2}-\d{2})(?:\s*(?:\.\.|~|–|—)\s*(?P<end>\d{4}-\d{2}-\d{2}))?"
    r"\s+(?P<kind>holiday|workday|放假|上班)\s+(?P<name>\S.*)$"
)
# The State Council's notices say 放假 and 上班: the schedule may be typed in either language.
_KINDS = {"holiday": "holiday", "workday": "workday", "放假": "holiday", "上班": "workday"}


def parse_ranges(text: str) -> list[DayRange]:
    """Ranges from lines such as `2027-02-06..2027-02-13 holiday 春节` and
    `2027-02-14 workday 春节调休`, or 放假 and 上班 for the kinds (blank lines and lines
    from # on are skipped)."""
    ranges = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _LINE.match(line)
        try:
            if match is None:
                raise ValueError
            start = dt.date.fromisoformat(match["start"])
            end = dt.date.fromisoformat(match["end"]) if match["end"] else start
        except ValueError:
            raise ApplicationError(
                _(
                    "Line %(line)s: write a day or a range, holiday or workday, and a name, "
                    "e.g. “2027-02-06..2027-02-13 holiday 春节”."
                )
                % {"line": number},
                field="ranges",
            ) from None
        ranges.append(DayRange(start, end, _KINDS[match["kind"]], match["name"].strip()))
    return ranges


def format_ranges(days: Iterable[WorkCalendarDay]) -> str:
    """An entered schedule's days as the lines `parse_ranges` reads: consecutive days of
    one kind and name make one range (the starting point of a correction)."""
    ranges: list[DayRange] = []
    for entry in sorted(days, key=lambda d: d.day):
        last = ranges[-1] if ranges else None
        if (
            last is not None
            and (last.kind, last.name) == (entry.kind, entry.name)
            and entry.day == last.end + dt.timedelta(days=1)
        ):
            ranges[-1] = DayRange(last.start, entry.day, last.kind, last.name)
        else:
            ranges.append(DayRange(entry.day, entry.day, entry.kind, entry.name))
    return "\n".join(
        f"{r.start} {r.kind} {r.name}"
        if r.start == r.end
        else f"{r.start}..{r.end} {r.kind} {r.name}"
        for r in ranges
    )
