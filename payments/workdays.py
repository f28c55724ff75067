"""Working days on the PRC calendar: weekends and public holidays off, make-up working days
(调休) on, from the `chinese-calendar` package, which refuses years it has no data for.

Periods are counted as the Civil Code counts days (民法典第二百零一条): the day of the
event does not count, the period starts the next day.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.utils.translation import gettext as _

from core.errors import ApplicationError


def is_working_day(day: dt.date) -> bool:
    """Whether offices work on `day`; refused (400) for a year the calendar does not know."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as unknown:
        raise ApplicationError(
            _(
                "The PRC holiday calendar installed (chinese-calendar %(version)s) has no "
                "holidays for %(year)s yet: install a release that has them, then try again."
            )
            % {"version": chinese_calendar.__version__, "year": day.year},
            field="issued_on",
        ) from unknown


def working_days_after(day: dt.date, count: int) -> tuple[dt.date, dt.date]:
    """The first and last of the `count` working days after `day` (count ≥ 1)."""
    found: list[dt.date] = []
    current = day
    while len(found) < count:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            found.append(current)
    return found[0], found[-1]
