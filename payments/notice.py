"""The public notice (公示) an issued statement goes through before payment, and what keeps
a payment back: the notice still running, an objection not yet decided, or an upheld one
not yet followed by an adjustment. Called by subsidies' issue and payment services through
their hooks (payments/apps.py), so every way of paying obeys it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import model_create
from subsidies.models import Statement

from .models import Notice, Objection
from .workdays import working_days_after

if TYPE_CHECKING:
    from operators.models import User


def notice_period(issued_on: dt.date, working_days: int) -> tuple[dt.date, dt.date]:
    """First and last day of a notice of `working_days` working days issued on `issued_on`."""
    return working_days_after(issued_on, working_days)


def open_on_issue(statement: Statement, actor: User) -> None:
    """Open the statement's notice (none when PUBLIC_NOTICE_WORKING_DAYS is 0)."""
    days = int(settings.PUBLIC_NOTICE_WORKING_DAYS)
    if days <= 0 or statement.issued_on is None:
        return
    starts_on, ends_on = notice_period(statement.issued_on, days)
    model_create(
        instance=Notice(
            statement=statement,
            issued_on=statement.issued_on,
            working_days=days,
            starts_on=starts_on,
            ends_on=ends_on,
        ),
        actor=actor,
    )


def is_open(notice: Notice, *, today: dt.date | None = None) -> bool:
    return (today or timezone.localdate()) <= notice.ends_on


def payment_refusal(statement: Statement) -> str | None:
    """Why the statement may not be paid yet, in words finance can act on; None if it may."""
    notice = Notice.objects.filter(statement=statement).first()
    if notice is not None and is_open(notice):
        return _("The public notice runs until %(end)s: the payment may go out from %(next)s.") % {
            "end": notice.ends_on,
            "next": notice.ends_on + dt.timedelta(days=1),
        }
    pending = Objection.objects.filter(statement=statement, status=Objection.Status.OPEN)
    first = pending.order_by("submitted_at", "pk").first()
    if first is not None:
        return _(
            "Objection #%(id)s (received %(day)s) is not decided yet: uphold or dismiss it first."
        ) % {"id": first.pk, "day": timezone.localdate(first.submitted_at)}
    upheld = (
        Objection.objects.filter(statement=statement, status=Objection.Status.UPHELD)
        .order_by("-resolved_at")
        .first()
    )
    if upheld is not None and upheld.resolved_at is not None:
        adjusted = Statement.objects.filter(
            operator_id=statement.operator_id,
            year=statement.year,
            kind=Statement.Kind.ADJUSTMENT,
            status__in=Statement.ISSUED_STATUSES,
            issued_at__gt=upheld.resolved_at,
        ).exists()
        if not adjusted:
            return _(
                "Objection #%(id)s was upheld: correct the trips or the grade, and issue the "
                "adjustment before paying."
            ) % {"id": upheld.pk}
    return None
