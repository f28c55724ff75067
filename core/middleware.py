"""Middleware of the shared app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

REFUSED_METHODS = frozenset({"TRACE", "CONNECT"})
# Where the route's own methods cannot be read (a function view, a URL nothing answers).
USUAL_METHODS = ("GET", "HEAD", "OPTIONS", "POST")


def allowed_methods(path: str) -> list[str]:
    """The methods the route at `path` answers, as an `Allow` header lists them."""
    try:
        view = resolve(path).func
    except Resolver404:
        return list(USUAL_METHODS)
    actions: dict[str, str] | None = getattr(view, "actions", None)  # a DRF viewset's route
    view_class: type | None = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if actions is not None:
        methods = set(actions) | {"options"}
    elif view_class is not None:
        names: list[str] = getattr(view_class, "http_method_names", [])
        methods = {name for name in names if hasattr(view_class, name)}
    else:
        return list(USUAL_METHODS)
    if "get" in methods:
        methods.add("head")
    return sorted(method.upper() for method in methods if method.upper() not in REFUSED_METHODS)


class RefuseTraceMiddleware:
    """TRACE and CONNECT answer 405 on every path, before any view is chosen.

    A DRF view answers a method with its method of that name: a viewset's `trace` action
    (`/trips/{id}/trace/`) answered TRACE on every route of the viewset, past the route's
    own permissions. Refusing here holds for every view, API and web, present and future.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in REFUSED_METHODS:
            return self.get_response(request)
        allowed = allowed_methods(request.path_info)
        if request.path_info.startswith("/api/"):
            detail = _('Method "{method}" not allowed.').format(method=request.method)
            response: HttpResponse = JsonResponse({"detail": detail}, status=405)
            response["Allow"] = ", ".join(allowed)
            return response
        return HttpResponseNotAllowed(allowed)
