"""Server-rendered SVG charts: horizontal bars and lines, no JavaScript, no chart library.

Each chart is an `<svg role="img">` named by its `<title>` and described by a `<desc>`, with
its labels and values written as text; the page shows the same figures as a table beside it.
Built with ElementTree, so every label is escaped and the markup is well-formed.
"""

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH = 640
# Dark enough for text and bars on white (contrast >= 4.5:1), and told apart by the legend.
PALETTE = ("#1f6f5c", "#a3311b", "#3d5a98", "#6b5200")
FONT = 12
INK = "#1d2330"
LABEL_CHARS = 26


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _el(parent, tag: str, text: str | None = None, **attributes) -> ET.Element:
    element = ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attributes.items()}
    )
    if text is not None:
        element.text = text
    return element


def _head_height(series: Sequence[Series]) -> int:
    """Room for the visible title, and for the legend when there are several series."""
    return 30 + (22 if len(series) > 1 else 0)


def _svg(
    chart_id: str, title: str, description: str, series: Sequence[Series], height: int
) -> ET.Element:
    """The chart's root: named by its title (shown too), described, and with a legend when
    it has more than one series."""
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "class": "chart",
            "role": "img",
            "viewBox": f"0 0 {WIDTH} {height}",
            "width": str(WIDTH),
            "height": str(height),
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "font-size": str(FONT),
            "font-family": "system-ui, sans-serif",
        },
    )
    _el(svg, "title", title, id=f"{chart_id}-title")
    _el(svg, "desc", description, id=f"{chart_id}-desc")
    _el(svg, "text", title, x=8, y=20, font_size=FONT + 2, font_weight=600, fill=INK)
    if len(series) > 1:
        x = 8
        for colour, one in zip(PALETTE, series, strict=False):
            _el(svg, "rect", x=x, y=32, width=12, height=12, fill=colour)
            _el(svg, "text", one.name, x=x + 16, y=42, fill=INK)
            x += 28 + 7 * len(one.name)
    return svg


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _nice_ceiling(value: float) -> float:
    """The round number (1, 2 or 5 times a power of ten) at or above `value`."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _done(svg: ET.Element) -> Markup:
    return Markup(ET.tostring(svg, encoding="unicode"))


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = str,
) -> Markup:
    """One row of bars per label (one bar per series), each bar followed by its value."""
    bar, gap, right = 14, 10, 110
    left = 16 + 7 * max((len(_short(label)) for label in labels), default=0)
    head = _head_height(series)
    group = bar * len(series) + gap
    height = head + group * max(len(labels), 1) + gap
    svg = _svg(chart_id, title, description, series, height)
    top = max((v for s in series for v in s.values), default=0) or 1
    for row, label in enumerate(labels):
        y = head + gap + row * group
        name = _el(
            svg,
            "text",
            _short(label),
            x=left - 8,
            y=y + (group - gap) / 2,
            text_anchor="end",
            dominant_baseline="middle",
        )
        if label != _short(label):
            _el(name, "title", label)
        for n, one in enumerate(series):
            value = one.values[row]
            length = (WIDTH - left - right) * value / top
            top_y = y + n * bar
            _el(
                svg,
                "rect",
                x=left,
                y=top_y,
                width=f"{max(length, 0):.1f}",
                height=bar - 2,
                fill=PALETTE[n % len(PALETTE)],
            )
            _el(svg, "text", fmt(value), x=f"{left + max(length, 0) + 4:.1f}", y=top_y + bar - 4)
    return _done(svg)


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = str,
    ticks: int = 5,
) -> Markup:
    """Points joined by lines over evenly spaced labels, with a labelled value axis."""
    left, right, bottom = 90, 24, 40
    top_margin = _head_height(series) + 10
    height = top_margin + 210 + bottom
    svg = _svg(chart_id, title, description, series, height)
    ceiling = _nice_ceiling(max((v for s in series for v in s.values), default=0))
    plot_h = height - top_margin - bottom
    plot_w = WIDTH - left - right
    step = plot_w / max(len(labels) - 1, 1)

    def y_of(value: float) -> float:
        return top_margin + plot_h * (1 - value / ceiling)

    for tick in range(ticks + 1):
        value = ceiling * tick / ticks
        y = f"{y_of(value):.1f}"
        _el(svg, "line", x1=left, x2=WIDTH - right, y1=y, y2=y, stroke="#d9d4c7")
        _el(svg, "text", fmt(value), x=left - 6, y=y, text_anchor="end", dominant_baseline="middle")
    for i, label in enumerate(labels):
        _el(
            svg,
            "text",
            label,
            x=f"{left + i * step:.1f}",
            y=height - bottom + 18,
            text_anchor="middle",
        )
    for n, one in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        points = [(left + i * step, y_of(v)) for i, v in enumerate(one.values)]
        _el(
            svg,
            "polyline",
            points=" ".join(f"{x:.1f},{y:.1f}" for x, y in points),
            fill="none",
            stroke=colour,
            stroke_width=2,
        )
        for (x, y), label, value in zip(points, labels, one.values, strict=True):
            dot = _el(svg, "circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r=4, fill=colour)
            _el(dot, "title", f"{one.name}, {label}: {fmt(value)}")
    return _done(svg)
