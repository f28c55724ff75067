"""Verification reasons in words people read, by reason code.

The verifier stores each reason as {code, message, count, metres, line}, the message with
the figures of that trip, in the language it was written in (English from the verification
package; it is evidence and does not change with the reader's language). Pages show the
translated sentence for the code instead, with the figures beside it, and fall back to the
stored message for a code this table lacks (a newer verifier's code must still show
something true).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from .verification.findings import REJECT_CODES, REVIEW_CODES

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The overlap check lives in services (it needs the database), not in the verification package.
OVERLAP_CODE = "overlaps_accepted_trip"
FLAG_CODES = REVIEW_CODES | {OVERLAP_CODE}
# Files that cannot be read at all (parsers.TraceError): the trip is rejected.
PARSE_ERROR_CODES = frozenset(
    {
        "empty_file",
        "unknown_format",
        "too_many_points",
        "binary",
        "encoding",
        "coordinates_impossible",
        "timestamp_no_offset",
        "timestamp_invalid",
        "mode_invalid",
        "missing_column",
        "missing_value",
        "not_a_number",
        "csv_columns",
        "csv_invalid",
        "parquet_invalid",
        "gpx_invalid",
        "xml_forbidden",
        "xml_invalid",
        "json_invalid",
        "geojson_invalid",
        "geojson_not_point",
        "nmea_no_fix_sentences",
        "line_too_long",
        "too_many_columns",
        "xml_token_too_long",
        "too_deep",
    }
)

REASON_TEXT: dict[str, StrOrPromise] = {
    # PARSE_ERROR_CODES: the trip is rejected.
    "empty_file": _("The file is empty."),
    "unknown_format": _(
        "The file format was not recognised; upload CSV, GPX, GeoJSON, NMEA 0183 or Parquet."
    ),
    "too_many_points": _("The file has more fixes than the limit allows."),
    "binary": _("The file contains binary data, not text."),
    "encoding": _("The file is not UTF-8 text (GBK or another encoding?); save it as UTF-8."),
    "coordinates_impossible": _("A fix has impossible coordinates."),
    "timestamp_no_offset": _(
        "A timestamp has no UTC offset; write e.g. 2026-01-01T08:00:00+08:00."
    ),
    "timestamp_invalid": _(
        "A timestamp is neither ISO 8601 with an offset nor Unix epoch seconds or milliseconds."
    ),
    "mode_invalid": _("A driving mode is neither “auto” nor “manual”."),
    "missing_column": _("A required column is missing (timestamp, lat, lon)."),
    "missing_value": _("A required value is empty."),
    "not_a_number": _("A value that must be a number is not one."),
    "csv_columns": _("A row has a different number of fields than the header."),
    "csv_invalid": _("The CSV file could not be read."),
    "parquet_invalid": _("The Parquet file could not be read."),
    "gpx_invalid": _("The GPX file is not valid."),
    "xml_forbidden": _("XML entity or DTD declarations are not accepted."),
    "xml_invalid": _("The XML is not well formed."),
    "json_invalid": _("The JSON is not valid."),
    "geojson_invalid": _("The GeoJSON is not a valid collection of point fixes."),
    "geojson_not_point": _("Every GeoJSON feature must be a Point fix."),
    "nmea_no_fix_sentences": _("The NMEA log has no RMC or GGA sentences."),
    # Refused on the file's shape before parsing (docs/security.md).
    "line_too_long": _("A line is far longer than any trip log's."),
    "too_many_columns": _("The file has more columns than the limit allows."),
    "xml_token_too_long": _("A text or attribute value in the XML is far too long."),
    "too_deep": _("The file is nested too deeply to be a trip log."),
    # Dropped while reading (parsers.Note): information.
    "null_island": _("Fixes at exactly (0, 0), a receiver's no-fix placeholder, were dropped."),
    "gpx_no_track": _(
        "Route and waypoint points are plans, not recordings; only track points count."
    ),
    "untimed_points": _("Track points without a time cannot be measured and were dropped."),
    "nmea_bad_checksum": _("NMEA sentences with a missing or wrong checksum were dropped."),
    "nmea_unreadable": _("NMEA sentences with unreadable fields were dropped."),
    "nmea_repeated_epoch": _("NMEA sentences repeating a time already read were dropped."),
    "nmea_no_date": _("Fixes before the first dated sentence were dropped."),
    "nmea_other_talker": _("Sentences from other satellite systems' talkers were ignored."),
    # Refusals: the trip is rejected.
    "no_fixes": _("The file has no usable fixes."),
    "too_few_fixes": _("Fewer than two usable fixes remain."),
    "time_implausible": _(
        "Fix times are before 2000 or in the future: a receiver's placeholder, not a real time."
    ),
    "time_backwards": _(
        "Time goes backwards; fixes are never reordered, so the log cannot be measured. "
        "Export it in recording order."
    ),
    "too_long": _("The trip lasts longer than the limit; upload one file per trip."),
    "mode_missing": _("The file carries no driving mode and the upload declared none."),
    # Flags: the trip needs review.
    "many_outliers": _("Too many fixes were speed outliers."),
    "implausible_jump": _("The trace jumped away and stayed there."),
    "long_gap": _("The log stops for a long time."),
    "many_gaps": _("Too much of the trip's time is in gaps between fixes."),
    "gap_jump": _("The vehicle reappeared far away after a gap."),
    "odometer_disagreement": _("The odometer and the trace disagree."),
    "permit_lapsed": _("The vehicle's permit starts or ends during the trip."),
    OVERLAP_CODE: _("The trip overlaps in time an accepted trip of the same vehicle."),
    # Metres or fixes that earned nothing, and why: information.
    "duplicate": _("Exact duplicate fixes were dropped."),
    "speed_outlier": _("Fixes implying an impossible speed were dropped as outliers."),
    "gap": _(
        "Time gaps between fixes: the straight line across a gap is a guess and earns nothing."
    ),
    "stationary_jitter": _("Position noise while the vehicle stood still was not counted."),
    "manual": _("Driven manually."),
    "not_permitted": _("Driven while the vehicle had no valid permit."),
    "operator_not_eligible": _(
        "Driven before the company was both settled in Yangquan and admitted to the pilot."
    ),
    "outside_zone": _("Driven outside the road segments and zones approved at that time."),
}


@dataclass(frozen=True)
class ReasonShown:
    code: str
    text: str
    message: str  # the stored message, with this trip's details
    count: int
    km: float
    line: int | None
    severity: str  # "reject", "review" or "info": how much it weighed on the outcome


def _severity(code: str) -> str:
    if code in FLAG_CODES:
        return "review"
    if code in REJECT_CODES or code in PARSE_ERROR_CODES:
        return "reject"
    return "info"


def describe(reasons: list[dict[str, Any]]) -> list[ReasonShown]:
    """The stored reasons of a trip as pages show them, in the reader's language."""
    shown = []
    for reason in reasons:
        code = str(reason.get("code", ""))
        message = str(reason.get("message", ""))
        text = REASON_TEXT.get(code)
        shown.append(
            ReasonShown(
                code=code,
                text=str(text) if text is not None else message,
                message=message,
                count=int(reason.get("count") or 0),
                km=float(reason.get("metres") or 0.0) / 1000.0,
                line=reason.get("line"),
                severity=_severity(code),
            )
        )
    return shown
