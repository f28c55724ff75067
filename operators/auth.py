"""API token authentication against hashed, revocable tokens (`Authorization: Token <key>`),
and the login backend that applies the login throttle."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .models import ApiToken, User
from .throttling import client_address, login_failed, login_succeeded, login_wait_s


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class HashedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_key(key), revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        now = timezone.now()
        # Touch at most once a minute: a busy integration should not write on every call.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return "Token"


class ThrottledModelBackend(ModelBackend):
    """The model backend, refusing a username and address with too many recent failures.

    Every login goes through here (the web form, the admin, the token endpoint), so none of
    them can be used to go on guessing. Without a request (the test client's `login()`,
    management commands) there is no address to count against.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if request is None or not username:
            return super().authenticate(request, username, password, **kwargs)
        address = client_address(request)
        if login_wait_s(username=username, address=address) is not None:
            raise PermissionDenied  # authenticate() stops here and records a failed login
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            login_failed(username=username, address=address)
        else:
            login_succeeded(username=username, address=address)
        return user
