"""The one way tests get verification parameters: production's, from settings.TRIP_VERIFY."""

from __future__ import annotations

from typing import Any

from trips.verification.params import verify_params
from trips.verification.verify import VerifyParams


def params(**overrides: Any) -> VerifyParams:
    """`settings.TRIP_VERIFY`'s parameters, with `overrides` by field name."""
    return verify_params(overrides)
