"""Verification parameters: one settings mapping, read in one place, no defaults elsewhere."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from tests.trips.params import params
from trips.replay import DEFAULT_REPLAY_PARAMS, ReplayParams
from trips.verification.params import replay_params, verify_params
from trips.verification.verify import VerifyParams

PACKAGE = Path(__file__).resolve().parents[2] / "trips" / "verification"


def test_every_parameter_is_a_trip_verify_key_and_every_key_a_parameter() -> None:
    fields = {
        f.name.upper()
        for dataclass in (VerifyParams, ReplayParams)
        for f in dataclasses.fields(dataclass)
    }
    assert set(settings.TRIP_VERIFY) == fields


def test_the_replay_parameters_default_to_the_detectors_own_values() -> None:
    assert dataclasses.asdict(replay_params()) == {
        **DEFAULT_REPLAY_PARAMS,
        "metric_crs": settings.METRIC_CRS,
    }


def test_a_changed_replay_setting_reaches_the_replay_parameters() -> None:
    with override_settings(TRIP_VERIFY={**settings.TRIP_VERIFY, "MAX_MEDIAN_M": 0.8}):
        assert replay_params().max_median_m == 0.8


def test_the_parameters_are_the_settings_values() -> None:
    built = dataclasses.asdict(verify_params())
    assert built == {
        key.lower(): value for key, value in settings.TRIP_VERIFY.items() if key.lower() in built
    }
    assert built["max_speed_kmh"] == settings.TRIP_VERIFY["MAX_SPEED_KMH"] == 150.0
    assert built["metric_crs"] == settings.METRIC_CRS
    assert built["tz"] == settings.TIME_ZONE


def test_an_override_changes_that_parameter_only() -> None:
    changed = params(max_duration_s=30 * 3600)
    assert changed.max_duration_s == 108_000
    assert dataclasses.replace(changed, max_duration_s=params().max_duration_s) == params()


def test_an_unknown_override_is_refused() -> None:
    with pytest.raises(TypeError, match="max_speed"):
        params(max_speed=100.0)


def test_a_key_missing_from_the_settings_is_an_error_not_a_default() -> None:
    partial = {k: v for k, v in settings.TRIP_VERIFY.items() if k != "STOP_RADIUS_M"}
    with override_settings(TRIP_VERIFY=partial), pytest.raises(TypeError, match="stop_radius_m"):
        verify_params()


def test_a_changed_setting_reaches_the_parameters() -> None:
    with override_settings(TRIP_VERIFY={**settings.TRIP_VERIFY, "MAX_GAP_S": 30.0}):
        assert verify_params().max_gap_s == 30.0


@pytest.mark.parametrize(
    "module", sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "params.py")
)
def test_the_verification_modules_do_not_import_django(module: str) -> None:
    tree = ast.parse((PACKAGE / module).read_text())
    imported = {
        name
        for node in ast.walk(tree)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    assert not {name for name in imported if name.split(".")[0] in ("django", "rest_framework")}
