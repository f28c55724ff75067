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

from .reason_codes import FLAG_CODES, PARSE_ERROR_CODES, REJECT_CODES, TripReason

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

REASON_TEXT: dict[str, StrOrPromise] = {
    # The file cannot be read (PARSE_ERROR_CODES): the trip is rejected.
    TripReason.EMPTY_FILE: _("The file is empty."),
    TripReason.UNKNOWN_FORMAT: _(
        "The file format was not recognised; upload CSV, GPX, GeoJSON, NMEA 0183 or Parquet."
    ),
    TripReason.TOO_MANY_POINTS: _("The file has more fixes than the limit allows."),
    TripReason.BINARY: _("The file contains binary data, not text."),
    TripReason.ENCODING: _(
        "The file is not UTF-8 text (GBK or another encoding?); save it as UTF-8."
    ),
    TripReason.COORDINATES_IMPOSSIBLE: _("A fix has impossible coordinates."),
    TripReason.TIMESTAMP_NO_OFFSET: _(
        "A timestamp has no UTC offset; write e.g. 2026-01-01T08:00:00+08:00."
    ),
    TripReason.TIMESTAMP_INVALID: _(
        "A timestamp is neither ISO 8601 with an offset nor Unix epoch seconds or milliseconds."
    ),
    TripReason.MODE_INVALID: _("A driving mode is neither “auto” nor “manual”."),
    TripReason.MISSING_COLUMN: _("A required column is missing (timestamp, lat, lon)."),
    TripReason.MISSING_VALUE: _("A required value is empty."),
    TripReason.NOT_A_NUMBER: _("A value that must be a number is not one."),
    TripReason.CSV_COLUMNS: _("A row has a different number of fields than the header."),
    TripReason.CSV_INVALID: _("The CSV file could not be read."),
    TripReason.PARQUET_INVALID: _("The Parquet file could not be read."),
    TripReason.GPX_INVALID: _("The GPX file is not valid."),
    TripReason.XML_FORBIDDEN: _("XML entity or DTD declarations are not accepted."),
    TripReason.XML_INVALID: _("The XML is not well formed."),
    TripReason.JSON_INVALID: _("The JSON is not valid."),
    TripReason.GEOJSON_INVALID: _("The GeoJSON is not a valid collection of point fixes."),
    TripReason.GEOJSON_NOT_POINT: _("Every GeoJSON feature must be a Point fix."),
    TripReason.NMEA_NO_FIX_SENTENCES: _("The NMEA log has no RMC or GGA sentences."),
    # Refused on the file's shape before parsing (docs/security.md).
    TripReason.LINE_TOO_LONG: _("A line is far longer than any trip log's."),
    TripReason.TOO_MANY_COLUMNS: _("The file has more columns than the limit allows."),
    TripReason.XML_TOKEN_TOO_LONG: _("A text or attribute value in the XML is far too long."),
    TripReason.TOO_DEEP: _("The file is nested too deeply to be a trip log."),
    # Dropped while reading (parsers.Note): information.
    TripReason.NULL_ISLAND: _(
        "Fixes at exactly (0, 0), a receiver's no-fix placeholder, were dropped."
    ),
    TripReason.GPX_NO_TRACK: _(
        "Route and waypoint points are plans, not recordings; only track points count."
    ),
    TripReason.UNTIMED_POINTS: _(
        "Track points without a time cannot be measured and were dropped."
    ),
    TripReason.NMEA_BAD_CHECKSUM: _(
        "NMEA sentences with a missing or wrong checksum were dropped."
    ),
    TripReason.NMEA_UNREADABLE: _("NMEA sentences with unreadable fields were dropped."),
    TripReason.NMEA_REPEATED_EPOCH: _("NMEA sentences repeating a time already read were dropped."),
    TripReason.NMEA_NO_DATE: _("Fixes before the first dated sentence were dropped."),
    TripReason.NMEA_OTHER_TALKER: _(
        "Sentences from other satellite systems' talkers were ignored."
    ),
    # Refusals: the trip is rejected.
    TripReason.NO_FIXES: _("The file has no usable fixes."),
    TripReason.TOO_FEW_FIXES: _("Fewer than two usable fixes remain."),
    TripReason.TIME_IMPLAUSIBLE: _(
        "Fix times are before 2000 or in the future: a receiver's placeholder, not a real time."
    ),
    TripReason.TIME_BACKWARDS: _(
        "Time goes backwards; fixes are never reordered, so the log cannot be measured. "
        "Export it in recording order."
    ),
    TripReason.TOO_LONG: _("The trip lasts longer than the limit; upload one file per trip."),
    TripReason.MODE_MISSING: _("The file carries no driving mode and the upload declared none."),
    # Flags: the trip needs review.
    TripReason.MANY_OUTLIERS: _("Too many fixes were speed outliers."),
    TripReason.IMPLAUSIBLE_JUMP: _("The trace jumped away and stayed there."),
    TripReason.LONG_GAP: _("The log stops for a long time."),
    TripReason.MANY_GAPS: _("Too much of the trip's time is in gaps between fixes."),
    TripReason.GAP_JUMP: _("The vehicle reappeared far away after a gap."),
    TripReason.ODOMETER_DISAGREEMENT: _("The odometer and the trace disagree."),
    TripReason.PERMIT_LAPSED: _("The vehicle's permit starts or ends during the trip."),
    TripReason.MODE_UNSUPPORTED_BY_RECORDER: _(
        "The trace claims autonomous driving that the data recorder does not support."
    ),
    TripReason.IMPLAUSIBLE_ACCELERATION: _(
        "The speed changes faster, for seconds on end, than a road vehicle can."
    ),
    TripReason.SPEED_DISAGREEMENT: _(
        "The file's speed column disagrees with the speed from its positions."
    ),
    TripReason.TOO_SMOOTH: _(
        "The trace is too smooth for a satellite receiver's recording: it looks generated."
    ),
    TripReason.OVERLAPS_ACCEPTED_TRIP: _(
        "The trip overlaps in time an accepted trip of the same vehicle."
    ),
    TripReason.LIVE_MISMATCH: _(
        "The uploaded file disagrees with the vehicle's live stream over the same time."
    ),
    TripReason.SAME_CONTENT: _("This recording was already submitted: the same file."),
    TripReason.SAME_FIXES: _(
        "This recording was already submitted: the same fixes in another file."
    ),
    TripReason.REPLAYED_TRACE: _(
        "This recording was already submitted: a near copy, moved in time or to another vehicle."
    ),
    # Metres or fixes that earned nothing, and why: information.
    TripReason.DUPLICATE: _("Exact duplicate fixes were dropped."),
    TripReason.SPEED_OUTLIER: _("Fixes implying an impossible speed were dropped as outliers."),
    TripReason.GAP: _(
        "Time gaps between fixes: the straight line across a gap is a guess and earns nothing."
    ),
    TripReason.STATIONARY_JITTER: _(
        "Position noise while the vehicle stood still was not counted."
    ),
    TripReason.MANUAL: _("Driven manually."),
    TripReason.NOT_PERMITTED: _("Driven while the vehicle had no valid permit."),
    TripReason.OPERATOR_NOT_ELIGIBLE: _(
        "Driven before the company was both settled in Yangquan and admitted to the pilot."
    ),
    TripReason.OUTSIDE_ZONE: _("Driven outside the road segments and zones approved at that time."),
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
    other_trip: int | None = None  # the trip a conflict names, where the reader may see it


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
