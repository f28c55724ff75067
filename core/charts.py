"""Charts drawn on the server as SVG: no JavaScript, no build step, no library (docs/ui.md,
"Charts"). Every text in the SVG is escaped; the caller gives translated labels. A chart
is an image with a title and a description for screen readers, and each page also gives
the same figures as text or a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    """Grouped by thousands with commas in every language, as the tables beside the charts
    and the bars are (Django's Chinese format groups none: "1234.567" beside "1,234.567")."""
    return f"{value:,.{decimals}f}"


@dataclass(frozen=True)
class Series:
    """One line of a chart: a name (for its legend and dots' titles) and a value per x label."""

    name: str
    values: Sequence[float]


# A line's colour by its place; the page's legend names each line in words beside its colour.
SERIES_COLORS = ("#0b4fa8", "#1b6e3a", "#a4161a", "#6b3fa0", "#b35c00", "#0b7285", "#4f5a6b")


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
    return lines_chart(
        [p.label for p in points],
        [Series("", [p.value for p in points])],
        chart_id=chart_id,
        title=title,
        description=description,
        unit=unit,
        target=target,
        target_label=target_label,
        decimals=decimals,
        width=width,
        height=height,
        steps=True,
    )


def lines_chart(
    labels: Sequence[str],
    series: Sequence[Series],
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
    steps: bool = False,
) -> SafeString:
    """One line per series over the x `labels` (left to right), coloured by SERIES_COLORS in
    order, as steps (a level held until the next point) or straight segments, with an
    optional dashed target line."""
    left, right, top, bottom = 48, 12, 14, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = max([v for one in series for v in one.values] + [target or 0.0, 1e-9])
    top_value *= 1.08

    def x(i: int) -> float:
        return left + (plot_w * i / max(1, len(labels) - 1))

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
    for n, one in enumerate(series):
        values = list(one.values)
        if not values:
            continue
        color = SERIES_COLORS[n % len(SERIES_COLORS)]
        path = [f"M{x(0):.1f},{y(values[0]):.1f}"]
        for i in range(1, len(values)):
            step = f"H{x(i):.1f}V{y(values[i]):.1f}" if steps else f"L{x(i):.1f},{y(values[i]):.1f}"
            path.append(step)
        parts.append(
            format_html('<path class="series" style="stroke: {}" d="{}"/>', color, " ".join(path))
        )
        name = f"{one.name} · " if one.name else ""
        for i, value in enumerate(values):
            parts.append(
                format_html(
                    '<circle class="dot" style="fill: {}" cx="{}" cy="{}" r="2.5">'
                    "<title>{}{}: {} {}</title></circle>",
                    color,
                    _c(x(i)),
                    _c(y(value)),
                    name,
                    labels[i],
                    _fmt(value, decimals),
                    unit,
                )
            )
    if labels:
        # first, middle and last x labels, the ends anchored inside the picture
        last = len(labels) - 1
        for i in sorted({0, len(labels) // 2, last}):
            anchor, at = ("middle", x(i))
            if i == 0:
                anchor, at = "start", x(i) - left / 2
            elif i == last:
                anchor, at = "end", float(width - 2)
            parts.append(
                format_html(
                    '<text class="axis" x="{}" y="{}" text-anchor="{}">{}</text>',
                    _c(at),
                    height - 8,
                    anchor,
                    labels[i],
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
