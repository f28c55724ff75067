"""Times of fixes: UTC epoch nanoseconds and aware datetimes, and local calendar days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]

NS = 1_000_000_000


def epoch_ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("aware datetimes only")
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS + delta.microseconds * 1000


def utc_datetime(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


def local_days(t_ns: IntArray, tz: str) -> tuple[list[date], npt.NDArray[np.integer[Any]]]:
    """Local calendar day of each time, via the day boundaries in `tz` (handles DST).

    The day numbers in the smallest integer type that holds them: a byte per step, not 8.
    """
    zone = ZoneInfo(tz)
    first = utc_datetime(int(t_ns[0])).astimezone(zone).date()
    last = utc_datetime(int(t_ns[-1])).astimezone(zone).date()
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    bounds = np.asarray(
        [epoch_ns(datetime(d.year, d.month, d.day, tzinfo=zone)) for d in days[1:]], dtype=np.int64
    )
    index = np.searchsorted(bounds, t_ns, side="right")
    return days, index.astype(np.min_scalar_type(len(days)))
