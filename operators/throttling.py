"""Login throttling: failed logins counted per username and client address in the cache.

Django has no throttle of its own. After `LOGIN_FAILURE_LIMIT` failures for one username
from one address within `LOGIN_FAILURE_WINDOW_S`, every login for that pair is refused
until the window (which starts at the first failure) has passed — a right password too,
or guessing could go on. Keyed by the pair, so someone guessing at an account from one
address does not lock its owner out everywhere. The counters live in the default cache
(Redis in production), so every web process sees the same count.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    # REMOTE_ADDR, not X-Forwarded-For: a client can write any forwarded header it likes.
    return str(request.META.get("REMOTE_ADDR", ""))


def _key(username: str, address: str) -> str:
    # Hashed: the cache key holds no username, and any length or character is fine.
    digest = hashlib.sha256(f"{username.casefold()}\n{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


def login_wait_s(*, username: str, address: str) -> int | None:
    """Seconds until this username may try again from this address; None: it may now."""
    key = _key(username, address)
    values = cache.get_many([key, f"{key}:since"])
    if int(values.get(key, 0)) < settings.LOGIN_FAILURE_LIMIT:
        return None
    since = float(values.get(f"{key}:since", time.time()))
    return max(1, math.ceil(since + int(settings.LOGIN_FAILURE_WINDOW_S) - time.time()))


def login_failed(*, username: str, address: str) -> None:
    key = _key(username, address)
    window = settings.LOGIN_FAILURE_WINDOW_S
    # add() starts the window at the first failure; incr() keeps the key's expiry.
    cache.add(f"{key}:since", time.time(), timeout=window)
    cache.add(key, 0, timeout=window)
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr(): this failure starts a new window
        cache.set(key, 1, timeout=window)


def login_succeeded(*, username: str, address: str) -> None:
    key = _key(username, address)
    cache.delete_many([key, f"{key}:since"])
