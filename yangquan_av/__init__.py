"""yangquan-av: the project package (settings, URLs, Celery app, root views)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
