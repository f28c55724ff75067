"""yangquan-av: the project package, also the app for shared pieces (audit trail, roles)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
