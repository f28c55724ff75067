"""A kilometre is paid once: overlaps, the same content and near copies, found in the
database (trips.copies) on every verified trip and again at review."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from core.errors import ApplicationError
from operators.models import User, Vehicle
from tests import factories
from tests.conftest import World, client_for
from tests.trips.csvtrace import straight_east
from tests.trips.replaygen import DAY_NS, drive_legs, nudged, retimed, thinned, to_gpx, winding_road
from tests.trips.tracegen import START, Trace, generate, to_csv
from trips import services
from trips.models import Trip, TripBandKey, TripFingerprint

pytestmark = pytest.mark.django_db

ROAD = winding_road(np.random.default_rng(21))  # 60 × 50 m = 3 km
LEGS = drive_legs(np.random.default_rng(22), ROAD.length)


def recording(seed: int = 1, *, hz: float = 10) -> Trace:
    """A drive along ROAD with its own 3 m receiver noise, correlated over 30 s."""
    return generate(ROAD, LEGS, start=START, hz=hz, noise_m=3.0, noise_tau_s=30, seed=seed)


def process(
    staff: User, vehicle: Vehicle, data: bytes, name: str = "trip.csv", mode: str = ""
) -> Trip:
    trip, _ = services.trip_upload(
        actor=staff, vin=vehicle.vin, data=data, original_name=name, declared_mode=mode
    )
    return services.trip_process(trip_id=trip.pk)


def codes(trip: Trip) -> set[str]:
    return {r["code"] for r in trip.reasons}


def conflict(trip: Trip, code: str) -> dict[str, object]:
    return next(r for r in trip.reasons if r["code"] == code)


@pytest.fixture
def second_vehicle_a(world: World) -> Vehicle:
    return factories.vehicle(actor=world.bureau, operator=world.company_a)


def test_the_same_bytes_for_a_second_vehicle_are_held_naming_the_first_trip(
    world: World, second_vehicle_a: Vehicle
) -> None:
    data = to_csv(recording())
    first = process(world.staff_a, world.vehicle_a, data)
    second = process(world.staff_a, second_vehicle_a, data)
    assert first.status == Trip.Status.ACCEPTED
    assert second.status == Trip.Status.NEEDS_REVIEW
    assert conflict(second, "same_content")["trip"] == first.pk


def test_the_same_bytes_from_another_company_are_held_naming_the_first_trip(
    world: World,
) -> None:
    data = to_csv(recording())
    first = process(world.staff_a, world.vehicle_a, data)
    second = process(world.staff_b, world.vehicle_b, data)
    assert second.status == Trip.Status.NEEDS_REVIEW
    assert conflict(second, "same_content")["trip"] == first.pk


def test_another_company_is_told_the_recording_was_submitted_but_not_the_trip_number(
    world: World,
) -> None:
    data = to_csv(recording())
    first = process(world.staff_a, world.vehicle_a, data)
    second = process(world.staff_b, world.vehicle_b, data)
    body = client_for(world.staff_b).get(f"/api/v1/trips/{second.pk}/").json()
    assert body["conflicts"] == [
        {"code": "same_content", "own": False, "trip": None, "figures": {}, "detail": None}
    ]
    assert f"#{first.pk}" not in str(body)


def test_the_bureau_sees_the_conflicting_trip_side_by_side(world: World) -> None:
    data = to_csv(recording())
    first = process(world.staff_a, world.vehicle_a, data)
    second = process(world.staff_b, world.vehicle_b, data)
    body = client_for(world.bureau).get(f"/api/v1/trips/{second.pk}/").json()
    (shown,) = body["conflicts"]
    assert (shown["code"], shown["trip"], shown["own"]) == ("same_content", first.pk, False)
    assert shown["detail"]["vin"] == world.vehicle_a.vin
    assert shown["detail"]["eligible_m"] == body["eligible_m"] or shown["detail"]["status"]


def test_a_copy_retimed_by_a_day_and_nudged_a_third_of_a_metre_is_a_replayed_trace(
    world: World, second_vehicle_a: Vehicle
) -> None:
    original = recording()
    first = process(world.staff_a, world.vehicle_a, to_csv(original))
    copy = nudged(retimed(original, DAY_NS / 1e9), np.random.default_rng(5), 0.3)
    second = process(world.staff_a, second_vehicle_a, to_csv(copy))
    assert second.status == Trip.Status.NEEDS_REVIEW
    found = conflict(second, "replayed_trace")
    assert found["trip"] == first.pk
    figures = found["figures"]
    assert isinstance(figures, dict)
    # Nudges ≤ 0.3 m averaged over ~11 fixes by the 1 s smoothing: well under a metre.
    assert figures["median_distance_m"] < 0.5
    assert figures["matched_share"] > 0.9


def test_a_thinned_copy_ten_hertz_to_one_is_a_replayed_trace(
    world: World, second_vehicle_a: Vehicle
) -> None:
    original = recording()
    first = process(world.staff_a, world.vehicle_a, to_csv(original))
    copy = retimed(thinned(original, 10), 3 * DAY_NS / 1e9)
    second = process(world.staff_a, second_vehicle_a, to_csv(copy))
    assert conflict(second, "replayed_trace")["trip"] == first.pk


def test_every_other_fix_a_day_later_is_a_replayed_trace(
    world: World, second_vehicle_a: Vehicle
) -> None:
    original = recording()
    first = process(world.staff_a, world.vehicle_a, to_csv(original))
    copy = retimed(thinned(original, 2, first=1), DAY_NS / 1e9)
    second = process(world.staff_a, second_vehicle_a, to_csv(copy))
    assert conflict(second, "replayed_trace")["trip"] == first.pk


def test_the_same_fixes_written_as_gpx_are_the_same_fixes(
    world: World, second_vehicle_a: Vehicle
) -> None:
    original = recording(hz=1)
    first = process(world.staff_a, world.vehicle_a, to_csv(original))
    lon, lat = original.lonlat()
    gpx = to_gpx(np.round(lon, 7), np.round(lat, 7), original.t_ns)
    second = process(world.staff_b, world.vehicle_b, gpx, name="trip.gpx", mode="auto")
    assert second.format == "gpx"
    assert conflict(second, "same_fixes")["trip"] == first.pk


def test_the_same_fixes_with_other_columns_are_the_same_fixes(world: World) -> None:
    original = recording(hz=1)
    first = process(world.staff_a, world.vehicle_a, to_csv(original))
    lines = to_csv(original).decode().splitlines()
    extra = [f"{lines[0]},hdop"] + [f"{line},0.9" for line in lines[1:]]
    second = process(world.staff_b, world.vehicle_b, ("\n".join(extra) + "\n").encode())
    assert conflict(second, "same_fixes")["trip"] == first.pk


def test_an_honest_second_drive_of_the_same_road_is_accepted(
    world: World, second_vehicle_a: Vehicle
) -> None:
    process(world.staff_a, world.vehicle_a, to_csv(recording(seed=1)))
    # Another day, its own receiver noise and its own speed profile.
    legs = drive_legs(np.random.default_rng(99), ROAD.length)
    again = generate(ROAD, legs, start=START + dt.timedelta(days=1), hz=10, noise_m=3.0, seed=2)
    second = process(world.staff_a, second_vehicle_a, to_csv(again))
    assert second.status == Trip.Status.ACCEPTED, second.reasons


def test_an_honest_drive_at_the_very_same_speed_profile_is_accepted(world: World) -> None:
    process(world.staff_a, world.vehicle_a, to_csv(recording(seed=1)))
    # The same legs to 0.1 s, another receiver's noise: the tightest honest repeat.
    later = retimed(recording(seed=7), DAY_NS / 1e9)
    second = process(world.staff_b, world.vehicle_b, to_csv(later))
    assert second.status == Trip.Status.ACCEPTED, second.reasons


T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def gappy(start: dt.datetime, lon0: float = 113.55) -> bytes:
    """A 1,200 m drive with 40 of its 120 s missing in two gaps: held for `many_gaps`."""
    rows = straight_east(start=start, lon0=lon0, metres=1200).decode().splitlines()
    return ("\n".join([rows[0], *rows[1:20], *rows[40:80], *rows[100:]]) + "\n").encode()


def test_an_overlap_is_found_even_when_another_flag_holds_the_trip(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a, straight_east(start=T0, metres=1200))
    # A second upload of the vehicle's drive, 60 s later, with gaps: many_gaps holds it.
    second = process(
        world.staff_a, world.vehicle_a, gappy(T0 + dt.timedelta(seconds=60), lon0=113.56)
    )
    assert first.status == Trip.Status.ACCEPTED
    assert {"many_gaps", "overlaps_accepted_trip"} <= codes(second)
    assert conflict(second, "overlaps_accepted_trip")["trip"] == first.pk


def test_a_review_cannot_accept_a_trip_overlapping_an_accepted_one(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a, straight_east(start=T0, metres=600))
    second = process(
        world.staff_a,
        world.vehicle_a,
        straight_east(start=T0 + dt.timedelta(seconds=30), lon0=113.56, metres=600),
    )
    with pytest.raises(ApplicationError, match=f"#{first.pk}") as refused:
        services.trip_review(actor=world.bureau, trip=second, accept=True, reason="looks fine")
    assert refused.value.field == "decision"
    second.refresh_from_db()
    assert second.status == Trip.Status.NEEDS_REVIEW


def test_a_review_over_the_api_answers_400_naming_the_overlapping_trip(world: World) -> None:
    first = process(world.staff_a, world.vehicle_a, straight_east(start=T0, metres=600))
    second = process(
        world.staff_a,
        world.vehicle_a,
        straight_east(start=T0 + dt.timedelta(seconds=30), lon0=113.56, metres=600),
    )
    response = client_for(world.bureau).post(
        f"/api/v1/trips/{second.pk}/review/", {"decision": "accept", "reason": "ok"}
    )
    assert response.status_code == 400
    assert f"#{first.pk}" in str(response.json()["decision"])


def test_an_overlap_accepted_after_the_trip_was_verified_is_found_at_review(
    world: World,
) -> None:
    held = process(world.staff_a, world.vehicle_a, gappy(T0))
    # Verified while the first was only held: nothing accepted to overlap, so accepted.
    later = process(
        world.staff_a,
        world.vehicle_a,
        straight_east(start=T0 + dt.timedelta(seconds=30), lon0=113.56, metres=600),
    )
    assert (held.status, later.status) == (Trip.Status.NEEDS_REVIEW, Trip.Status.ACCEPTED)
    assert "overlaps_accepted_trip" not in codes(held)
    with pytest.raises(ApplicationError, match=f"#{later.pk}"):
        services.trip_review(actor=world.bureau, trip=held, accept=True, reason="also?")


def test_rejecting_a_copy_records_the_trip_that_is_kept(world: World) -> None:
    data = to_csv(recording())
    first = process(world.staff_a, world.vehicle_a, data)
    second = process(world.staff_b, world.vehicle_b, data)
    services.trip_review(actor=world.bureau, trip=second, accept=False, reason="a copy")
    second.refresh_from_db()
    assert second.review_kept_trip_id == first.pk


def test_a_trip_without_conflicts_records_no_kept_trip(world: World) -> None:
    trip = process(world.staff_a, world.vehicle_a, gappy(T0))
    services.trip_review(actor=world.bureau, trip=trip, accept=True, reason="fine")
    trip.refresh_from_db()
    assert trip.review_kept_trip_id is None


def test_accepting_a_copy_of_an_accepted_trip_is_refused(world: World) -> None:
    data = to_csv(recording())
    first = process(world.staff_a, world.vehicle_a, data)
    second = process(world.staff_b, world.vehicle_b, data)
    with pytest.raises(ApplicationError, match=f"#{first.pk}"):
        services.trip_review(actor=world.bureau, trip=second, accept=True, reason="mine")


def test_a_verified_trip_has_its_fingerprint_and_band_keys_indexed(world: World) -> None:
    trip = process(world.staff_a, world.vehicle_a, to_csv(recording()))
    fingerprint = TripFingerprint.objects.get(trip=trip)
    assert len(fingerprint.fixes_sha256) == 64
    assert fingerprint.signature
    # 30 bands, one key each (a repeat within a trip is stored once).
    assert 25 <= TripBandKey.objects.filter(trip=trip).count() <= 30


def test_a_rejected_trip_no_longer_holds_a_later_upload_of_the_same_file(world: World) -> None:
    data = to_csv(recording())
    first = process(world.staff_a, world.vehicle_a, data)
    second = process(world.staff_b, world.vehicle_b, data)
    services.trip_review(actor=world.bureau, trip=second, accept=False, reason="a copy")
    # The company's own trip was the copy after all: the bureau re-checks the first...
    services.trip_reverify(actor=world.bureau, trip=first, reason="check again")
    first = services.trip_process(trip_id=first.pk)
    assert first.status == Trip.Status.ACCEPTED  # the rejected one holds nothing
