"""GPX: track points through defusedxml's SAX parser (no entity expansion, no external
entities; SAX gives line numbers). Route and waypoint points are plans, not recordings."""

from __future__ import annotations

from typing import Any
from xml.sax import SAXException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import Locator

import numpy as np
import pyarrow as pa
from defusedxml import DefusedXmlException
from defusedxml import sax as defused_sax

from trips.reason_codes import TripReason

from .columns import iso_strings_to_ns
from .trace import Note, ParsedTrace, TraceError, build_trace


class _GpxHandler(ContentHandler):
    """Collects track points (trkpt) with their line; routes and waypoints are not tracks."""

    def __init__(self) -> None:
        super().__init__()
        self.locator: Locator | None = None
        self.lat: list[float] = []
        self.lon: list[float] = []
        self.time: list[str | None] = []
        self.lines: list[int] = []
        self.in_point = False
        self.in_time = False
        self.text: list[str] = []
        self.root: str | None = None
        self.other_points = 0

    def setDocumentLocator(self, locator: Locator) -> None:  # noqa: N802 - SAX API
        self.locator = locator

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 - SAX API
        local = name.rsplit(":", 1)[-1]
        if self.root is None:
            self.root = local
        if local == "trkpt":
            line = int(self.locator.getLineNumber() or 0) if self.locator else 0
            try:
                lat, lon = float(attrs.getValue("lat")), float(attrs.getValue("lon"))
            except (KeyError, ValueError):
                raise TraceError(
                    TripReason.GPX_INVALID, "A track point has no valid lat/lon attributes.", line
                ) from None
            self.lat.append(lat)
            self.lon.append(lon)
            self.time.append(None)
            self.lines.append(line)
            self.in_point = True
        elif local in ("rtept", "wpt"):
            self.other_points += 1
        elif local == "time" and self.in_point:
            self.in_time = True
            self.text = []

    def endElement(self, name: str) -> None:  # noqa: N802 - SAX API
        local = name.rsplit(":", 1)[-1]
        if local == "trkpt":
            self.in_point = False
        elif local == "time" and self.in_time:
            self.time[-1] = "".join(self.text).strip()
            self.in_time = False

    def characters(self, content: str) -> None:
        if self.in_time:
            self.text.append(content)


def parse_gpx(data: bytes) -> ParsedTrace:
    handler = _GpxHandler()
    try:
        defused_sax.parseString(data, handler, forbid_dtd=True)
    except DefusedXmlException:
        raise TraceError(
            TripReason.XML_FORBIDDEN, "XML entity or DTD declarations are not accepted."
        ) from None
    except SAXException as exc:
        line = getattr(exc, "getLineNumber", lambda: None)()
        raise TraceError(
            TripReason.XML_INVALID, f"The XML is not well formed: {exc}", line
        ) from None
    if handler.root != "gpx":
        raise TraceError(
            TripReason.GPX_INVALID, f"The root element is <{handler.root}>, not <gpx>.", 1
        )
    notes: list[Note] = []
    if handler.other_points and not handler.lat:
        notes.append(
            Note(
                TripReason.GPX_NO_TRACK,
                "Route and waypoint points are plans, not recordings; only track points count.",
                handler.other_points,
            )
        )
    lines = np.asarray(handler.lines, dtype=np.int64)
    timed = np.asarray([t is not None and t != "" for t in handler.time], dtype=bool)
    if not timed.all():
        notes.append(
            Note(
                TripReason.UNTIMED_POINTS,
                "Track points without <time> cannot be measured and were dropped.",
                int((~timed).sum()),
                int(lines[int(np.argmax(~timed))]),
            )
        )
    times = [t for t, ok in zip(handler.time, timed, strict=True) if ok]
    lines = lines[timed]
    t_ns = (
        iso_strings_to_ns(pa.array(times, pa.string()), lines, naive_is_utc=True)
        if times
        else np.zeros(0, dtype=np.int64)
    )
    return build_trace(
        t_ns=t_ns,
        lon=np.asarray(handler.lon, dtype=np.float64)[timed],
        lat=np.asarray(handler.lat, dtype=np.float64)[timed],
        auto=None,
        odometer_km=None,
        fmt="gpx",
        notes=notes,
        lines=lines,
    )
