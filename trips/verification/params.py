"""`VerifyParams` from `settings.TRIP_VERIFY`: the one place verification reads settings.

The only module of the package that touches Django; the rules themselves stay pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from trips.replay.params import ReplayParams

from .verify import VerifyParams


def _settings_values() -> dict[str, Any]:
    return {key.lower(): value for key, value in settings.TRIP_VERIFY.items()}


def verify_params(overrides: Mapping[str, Any] | None = None) -> VerifyParams:
    """The parameters production verifies with; `overrides` by field name (tests, the bench).

    Every field comes from `settings.TRIP_VERIFY` (keys are the field names in capitals); a
    key missing there or an unknown override fails here rather than falling back silently.
    """
    names = {f.name for f in dataclasses.fields(VerifyParams)}
    values = {key: value for key, value in _settings_values().items() if key in names}
    unknown = set(overrides or {}) - set(values)
    if unknown:
        raise TypeError(f"unknown verification parameter(s): {', '.join(sorted(unknown))}")
    return VerifyParams(**{**values, **(overrides or {})})


def replay_params() -> ReplayParams:
    """Copy detection's and plausibility's parameters, from the same `settings.TRIP_VERIFY`."""
    return ReplayParams.from_mapping(_settings_values())
