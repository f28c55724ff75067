"""Every reason code a trip can carry, named once.

The values are what is stored in each trip's reasons (never change one: it is evidence, and
there is no migration for it); `trips.reasons` gives each its sentence in the reader's
language. Pure: the parsers and the verification package spell their codes from here.
"""

from __future__ import annotations

from enum import StrEnum


class TripReason(StrEnum):
    """A trip's reason code. In groups: the file cannot be read; dropped while reading;
    refusals; review flags; metres or fixes that earned nothing."""

    # The file cannot be read (PARSE_ERROR_CODES): the trip is rejected.
    EMPTY_FILE = "empty_file"
    UNKNOWN_FORMAT = "unknown_format"
    TOO_MANY_POINTS = "too_many_points"
    BINARY = "binary"
    ENCODING = "encoding"
    COORDINATES_IMPOSSIBLE = "coordinates_impossible"
    TIMESTAMP_NO_OFFSET = "timestamp_no_offset"
    TIMESTAMP_INVALID = "timestamp_invalid"
    MODE_INVALID = "mode_invalid"
    MISSING_COLUMN = "missing_column"
    MISSING_VALUE = "missing_value"
    NOT_A_NUMBER = "not_a_number"
    CSV_COLUMNS = "csv_columns"
    CSV_INVALID = "csv_invalid"
    PARQUET_INVALID = "parquet_invalid"
    GPX_INVALID = "gpx_invalid"
    XML_FORBIDDEN = "xml_forbidden"
    XML_INVALID = "xml_invalid"
    JSON_INVALID = "json_invalid"
    GEOJSON_INVALID = "geojson_invalid"
    GEOJSON_NOT_POINT = "geojson_not_point"
    NMEA_NO_FIX_SENTENCES = "nmea_no_fix_sentences"
    # Refused on the file's shape before parsing (docs/security.md).
    LINE_TOO_LONG = "line_too_long"
    TOO_MANY_COLUMNS = "too_many_columns"
    XML_TOKEN_TOO_LONG = "xml_token_too_long"  # noqa: S105 - a reason code, not a password
    TOO_DEEP = "too_deep"
    # Dropped while reading (parsers.Note): information.
    NULL_ISLAND = "null_island"
    GPX_NO_TRACK = "gpx_no_track"
    UNTIMED_POINTS = "untimed_points"
    NMEA_BAD_CHECKSUM = "nmea_bad_checksum"
    NMEA_UNREADABLE = "nmea_unreadable"
    NMEA_REPEATED_EPOCH = "nmea_repeated_epoch"
    NMEA_NO_DATE = "nmea_no_date"
    NMEA_OTHER_TALKER = "nmea_other_talker"
    # Refusals: the trip is rejected.
    NO_FIXES = "no_fixes"
    TOO_FEW_FIXES = "too_few_fixes"
    TIME_IMPLAUSIBLE = "time_implausible"
    TIME_BACKWARDS = "time_backwards"
    TOO_LONG = "too_long"
    MODE_MISSING = "mode_missing"
    # Flags: the trip needs review.
    MANY_OUTLIERS = "many_outliers"
    IMPLAUSIBLE_JUMP = "implausible_jump"
    LONG_GAP = "long_gap"
    MANY_GAPS = "many_gaps"
    GAP_JUMP = "gap_jump"
    ODOMETER_DISAGREEMENT = "odometer_disagreement"
    PERMIT_LAPSED = "permit_lapsed"
    IMPLAUSIBLE_ACCELERATION = "implausible_acceleration"  # trips.replay.plausibility
    SPEED_DISAGREEMENT = "speed_disagreement"
    TOO_SMOOTH = "too_smooth"
    # Conflicts with other trips, found in the database (trips.copies); each names the trip.
    OVERLAPS_ACCEPTED_TRIP = "overlaps_accepted_trip"
    SAME_CONTENT = "same_content"
    SAME_FIXES = "same_fixes"
    REPLAYED_TRACE = "replayed_trace"
    LIVE_MISMATCH = "live_mismatch"  # by trips.live_check (the live stream)
    # The trace claims autonomous metres the data recorder does not support (GB 44497).
    MODE_UNSUPPORTED_BY_RECORDER = "mode_unsupported_by_recorder"
    # Metres or fixes that earned nothing, and why: information.
    DUPLICATE = "duplicate"
    SPEED_OUTLIER = "speed_outlier"
    GAP = "gap"
    STATIONARY_JITTER = "stationary_jitter"
    MANUAL = "manual"
    NOT_PERMITTED = "not_permitted"
    OPERATOR_NOT_ELIGIBLE = "operator_not_eligible"
    OUTSIDE_ZONE = "outside_zone"


# Files that cannot be read at all (parsers.TraceError): the trip is rejected.
PARSE_ERROR_CODES = frozenset(
    {
        TripReason.EMPTY_FILE,
        TripReason.UNKNOWN_FORMAT,
        TripReason.TOO_MANY_POINTS,
        TripReason.BINARY,
        TripReason.ENCODING,
        TripReason.COORDINATES_IMPOSSIBLE,
        TripReason.TIMESTAMP_NO_OFFSET,
        TripReason.TIMESTAMP_INVALID,
        TripReason.MODE_INVALID,
        TripReason.MISSING_COLUMN,
        TripReason.MISSING_VALUE,
        TripReason.NOT_A_NUMBER,
        TripReason.CSV_COLUMNS,
        TripReason.CSV_INVALID,
        TripReason.PARQUET_INVALID,
        TripReason.GPX_INVALID,
        TripReason.XML_FORBIDDEN,
        TripReason.XML_INVALID,
        TripReason.JSON_INVALID,
        TripReason.GEOJSON_INVALID,
        TripReason.GEOJSON_NOT_POINT,
        TripReason.NMEA_NO_FIX_SENTENCES,
        TripReason.LINE_TOO_LONG,
        TripReason.TOO_MANY_COLUMNS,
        TripReason.XML_TOKEN_TOO_LONG,
        TripReason.TOO_DEEP,
    }
)
# Verification's refusals: the trip is rejected.
REJECT_CODES = frozenset(
    {
        TripReason.NO_FIXES,
        TripReason.TOO_FEW_FIXES,
        TripReason.TIME_IMPLAUSIBLE,
        TripReason.TIME_BACKWARDS,
        TripReason.TOO_LONG,
        TripReason.MODE_MISSING,
    }
)
# Verification's flags: the trip needs review.
REVIEW_CODES = frozenset(
    {
        TripReason.MANY_OUTLIERS,
        TripReason.IMPLAUSIBLE_JUMP,
        TripReason.LONG_GAP,
        TripReason.MANY_GAPS,
        TripReason.GAP_JUMP,
        TripReason.ODOMETER_DISAGREEMENT,
        TripReason.PERMIT_LAPSED,
        TripReason.MODE_UNSUPPORTED_BY_RECORDER,
    }
)
# Physical plausibility (trips.replay.plausibility, run by trips.services).
PLAUSIBILITY_CODES = frozenset(
    {TripReason.IMPLAUSIBLE_ACCELERATION, TripReason.SPEED_DISAGREEMENT, TripReason.TOO_SMOOTH}
)
# ...and the conflicts with other trips, which need the database (trips.copies).
CONFLICT_CODES = frozenset(
    {
        TripReason.OVERLAPS_ACCEPTED_TRIP,
        TripReason.SAME_CONTENT,
        TripReason.SAME_FIXES,
        TripReason.REPLAYED_TRACE,
    }
)
# ...and the live stream's cross-check (trips.live_check).
FLAG_CODES = REVIEW_CODES | PLAUSIBILITY_CODES | CONFLICT_CODES | {TripReason.LIVE_MISMATCH}
# Every other code is information: fixes or metres that earned nothing, and why.
