"""When a segment version counts: its validity window, defined once and read two ways.

A version is **valid at instant t** when it was ever approved (`approved_at` set: the current
status does not matter, docs/routes.md) and t lies in its window **[valid_from, valid_to)**:
`valid_from <= t`, and `valid_to` empty (open-ended) or `t < valid_to`.

A window whose end is not after its start (`valid_to <= valid_from`, e.g. [t, t) for a
version suspended before it started) is **empty**: never valid. A version is **valid during
[start, end)** when it is valid at some instant of it: its window is not empty,
`valid_from < end`, and `valid_to` empty or `valid_to > start`.

Each rule is written here twice, side by side: as a pure predicate on Python values (the zone
cache, the services) and as a `Q` for the database (selectors, filters, forms). Nothing else
spells them out; tests/routes/test_validity.py checks that both readings agree on generated
windows and instants, boundaries, open ends and empty windows included.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q

# Rows that were ever approved carry a window; the status does not matter.
EVER_APPROVED = Q(approved_at__isnull=False)
# The window is not empty (no end, or an end after the start).
NONEMPTY_WINDOW = Q(valid_to__isnull=True) | Q(valid_to__gt=F("valid_from"))


def window_is_empty(valid_from: dt.datetime, valid_to: dt.datetime | None) -> bool:
    """Whether [valid_from, valid_to) holds no instant (the negation of `NONEMPTY_WINDOW`)."""
    return valid_to is not None and valid_to <= valid_from


def window_contains(valid_from: dt.datetime, valid_to: dt.datetime | None, at: dt.datetime) -> bool:
    """Whether instant `at` lies in [valid_from, valid_to); `valid_to` None is open-ended."""
    return valid_from <= at and (valid_to is None or at < valid_to)


def window_meets(
    valid_from: dt.datetime, valid_to: dt.datetime | None, start: dt.datetime, end: dt.datetime
) -> bool:
    """Whether [valid_from, valid_to) and [start, end) share an instant."""
    return (
        not window_is_empty(valid_from, valid_to)
        and valid_from < end
        and (valid_to is None or valid_to > start)
    )


def is_valid_at(
    *,
    approved_at: dt.datetime | None,
    valid_from: dt.datetime | None,
    valid_to: dt.datetime | None,
    at: dt.datetime,
) -> bool:
    """A version's fields: approved and valid at `at` (`valid_at_q` in SQL)."""
    return (
        approved_at is not None
        and valid_from is not None
        and window_contains(valid_from, valid_to, at)
    )


def is_valid_during(
    *,
    approved_at: dt.datetime | None,
    valid_from: dt.datetime | None,
    valid_to: dt.datetime | None,
    start: dt.datetime,
    end: dt.datetime,
) -> bool:
    """A version's fields: approved and valid at some instant of [start, end)
    (`valid_during_q` in SQL)."""
    return (
        approved_at is not None
        and valid_from is not None
        and window_meets(valid_from, valid_to, start, end)
    )


def valid_at_q(at: dt.datetime) -> Q:
    """Versions approved and valid at `at` (`is_valid_at` in Python). An empty window
    contains no instant, so it needs no clause of its own here."""
    return EVER_APPROVED & Q(valid_from__lte=at) & (Q(valid_to__isnull=True) | Q(valid_to__gt=at))


def valid_during_q(start: dt.datetime, end: dt.datetime) -> Q:
    """Versions approved and valid at some instant of [start, end) (`is_valid_during`)."""
    return (
        EVER_APPROVED
        & NONEMPTY_WINDOW
        & Q(valid_from__lt=end)
        & (Q(valid_to__isnull=True) | Q(valid_to__gt=start))
    )
