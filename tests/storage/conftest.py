"""Each storage test gets a fresh folder of the session's bucket on SeaweedFS as the default
storage (yangquan_av/settings.py's S3 branch, the way S3_* settings build it)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.storage.seaweed import S3Server


@pytest.fixture
def bucket(s3_server: S3Server, settings: Any) -> str:
    """The default storage's folder in the bucket (its keys start with it and a slash)."""
    prefix = s3_server.new_prefix()
    # Changing STORAGES resets django's default_storage (django.test.signals).
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_settings(prefix)}
    return prefix
