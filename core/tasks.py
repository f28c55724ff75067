"""What every Celery task that touches the database shares."""

from typing import Any

from django.db import OperationalError

# Acknowledged only once done (a killed worker's task runs again: every task is idempotent),
# and retried with back-off while the database is unreachable.
RETRYING: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}
