"""Celery tasks for subsidies: thin, idempotent, safe to retry (acks late).

Beat (settings.CELERY_BEAT_SCHEDULE) runs `compute_current_year` nightly,
`compute_previous_year` on 15 January, `check_ledger` nightly after the computation and
`deep_check` weekly.
"""

from celery import shared_task

from core.tasks import RETRYING
from operators.models import User

from . import computation, integrity, selectors


# Keeps its registered name (and Python name) from before the service became
# `statements_compute`: messages already queued, beat and the docs use it.
@shared_task(name="subsidies.compute_statements", **RETRYING)
def compute_statements(year: int, actor_id: int | None = None) -> dict[str, int]:
    """`actor_id` is whoever asked (audited as the actor); None for the scheduler."""
    actor = User.objects.get(pk=actor_id) if actor_id is not None else None
    summary = computation.statements_compute(year=year, actor=actor)
    return {
        "year": year,
        "created": len(summary.created),
        "updated": len(summary.updated),
        "voided": len(summary.voided),
    }


@shared_task(name="subsidies.compute_current_year", **RETRYING)
def compute_current_year() -> None:
    """Progress figures for the year so far, and corrections to earlier years' statements."""
    for year in selectors.years_to_recompute():
        computation.statements_compute(year=year)


@shared_task(name="subsidies.compute_previous_year", **RETRYING)
def compute_previous_year() -> None:
    """The year just ended, once companies have had two weeks to upload its last trips."""
    computation.statements_compute(year=selectors.current_year() - 1)


@shared_task(name="subsidies.check_ledger", **RETRYING)
def check_ledger() -> dict[str, int]:
    """The nightly consistency check; what it finds is logged and audited by the service."""
    check = integrity.ledger_check()
    return {
        "statements": check.statements,
        "broken": check.broken_count,
        "pending": len(check.pending),
    }


# Acknowledged on receipt, unlike the others: a full-scale year takes longer than the
# broker's visibility timeout (one hour), after which an unacknowledged message would be
# delivered again and a second check start beside the first. A check lost with its worker
# is read-only and runs again next week (or by hand: `check_ledger --deep`).
@shared_task(name="subsidies.deep_check", **{**RETRYING, "acks_late": False})
def deep_check(year: int | None = None) -> dict[str, int]:
    """The weekly deep check: the nightly check, and every trip of an issued statement (of
    `year`, if given) verified again from its raw file; logged and audited by the service."""
    check = integrity.ledger_check(deep=True, year=year)
    return {
        "statements": check.statements,
        "trips": check.deep.trips if check.deep else 0,
        "broken": check.broken_count,
        "pending": len(check.pending),
    }


@shared_task(name="subsidies.sweep_copies", **RETRYING)
def sweep_copies() -> dict[str, int]:
    """Nightly: accepted trips not yet issued against all others (logged; a dry report)."""
    report = integrity.copies_report()
    return {
        "trips": report.trips,
        "conflicts": len(report.findings),
        "overlaps": len(report.overlaps),
    }
