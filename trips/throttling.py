"""The upload rate limit, shared by the API's upload and the web UI's upload form."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from operators.models import ApiToken


class UploadThrottle(SimpleRateThrottle):
    """Uploads per API token (`TRIP_UPLOAD_RATE`); a session (the web UI) counts per user.

    Keyed by the token's hash, not its owner: each integration of a company has its own
    budget, and a revoked and re-issued token starts afresh. The web UI's form uploads count
    against the user's budget too. The counts live in the default cache, shared by every web
    process in production (Redis).
    """

    scope = "uploads"

    def get_rate(self) -> str:
        # Read at each request, not once at import like DRF's DEFAULT_THROTTLE_RATES.
        return str(settings.TRIP_UPLOAD_RATE)

    def get_cache_key(self, request: Request | HttpRequest, view: APIView | None) -> str:
        # The web form's upload (a plain Django request, no view) counts with the API's.
        auth = getattr(request, "auth", None)
        ident = auth.key_hash if isinstance(auth, ApiToken) else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_form_upload(self, request: HttpRequest) -> bool:
        # DRF's bookkeeping, for a request that is no API call: only get_cache_key reads the
        # request and the view.
        return self.allow_request(request, None)  # type: ignore[arg-type]
