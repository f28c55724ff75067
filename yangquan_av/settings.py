"""Settings, all from the environment.

With nothing set this is the embedded default: SQLite under var/, Celery tasks run
eagerly in-process, files under var/media/, DEBUG on. Production sets at least
SECRET_KEY, DEBUG=false, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL (docs/operations.md).
"""

from pathlib import Path

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from core.basemap import base_map
from trips.replay.params import DEFAULT_REPLAY_PARAMS

django_stubs_ext.monkeypatch()  # lets admin and DRF generics be subscripted at run time

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)
# The fallback key only ever serves the embedded default (DEBUG on); production must set one.
SECRET_KEY = env.str("SECRET_KEY", default="" if not DEBUG else "embedded-default-insecure-key")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY in the environment when DEBUG is off.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "operators",
    "routes",
    "telemetry",
    "recorder",
    "trips",
    "subsidies",
    "payments",
    "yangquan_av",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # TRACE and CONNECT are a 405 on every path, before a view is chosen (docs/api.md).
    "core.middleware.RefuseTraceMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # LocaleMiddleware that keeps pages in Chinese unless the person switches (docs/ui.md).
    "core.web.PageLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "yangquan_av.urls"
WSGI_APPLICATION = "yangquan_av.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.web.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web server, the gateway, the MQTT ingest and a worker write at once (docs/telemetry.md):
    # WAL lets readers run beside the one writer, IMMEDIATE takes the write lock at BEGIN (no
    # deadlocked upgrade from a read), and a writer waits up to SQLITE_TIMEOUT_S for the lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env.float("SQLITE_TIMEOUT_S", default=20.0),
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "operators.User"
# The model backend behind a check of the login throttle (docs/security.md).
AUTHENTICATION_BACKENDS = ["operators.auth.ThrottledModelBackend"]
# Failed logins per username and address in the window before logins are refused (429).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_FAILURE_WINDOW_S = env.int("LOGIN_FAILURE_WINDOW_S", default=900)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The embedded default keeps SQLite and files here; make it so a fresh clone just runs.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The UI's CSS and JS, and the vendored Leaflet and htmx (static/vendor/README.md).
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"

# Raw uploads go to the default storage: local disk unless an S3-compatible bucket is set.
if env.str("S3_BUCKET", default=""):
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default=None),
            "region_name": env.str("S3_REGION", default=None),
            "access_key": env.str("S3_ACCESS_KEY", default=None),
            "secret_key": env.str("S3_SECRET_KEY", default=None),
            "file_overwrite": False,
            "default_acl": None,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# The throttles' counters live in the cache, so with several web processes it must be shared:
# Redis when REDIS_URL is set, else this process's memory (the embedded default). The cache
# only throttles: with Redis down, django-redis answers as if empty (logged) and short
# timeouts keep a request from waiting on it, so uploads and logins go on unthrottled
# rather than fail (docs/operations.md).
_cache_url = env.str("REDIS_URL", default="")
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
CACHES = {
    "default": (
        {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": _cache_url,
            "KEY_PREFIX": "yq",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: a real broker when REDIS_URL (or CELERY_BROKER_URL) is set, else eager in-process.
_broker = env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default=""))
CELERY_TASK_ALWAYS_EAGER = not _broker
CELERY_BROKER_URL = _broker or "memory://"  # never used while eager; keeps kombu quiet
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
# An upload must not hang on a broker that is down or unreachable (docs/operations.md): a
# refused or silent connection gives up within seconds, the trip stays stored as `received`
# and the sweep below queues it once the broker is back. A message whose worker was killed
# comes back after Redis's visibility timeout (one hour, stated here, longer than any task);
# the sweep usually gets there first.
# A broker that accepts connections but never answers (hung, half-open): without a socket
# timeout a publish waits forever.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5}
# Trips still `received` (or queued for re-verification) this long are queued again.
TRIP_REQUEUE_AFTER_S = env.int("TRIP_REQUEUE_AFTER_S", default=600)
# Subsidies (docs/subsidies.md): progress figures nightly, the year just ended on 15 January,
# the ledger consistency check nightly after the computation, its deep form weekly.
# Trips: the sweep of trips whose queue message was lost (docs/operations.md).
CELERY_BEAT_SCHEDULE = {
    "trips-requeue-stale": {
        "task": "trips.requeue_stale",
        "schedule": crontab(minute="*/5"),
    },
    "subsidies-nightly": {
        "task": "subsidies.compute_current_year",
        "schedule": crontab(hour=2, minute=30),
    },
    "subsidies-previous-year": {
        "task": "subsidies.compute_previous_year",
        "schedule": crontab(hour=3, minute=30, day_of_month=15, month_of_year=1),
    },
    "subsidies-ledger-check": {
        "task": "subsidies.check_ledger",
        "schedule": crontab(hour=4, minute=30),
    },
    # The deep check (every issued trip verified again from its raw file): weekly, Saturday
    # 22:00 local, so that even a full-scale year (~75 min, bench/README.md) ends long before
    # the nightly computation at 02:30.
    "subsidies-deep-check": {
        "task": "subsidies.deep_check",
        "schedule": crontab(hour=22, minute=0, day_of_week="saturday"),
    },
    # Live telemetry: close live trips whose stream fell silent or stood still.
    "telemetry-close-live-trips": {
        "task": "trips.close_live_trips",
        "schedule": env.float("LIVE_SWEEP_S", default=30.0),
    },
    "subsidies-sweep-copies": {
        "task": "subsidies.sweep_copies",
        "schedule": crontab(hour=5, minute=0),
    },
    # Payments: batches, clawbacks and their ledger re-derived (docs/subsidies.md).
    "payments-check": {"task": "payments.check_payments", "schedule": crontab(hour=4, minute=45)},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "operators.auth.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["core.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "yangquan-av API",
    "DESCRIPTION": "Mileage and subsidy ledger for Yangquan's autonomous-driving pilot.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the sidecar package, served by the app: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Several models have a "status" (and trips a "mode"): name each choice set once.
    "ENUM_NAME_OVERRIDES": {
        "OperatorStatusEnum": "operators.models.Operator.Status",
        "VehicleStatusEnum": "operators.models.Vehicle.Status",
        "SegmentStatusEnum": "routes.models.RoadSegment.Status",
        "TripStatusEnum": "trips.models.Trip.Status",
        "TripModeEnum": "trips.models.Trip.Mode",
        "StatementStatusEnum": "subsidies.models.Statement.Status",
        "StatementKindEnum": "subsidies.models.Statement.Kind",
        "LedgerEntryKindEnum": "subsidies.models.LedgerEntry.Kind",
        "SegmentKindEnum": "routes.models.RoadSegment.Kind",
        "GradeEnum": "subsidies.models.Assessment.Grade",
        "IncidentStatusEnum": "recorder.models.Incident.Status",
        "WorkCalendarDayKindEnum": "payments.models.WorkCalendarDay.Kind",
    },
}

# After the statement (docs/subsidies.md): the approver does not issue, the issuer of a
# payment batch does not mark it paid (off only for a one-person office; audited either way).
FOUR_EYES = env.bool("FOUR_EYES", default=True)
# Working days (PRC calendar) an issued statement is on public notice (公示) before payment;
# 0: no notice.
PUBLIC_NOTICE_WORKING_DAYS = env.int("PUBLIC_NOTICE_WORKING_DAYS", default=5)
# Objections posted per client address (anyone may object, without an account).
OBJECTION_RATE = env.str("OBJECTION_RATE", default="5/hour")

# Geometry: all lengths are measured in this metric CRS (CGCS2000 / 3-degree GK, CM 114°E).
METRIC_CRS = env.str("METRIC_CRS", default="EPSG:4547")
# Where segments and traces may lie (WGS-84 lon/lat): Yangquan municipality with a margin.
SERVICE_AREA_BBOX = tuple(
    env.list("SERVICE_AREA_BBOX", cast=float, default=[112.9, 37.5, 114.1, 38.4])
)
# Base-map tiles for the UI's maps, e.g. 天地图 (docs/ui.md, "Base-map tiles").
# Empty: no base map, the vector layers show on a plain background. Tiles must be WGS-84 /
# CGCS2000; GCJ-02 web maps (most commercial ones) would put every layer ~500 m off.
MAP_TILE_URL = env.str("MAP_TILE_URL", default="")
MAP_TILE_ATTRIBUTION = env.str("MAP_TILE_ATTRIBUTION", default="")
# The tile source: tianditu (needs TIANDITU_KEY), osm, custom (MAP_TILE_URL) or none; empty
# picks custom when MAP_TILE_URL is set, else tianditu when a key is set, else none.
MAP_TILES = env.str("MAP_TILES", default="")
TIANDITU_KEY = env.str("TIANDITU_KEY", default="")
try:
    BASE_MAP = base_map(
        tiles=MAP_TILES,
        tianditu_key=TIANDITU_KEY,
        tile_url=MAP_TILE_URL,
        attribution=MAP_TILE_ATTRIBUTION,
    )
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

# Road segments: the plan's target of two-way operating kilometres, and the import limit.
PLAN_TWO_WAY_TARGET_KM = env.float("PLAN_TWO_WAY_TARGET_KM", default=200.0)
SEGMENT_IMPORT_MAX_BYTES = env.int("SEGMENT_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)

# Trip logs: upload limits (beyond them 413/400).
TRIP_MAX_BYTES = env.int("TRIP_MAX_BYTES", default=64 * 1024 * 1024)
TRIP_MAX_POINTS = env.int("TRIP_MAX_POINTS", default=2_000_000)


def _verify_env(key: str, default: float, *, old: str = "") -> float:
    """TRIP_VERIFY_<key> from the environment, else its name before TRIP_VERIFY (`old`)."""
    if old:
        default = env.float(old, default=default)
    value: float = env.float(f"TRIP_VERIFY_{key}", default=default)
    return value


# Every verification threshold, read in one place (trips.verification.params.verify_params)
# and stored with each trip's result; docs/verification.md has the rules, and
# docs/configuration.md each key's environment variable. The CRS and the days' time zone
# are the project's own: zones are projected in METRIC_CRS, days are local in TIME_ZONE.
TRIP_VERIFY: dict[str, float | int | str] = {
    "MAX_SPEED_KMH": _verify_env("MAX_SPEED_KMH", 150.0, old="TRIP_MAX_SPEED_KMH"),
    "MAX_GAP_S": _verify_env("MAX_GAP_S", 10.0, old="TRIP_MAX_GAP_S"),
    "METRIC_CRS": METRIC_CRS,
    "TZ": TIME_ZONE,
    "MAX_DURATION_S": _verify_env("MAX_DURATION_S", 24 * 3600, old="TRIP_MAX_DURATION_S"),
    "EARLIEST_YEAR": env.int("TRIP_VERIFY_EARLIEST_YEAR", default=2000),
    "MAX_FUTURE_S": _verify_env("MAX_FUTURE_S", 600.0),
    "STOP_WINDOW_S": _verify_env("STOP_WINDOW_S", 10.0),
    "STOP_RADIUS_M": _verify_env("STOP_RADIUS_M", 5.0),
    "REVIEW_OUTLIER_SHARE": _verify_env("REVIEW_OUTLIER_SHARE", 0.01),
    "REVIEW_OUTLIER_RUN_S": _verify_env("REVIEW_OUTLIER_RUN_S", 10.0),
    "REVIEW_GAP_SHARE": _verify_env("REVIEW_GAP_SHARE", 0.10),
    "REVIEW_GAP_S": _verify_env("REVIEW_GAP_S", 300.0),
    "REVIEW_GAP_JUMP_M": _verify_env("REVIEW_GAP_JUMP_M", 1000.0),
    "REVIEW_ODOMETER_SHARE": _verify_env("REVIEW_ODOMETER_SHARE", 0.05),
    "REVIEW_ODOMETER_MIN_M": _verify_env("REVIEW_ODOMETER_MIN_M", 200.0),
    "EDGE_GRID_M": _verify_env("EDGE_GRID_M", 8.0),
    "REVIEW_RECORDER_SHARE": _verify_env("REVIEW_RECORDER_SHARE", 0.01),
    "REVIEW_RECORDER_MIN_M": _verify_env("REVIEW_RECORDER_MIN_M", 100.0),
    # Copy detection and plausibility (trips.replay.ReplayParams; docs/decisions/0004):
    # each default from DEFAULT_REPLAY_PARAMS, overridable as TRIP_VERIFY_<KEY>.
    **{
        key.upper(): (
            env.int(f"TRIP_VERIFY_{key.upper()}", default=value)
            if isinstance(value, int)
            else _verify_env(key.upper(), value)
        )
        for key, value in DEFAULT_REPLAY_PARAMS.items()
        if key not in ("metric_crs", "max_gap_s")  # the same as verification's
    },
}
# Uploads per API token (DRF rate syntax: N/s, N/min, N/hour, N/day); beyond it 429.
TRIP_UPLOAD_RATE = env.str("TRIP_UPLOAD_RATE", default="120/min")
# Days a raw file is kept after upload before `purge_raw_tracks` may delete it (hash and
# verified totals stay); unset keeps raw files forever.
TRIP_RAW_RETENTION_DAYS = env.int("TRIP_RAW_RETENTION_DAYS", default=None)

# Live telemetry (docs/telemetry.md): the JT/T 808 gateway and the MQTT ingest.
# A live trip closes after this long without a fix received, or standing still this long.
LIVE_TRIP_IDLE_S = env.float("LIVE_TRIP_IDLE_S", default=300.0)
# "Standing still": every fix of the idle window within this radius of their centre.
LIVE_STATIONARY_RADIUS_M = env.float("LIVE_STATIONARY_RADIUS_M", default=15.0)
# How often the gateway and the ingest run the closing sweep themselves (eager Celery) and
# beat runs it (with a broker).
LIVE_SWEEP_S = env.float("LIVE_SWEEP_S", default=30.0)
# The sweep reads fixes of this much recent fix time (older backfills make no trip).
LIVE_SWEEP_LOOKBACK_S = env.float("LIVE_SWEEP_LOOKBACK_S", default=24 * 3600.0)
# Upload-vs-stream cross-check: held for review beyond these.
LIVE_MISMATCH_MEDIAN_M = env.float("LIVE_MISMATCH_MEDIAN_M", default=20.0)
LIVE_MISMATCH_KM_SHARE = env.float("LIVE_MISMATCH_KM_SHARE", default=0.02)
# The live map polls positions this often.
LIVE_MAP_REFRESH_S = env.float("LIVE_MAP_REFRESH_S", default=5.0)
# JT/T 808: the driving-mode extra item of a location (1 autonomous, 0 manual; absent manual).
JT808_MODE_EXTRA_ID = env.int("JT808_MODE_EXTRA_ID", default=0xE1)
# A connection that sends nothing (not even a heartbeat) this long is closed.
JT808_IDLE_TIMEOUT_S = env.float("JT808_IDLE_TIMEOUT_S", default=180.0)
# MQTT: the shared-subscription group and the client id prefix of ingest processes.
MQTT_GROUP = env.str("MQTT_GROUP", default="yq-ingest")
MQTT_TOPIC = env.str("MQTT_TOPIC", default="yq/av/+/telemetry")
# The fix writer: a batch goes to the database at this many fixes or this age.
TELEMETRY_BATCH_FIXES = env.int("TELEMETRY_BATCH_FIXES", default=2000)
TELEMETRY_BATCH_S = env.float("TELEMETRY_BATCH_S", default=0.1)
# Raw archives: a terminal-day chunk is written at this many messages or this age.
TELEMETRY_ARCHIVE_MESSAGES = env.int("TELEMETRY_ARCHIVE_MESSAGES", default=20_000)
TELEMETRY_ARCHIVE_S = env.float("TELEMETRY_ARCHIVE_S", default=300.0)
# Days fixes stay in the database; older days may go to Parquet (`export_fixes`).
TELEMETRY_FIX_RETENTION_DAYS = env.int("TELEMETRY_FIX_RETENTION_DAYS", default=90)
# Data-recorder events (docs/recorder.md): an exit from ADS is system-initiated when a
# takeover request came this many seconds before it; a collision's report is due this many
# hours after it; the raw file of a trip with an incident is kept at least this many days
# after the incident whatever TRIP_RAW_RETENTION_DAYS says; the import's size limit.
TAKEOVER_WINDOW_S = env.float("TAKEOVER_WINDOW_S", default=10.0)
INCIDENT_REPORT_DUE_H = env.float("INCIDENT_REPORT_DUE_H", default=24.0)
INCIDENT_RAW_RETENTION_DAYS = env.int("INCIDENT_RAW_RETENTION_DAYS", default=366)
ADS_EVENT_IMPORT_MAX_BYTES = env.int("ADS_EVENT_IMPORT_MAX_BYTES", default=256 * 1024 * 1024)

# Content-Security-Policy for the web UI (django-csp): scripts and styles only from our own
# static files; style attributes are allowed because the templates size bars and colour
# swatches with them (no script can be injected through one); map tiles from MAP_TILE_URL.
_tiles = BASE_MAP.csp_sources()
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", *_tiles],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
