"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yangquan_av.settings")
application = get_wsgi_application()

# Loaded at process start rather than inside the first company's upload (about 0.15 s once
# per process, which showed in the load script's p95): the task modules, Celery's task
# registry, result backend and producer pool (objects only: they connect when first used),
# and the cache backend with the Redis client.
from django.core.cache import caches  # noqa: E402 - after the settings are set up

from .celery import app as celery_app  # noqa: E402

celery_app.loader.import_default_modules()
celery_app.finalize()
celery_app.backend  # noqa: B018 - a property that makes it
celery_app.producer_pool  # noqa: B018 - likewise
caches["default"]  # (the backend object: each thread makes its own, the modules once)
