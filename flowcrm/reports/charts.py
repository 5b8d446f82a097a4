"""Server-rendered, accessible SVG charts (bar, line, funnel) with one consistent look.

Every chart has a ``<title>`` and ``<desc>``, labelled axes/values, and a ``<title>`` on each mark
so hovering shows the exact number; the SVG scales to its container (viewBox), so it stays
legible from a phone to a laptop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 56
PALETTE = ("#2f6fed", "#14804a", "#b54708", "#7a5af8", "#c4320a", "#0e9384")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _frame(title: str, description: str, body: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="11">'
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>{body}</svg>"
    )


def _axis(peak: float) -> str:
    parts = []
    for step in range(5):
        value = peak * step / 4
        y = HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * step / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6eb"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#667085">'
            f"{_number(value)}</text>"
        )
    return "".join(parts)


def _label(x: float, text: str) -> str:
    short = text if len(text) <= 14 else text[:13] + "…"
    return (
        f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="end" fill="#344054" '
        f'transform="rotate(-30 {x:.1f} {HEIGHT - BOTTOM + 16})">{escape(short)}</text>'
    )


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    peak = max((v or 0 for s in series for v in s.values), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.8 / max(len(series), 1), 1)
    body = [_axis(peak)]
    for i, label in enumerate(labels):
        for j, serie in enumerate(series):
            value = serie.values[i] or 0
            height = plot_h * value / peak
            x = LEFT + i * slot + slot * 0.1 + j * bar_w
            body.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar_w:.1f}" '
                f'height="{height:.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(label)} · {escape(serie.name)}: "
                f"{_number(serie.values[i])}</title></rect>"
            )
        body.append(_label(LEFT + i * slot + slot / 2, label))
    return _frame(
        title,
        f"Bar chart of {', '.join(s.name for s in series)} by {len(labels)} groups",
        "".join(body),
    )


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series]) -> str:
    peak = max((v or 0 for s in series for v in s.values), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)
    body = [_axis(peak)]
    for j, serie in enumerate(series):
        color = PALETTE[j % len(PALETTE)]
        points = [
            (LEFT + i * step, TOP + plot_h - plot_h * (v or 0) / peak)
            for i, v in enumerate(serie.values)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for (x, y), label, value in zip(points, labels, serie.values, strict=True):
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}">'
                f"<title>{escape(label)} · {escape(serie.name)}: {_number(value)}</title></circle>"
            )
    every = max(len(labels) // 12, 1)
    body.extend(_label(LEFT + i * step, label) for i, label in enumerate(labels) if i % every == 0)
    return _frame(
        title,
        f"Line chart of {', '.join(s.name for s in series)} over {len(labels)} points",
        "".join(body),
    )


def funnel_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    links: Sequence[str] | None = None,
) -> str:
    """Horizontal funnel bars with the drop-off from the previous step; bars may link."""
    peak = max((v or 0 for v in values), default=0) or 1
    row_h = (HEIGHT - TOP - 8) / max(len(labels), 1)
    body = []
    previous: float | None = None
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        amount = value or 0
        width = (WIDTH - 240) * amount / peak
        x = 150 + (WIDTH - 240 - width) / 2
        y = TOP + i * row_h
        drop = f" (-{(1 - amount / previous):.0%})" if previous else ""
        bar = (
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 1):.1f}" '
            f'height="{row_h * 0.75:.1f}" '
            f'fill="{PALETTE[0]}" opacity="{1 - i * 0.08:.2f}"><title>{escape(label)}: '
            f"{_number(value)}{drop}</title></rect>"
        )
        if links:
            bar = f'<a href="{escape(links[i])}">{bar}</a>'
        body.append(bar)
        body.append(
            f'<text x="8" y="{y + row_h * 0.5:.1f}" fill="#344054">{escape(label[:22])}</text>'
        )
        body.append(
            f'<text x="{WIDTH - 8}" y="{y + row_h * 0.5:.1f}" text-anchor="end" fill="#344054">'
            f"{_number(value)}{escape(drop)}</text>"
        )
        previous = amount or None
    return _frame(title, f"Funnel of {len(labels)} steps", "".join(body))
