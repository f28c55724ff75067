"""Objections come from anyone, without an account: counted per client address in the
shared cache (OBJECTION_RATE, DRF's rate syntax), for the page and the API alike."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from operators.throttling import client_address


class ObjectionThrottle(SimpleRateThrottle):
    scope = "objection"

    def get_rate(self) -> str:
        return str(settings.OBJECTION_RATE)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


def page_objection_allowed(request: HttpRequest) -> bool:
    """The same count for the web form (a 429 page when over)."""
    return ObjectionThrottle().allow_request(Request(request), APIView())
