"""Celery tasks for payments: thin and idempotent. Beat runs `check_payments` nightly."""

from celery import shared_task

from core.tasks import RETRYING

from . import integrity


@shared_task(name="payments.check_payments", **RETRYING)
def check_payments() -> dict[str, int]:
    """The nightly re-derivation of batches and clawbacks (logged and audited)."""
    return {"broken": len(integrity.payments_check())}
