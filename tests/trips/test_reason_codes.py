"""Reason codes: one StrEnum, its stored values unchanged, never spelled as strings."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

from trips.reason_codes import FLAG_CODES, PARSE_ERROR_CODES, REJECT_CODES, TripReason
from trips.reasons import REASON_TEXT
from trips.verification.findings import Finding

TRIPS = Path(__file__).resolve().parents[2] / "trips"

# The values stored in trips' reasons before the codes became an enum: they are evidence,
# and there is no data migration, so none may change.
STORED = {
    "binary", "coordinates_impossible", "csv_columns", "csv_invalid", "duplicate", "empty_file",
    "encoding", "gap", "gap_jump", "geojson_invalid", "geojson_not_point", "gpx_invalid",
    "gpx_no_track", "implausible_jump", "json_invalid", "line_too_long", "long_gap", "manual",
    "many_gaps", "many_outliers", "missing_column", "missing_value", "mode_invalid",
    "mode_unsupported_by_recorder",
    "mode_missing", "nmea_bad_checksum", "nmea_no_date", "nmea_no_fix_sentences",
    "nmea_other_talker", "nmea_repeated_epoch", "nmea_unreadable", "no_fixes", "not_a_number",
    "not_permitted", "null_island", "odometer_disagreement", "operator_not_eligible",
    "live_mismatch", "outside_zone", "overlaps_accepted_trip", "parquet_invalid", "permit_lapsed",
    "speed_outlier", "stationary_jitter", "time_backwards", "time_implausible",
    "timestamp_invalid", "timestamp_no_offset", "too_deep", "too_few_fixes", "too_long",
    "too_many_columns", "too_many_points", "unknown_format", "untimed_points", "xml_forbidden",
    "xml_invalid", "xml_token_too_long",
    # Added with copy detection (trips.copies, trips.replay.plausibility).
    "implausible_acceleration", "speed_disagreement", "too_smooth", "same_content",
    "same_fixes", "replayed_trace",
}  # fmt: skip


def test_the_stored_values_are_the_ones_trips_already_carry() -> None:
    assert {code.value for code in TripReason} == STORED


def test_every_code_has_words_and_the_words_no_other_code() -> None:
    assert set(REASON_TEXT) == set(TripReason)


def test_a_code_weighs_on_the_outcome_in_one_way_at_most() -> None:
    assert not (FLAG_CODES & REJECT_CODES)
    assert not (FLAG_CODES & PARSE_ERROR_CODES)
    assert not (REJECT_CODES & PARSE_ERROR_CODES)


def test_a_reason_stores_its_code_as_the_plain_string() -> None:
    stored = json.dumps(dataclasses.asdict(Finding(TripReason.GAP, "Gaps.", count=2)))
    assert json.loads(stored)["code"] == "gap"


def test_no_trips_module_spells_a_code_as_a_string() -> None:
    spelled = {
        f"{path.relative_to(TRIPS)}: {code}"
        for path in TRIPS.glob("**/*.py")
        for code in re.findall(
            r'(?:TraceError|Note|Finding)\(\s*"([a-z_0-9]+)"|"code": "([a-z_0-9]+)"',
            path.read_text(),
        )
    }
    assert spelled == set()
