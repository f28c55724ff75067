"""`VerifyParams` from `settings.TRIP_VERIFY`: the one place verification reads settings.

The only module of the package that touches Django; the rules themselves stay pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from .verify import VerifyParams


def verify_params(overrides: Mapping[str, Any] | None = None) -> VerifyParams:
    """The parameters production verifies with; `overrides` by field name (tests, the bench).

    Every field comes from `settings.TRIP_VERIFY` (keys are the field names in capitals); a
    key missing there or an unknown override fails here rather than falling back silently.
    """
    values = {key.lower(): value for key, value in settings.TRIP_VERIFY.items()}
    unknown = set(overrides or {}) - set(values)
    if unknown:
        raise TypeError(f"unknown verification parameter(s): {', '.join(sorted(unknown))}")
    return VerifyParams(**{**values, **(overrides or {})})
