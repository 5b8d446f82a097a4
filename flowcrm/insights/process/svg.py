"""Server-rendered SVG for the process pages: the stage graph and a horizontal bar chart.

Plain, deterministic markup (testable as text) with ``<title>`` on the figure and on every node,
edge and bar so screen readers and hover tooltips both get the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from flowcrm.insights.process.bottlenecks import describe_duration

NODE_WIDTH, NODE_HEIGHT, GAP = 150, 64, 60
MARGIN_TOP = 120  # room for forward arcs that jump over stages


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    href: str = ""


def _order_nodes(view: dict[str, Any], stage_order: Sequence[str]) -> list[str]:
    seen = list(dict.fromkeys([s for s in stage_order if s in view["node_counts"]]))
    rest = sorted(a for a in view["node_counts"] if a not in seen)
    return seen + rest


def process_graph_svg(view: dict[str, Any], stage_order: Sequence[str], case_label: str) -> str:
    """Stages left to right (pipeline order, then the others); each node shows its case count
    and median time in stage; each edge its count and median duration. Forward edges arc above,
    backward ones below. The first-ranked bottleneck gets the class ``bottleneck``."""
    nodes = _order_nodes(view, stage_order)
    if not nodes:
        return _empty_svg("Process graph", f"No {case_label}s match these filters.")
    x_of = {name: 20 + i * (NODE_WIDTH + GAP) for i, name in enumerate(nodes)}
    width = 40 + len(nodes) * (NODE_WIDTH + GAP) - GAP
    height = MARGIN_TOP + NODE_HEIGHT + 140
    bottleneck = view["bottlenecks"][0]["activity"] if view["bottlenecks"] else None
    sojourn = view["sojourn"]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="process-graph" role="img" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="graph-title">',
        f'<title id="graph-title">Process graph of {view["cases"]} {case_label}s</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ]
    for index, edge in enumerate(view["dfg"]):
        parts.append(_edge_svg(edge, x_of, index))
    for name in nodes:
        parts.append(
            _node_svg(
                name, x_of[name], view["node_counts"][name], sojourn.get(name), name == bottleneck
            )
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _edge_svg(edge: dict[str, Any], x_of: dict[str, int], index: int) -> str:
    source, target = edge["source"], edge["target"]
    label = (
        f"{source} → {target}: {edge['count']}, median {describe_duration(edge['median_seconds'])}"
    )
    start = x_of[source] + NODE_WIDTH / 2
    end = x_of[target] + NODE_WIDTH / 2
    if source == target:
        path = (
            f"M{start - 20},{MARGIN_TOP} C{start - 40},{MARGIN_TOP - 50} "
            f"{start + 40},{MARGIN_TOP - 50} {start + 20},{MARGIN_TOP}"
        )
        text_x, text_y = start, MARGIN_TOP - 42.0
    else:
        forward = end > start
        span = abs(end - start)
        lift = 30 + span * 0.18 + (index % 3) * 6
        edge_y = MARGIN_TOP if forward else MARGIN_TOP + NODE_HEIGHT
        control = edge_y - lift if forward else edge_y + lift
        path = f"M{start},{edge_y} Q{(start + end) / 2},{control} {end},{edge_y}"
        text_x, text_y = (start + end) / 2, (edge_y + control) / 2 + (-4 if forward else 12)
    return (
        f'<g class="edge"><title>{escape(label)}</title>'
        f'<path d="{path}" fill="none" marker-end="url(#arrow)"/>'
        f'<text x="{text_x:.0f}" y="{text_y:.0f}" text-anchor="middle">{edge["count"]} · '
        f"{escape(describe_duration(edge['median_seconds']))}</text></g>"
    )


def _node_svg(name: str, x: int, count: int, stay: dict[str, Any] | None, hot: bool) -> str:
    median = describe_duration(stay["median_seconds"]) if stay else "-"
    css = "node bottleneck" if hot else "node"
    title = f"{name}: {count} events, median time in stage {median}"
    if hot:
        title += " (the bottleneck)"
    return (
        f'<g class="{css}"><title>{escape(title)}</title>'
        f'<rect x="{x}" y="{MARGIN_TOP}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="8"/>'
        f'<text x="{x + NODE_WIDTH / 2:.0f}" y="{MARGIN_TOP + 24}" text-anchor="middle" '
        f'class="node-name">{escape(name)}</text>'
        f'<text x="{x + NODE_WIDTH / 2:.0f}" y="{MARGIN_TOP + 46}" text-anchor="middle">'
        f"{count} · {escape(median)}</text></g>"
    )


def _empty_svg(title: str, message: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 400 60">'
        f"<title>{escape(title)}</title>"
        f'<text x="10" y="35">{escape(message)}</text></svg>'
    )


def bar_chart_svg(bars: Sequence[Bar], title: str) -> str:
    """Horizontal bars scaled to the largest value, label left, value text right; a bar with an
    ``href`` is a link (the records behind it)."""
    if not bars:
        return _empty_svg(title, "Nothing to show for these filters.")
    label_width, bar_width, row = 170, 420, 30
    height = 10 + row * len(bars)
    top = max(b.value for b in bars) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" '
        f'viewBox="0 0 {label_width + bar_width + 170} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for index, bar in enumerate(bars):
        y = 5 + index * row
        length = max(bar_width * bar.value / top, 1.0)
        body = (
            f"<title>{escape(bar.label)}: {escape(bar.text)}</title>"
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end">{escape(bar.label)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 10}" rx="3"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 18}">{escape(bar.text)}</text>'
        )
        if bar.href:
            parts.append(f'<a href="{escape(bar.href)}" class="bar">{body}</a>')
        else:
            parts.append(f'<g class="bar">{body}</g>')
    parts.append("</svg>")
    return "\n".join(parts)
