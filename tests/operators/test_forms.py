"""The vehicle form shows every error at once: fields, the model's validators and
uniqueness together, not in rounds."""

from __future__ import annotations

import pytest

from operators.forms import VehicleForm
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_a_bad_vin_and_a_taken_plate_are_both_reported_in_one_submission(world: World) -> None:
    form = VehicleForm(
        {"vin": "LSVAU2180N2183295", "plate": world.vehicle_b.plate, "category": "taxi"},
        companies=None,
    )
    assert not form.is_valid()
    assert set(form.errors) == {"vin", "plate"}
    assert form.errors["plate"] == ["已有车辆使用此号牌。"]


def test_a_missing_category_comes_with_the_vin_check_digit_error(world: World) -> None:
    form = VehicleForm({"vin": "LSVAU2180N2183295", "plate": "晋C12345"}, companies=None)
    assert not form.is_valid()
    assert set(form.errors) == {"vin", "category"}


def test_a_taken_vin_is_a_sentence_not_pieced_from_names(world: World) -> None:
    form = VehicleForm(
        {"vin": world.vehicle_a.vin.lower(), "plate": "晋C54321", "category": "bus"},
        companies=None,
    )
    assert not form.is_valid()
    assert form.errors["vin"] == ["已有车辆使用此车辆识别代号。"]
