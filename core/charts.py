"""Charts drawn on the server as SVG: no JavaScript, no build step, no library (docs/ui.md,
"Charts"). Every text in the SVG is escaped; the caller gives translated labels. A chart
is an image with a title and a description for screen readers, and each page also gives
the same figures as text or a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Point:
    label: str  # the x-axis label (e.g. "2026-03")
    value: float
    url: str = ""  # where a bar leads (bar_chart), e.g. the trips behind it


def _c(value: float) -> str:
    """An SVG coordinate, to a tenth of a unit."""
    return f"{value:.1f}"


def _fmt(value: float, decimals: int) -> str:
    return number_format(value, decimals, force_grouping=True)


def line_chart(
    points: Sequence[Point],
    *,
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    target: float | None = None,
    target_label: str = "",
    decimals: int = 3,
    width: int = 480,
    height: int = 200,
) -> SafeString:
    """A step line of `points` (left to right) with an optional dashed target line."""
    left, right, top, bottom = 48, 12, 14, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([p.value for p in points] + [target or 0.0, 1e-9])
    top_value *= 1.08

    def x(i: int) -> float:
        return left + (plot_w * i / max(1, len(points) - 1))

    def y(value: float) -> float:
        return top + plot_h * (1 - value / top_value)

    parts: list[str] = [
        format_html(
            '<svg class="chart" viewBox="0 0 {} {}" width="100%" role="img" '
            'aria-labelledby="{}-t {}-d" xmlns="http://www.w3.org/2000/svg">',
            width,
            height,
            chart_id,
            chart_id,
        ),
        format_html('<title id="{}-t">{}</title>', chart_id, title),
        format_html('<desc id="{}-d">{}</desc>', chart_id, description),
    ]
    # the value axis: zero and the top, with the unit
    for value in (0.0, top_value / 1.08):
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                left,
                width - right,
                _c(y(value)),
                _c(y(value)),
                left - 4,
                _c(y(value) + 4),
                _fmt(value, 0),
            )
        )
    parts.append(format_html('<text class="axis unit" x="4" y="{}">{}</text>', top - 2, unit))
    if target is not None:
        parts.append(
            format_html(
                '<line class="target" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="target-label" x="{}" y="{}" text-anchor="end">{}</text>',
                left,
                width - right,
                _c(y(target)),
                _c(y(target)),
                width - right,
                _c(y(target) - 4),
                target_label,
            )
        )
    if points:
        path = [f"M{x(0):.1f},{y(points[0].value):.1f}"]
        for i in range(1, len(points)):
            path.append(f"H{x(i):.1f}V{y(points[i].value):.1f}")
        parts.append(format_html('<path class="series" d="{}"/>', " ".join(path)))
        for i, point in enumerate(points):
            parts.append(
                format_html(
                    '<circle class="dot" cx="{}" cy="{}" r="2.5"><title>{}: {} {}</title></circle>',
                    _c(x(i)),
                    _c(y(point.value)),
                    point.label,
                    _fmt(point.value, decimals),
                    unit,
                )
            )
        # first, middle and last x labels
        for i in sorted({0, len(points) // 2, len(points) - 1}):
            parts.append(
                format_html(
                    '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                    _c(x(i)),
                    height - 8,
                    points[i].label,
                )
            )
    parts.append("</svg>")
    # every part is built by format_html, which escapes each value
    return mark_safe("".join(parts))  # noqa: S308


def bar_chart(
    points: Sequence[Point],
    *,
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    decimals: int = 3,
    width: int = 480,
) -> SafeString:
    """Horizontal bars, one row per point (label, bar, value), top to bottom; a point with
    a `url` is a link, so the bar leads where its table row does."""
    row, left, right, top = 22, 96, 96, 6
    height = top * 2 + row * max(1, len(points))
    top_value = max([p.value for p in points] + [1e-9])
    plot_w = width - left - right
    parts: list[str] = [
        format_html(
            '<svg class="chart bars" viewBox="0 0 {} {}" width="100%" role="img" '
            'aria-labelledby="{}-t {}-d" xmlns="http://www.w3.org/2000/svg">',
            width,
            height,
            chart_id,
            chart_id,
        ),
        format_html('<title id="{}-t">{}</title>', chart_id, title),
        format_html('<desc id="{}-d">{}</desc>', chart_id, description),
    ]
    for i, point in enumerate(points):
        y = top + i * row
        # Grouped in every language, as the tables beside these charts are (Django's
        # Chinese format has no thousands separator).
        value = f"{point.value:,.{decimals}f} {unit}"
        bar = format_html(
            '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>'
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>'
            '<text class="value" x="{}" y="{}">{}</text>',
            left - 6,
            _c(y + row * 0.68),
            point.label,
            left,
            _c(y + 3),
            _c(max(0.0, plot_w * point.value / top_value)),
            row - 6,
            point.label,
            value,
            _c(left + plot_w * point.value / top_value + 4),
            _c(y + row * 0.68),
            value,
        )
        parts.append(format_html('<a href="{}">{}</a>', point.url, bar) if point.url else bar)
    parts.append("</svg>")
    # every part is built by format_html, which escapes each value
    return mark_safe("".join(parts))  # noqa: S308
