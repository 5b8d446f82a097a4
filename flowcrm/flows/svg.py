"""A server-rendered flowchart of a flow version: lanes as horizontal bands, nodes laid out
left to right by layer (longest path from the start), edges as labelled connectors.

No diagram library and no JavaScript: the layout is a longest-path layering (cycles are
broken by ignoring edges back to an earlier layer), nodes are placed in their lane's band in
layer order, and every text is escaped.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

NODE_WIDTH, NODE_HEIGHT = 150, 46
LAYER_GAP, ROW_GAP = 60, 18
LANE_LABEL_WIDTH, LANE_PADDING = 110, 14
KIND_COLORS = {
    "action": "#e8f0fe",
    "branch": "#fff4e5",
    "delay": "#f1f3f4",
    "wait_event": "#f1f3f4",
    "approval": "#fde7f3",
    "set": "#e6f4ea",
    "end": "#e6f4ea",
}


def _layers(definition: dict[str, Any]) -> dict[str, int]:
    nodes = [n["id"] for n in definition["nodes"]]
    outgoing: dict[str, list[str]] = defaultdict(list)
    for edge in definition.get("edges", []):
        outgoing[edge["from"]].append(edge["to"])
    start = definition.get("start") or (nodes[0] if nodes else "")
    layer: dict[str, int] = {start: 0} if start else {}
    order = [start] if start else []
    # breadth-first, then push targets right of their sources (bounded by the node count)
    for node_id in order:
        for target in outgoing[node_id]:
            if target not in layer:
                layer[target] = layer[node_id] + 1
                order.append(target)
    for _ in range(len(nodes)):
        changed = False
        for source in order:
            for target in outgoing[source]:
                if (
                    layer[target] <= layer[source]
                    and target != start
                    and not _reaches(outgoing, target, source, len(nodes))
                ):
                    layer[target] = layer[source] + 1
                    changed = True
        if not changed:
            break
    deepest = max(layer.values(), default=-1)
    for node_id in nodes:  # unreachable nodes go after the rest
        if node_id not in layer:
            deepest += 1
            layer[node_id] = deepest
    return layer


def _reaches(outgoing: dict[str, list[str]], source: str, target: str, limit: int) -> bool:
    seen, stack = {source}, [source]
    while stack and len(seen) <= limit:
        for nxt in outgoing[stack.pop()]:
            if nxt == target:
                return True
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def render_flowchart(definition: dict[str, Any], *, highlight: str | None = None) -> str:
    """An ``<svg>`` document (a string) of ``definition``; ``highlight`` marks one node."""
    nodes = definition.get("nodes", [])
    lanes = [lane["id"] for lane in definition.get("lanes", [])] or [""]
    lane_names = {lane["id"]: lane["name"] for lane in definition.get("lanes", [])}
    lane_of = {n["id"]: n.get("lane") or lanes[0] for n in nodes}
    layer = _layers(definition)
    rows: dict[tuple[str, int], int] = defaultdict(int)
    slot: dict[str, tuple[str, int, int]] = {}
    for node in sorted(nodes, key=lambda n: (layer[n["id"]], n["id"])):
        key = (lane_of[node["id"]], layer[node["id"]])
        slot[node["id"]] = (key[0], key[1], rows[key])
        rows[key] += 1
    lane_rows = {
        lane: max([r for (ln, _), r in rows.items() if ln == lane], default=1) for lane in lanes
    }
    lane_top: dict[str, int] = {}
    y = 0
    for lane in lanes:
        lane_top[lane] = y
        y += lane_rows[lane] * (NODE_HEIGHT + ROW_GAP) + 2 * LANE_PADDING
    height = max(y, NODE_HEIGHT + 2 * LANE_PADDING)
    width = LANE_LABEL_WIDTH + (max(layer.values(), default=0) + 1) * (NODE_WIDTH + LAYER_GAP)
    position: dict[str, tuple[int, int]] = {}
    for node_id, (lane, column, row) in slot.items():
        x = LANE_LABEL_WIDTH + LAYER_GAP // 2 + column * (NODE_WIDTH + LAYER_GAP)
        position[node_id] = (x, lane_top[lane] + LANE_PADDING + row * (NODE_HEIGHT + ROW_GAP))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flowchart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Flowchart of {escape(str(definition.get("name", "")))}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#5f6368"/></marker></defs>',
    ]
    for index, lane in enumerate(lanes):
        top = lane_top[lane]
        band = lane_rows[lane] * (NODE_HEIGHT + ROW_GAP) + 2 * LANE_PADDING
        fill = "#fafafa" if index % 2 == 0 else "#ffffff"
        parts.append(
            f'<g class="lane"><rect x="0" y="{top}" width="{width}" height="{band}" '
            f'fill="{fill}" stroke="#dadce0"/><text x="8" y="{top + 20}" font-size="12" '
            f'font-weight="bold" fill="#3c4043">{escape(lane_names.get(lane, lane))}</text></g>'
        )
    for edge in definition.get("edges", []):
        if edge["from"] not in position or edge["to"] not in position:
            continue
        (x1, y1), (x2, y2) = position[edge["from"]], position[edge["to"]]
        start_x, start_y = x1 + NODE_WIDTH, y1 + NODE_HEIGHT // 2
        end_x, end_y = x2, y2 + NODE_HEIGHT // 2
        if end_x <= start_x:  # a loop back: route below the nodes
            low = max(y1, y2) + NODE_HEIGHT + ROW_GAP // 2
            points = [
                (start_x, start_y), (start_x + 12, start_y), (start_x + 12, low),
                (end_x - 12, low), (end_x - 12, end_y), (end_x, end_y),
            ]  # fmt: skip
            path = "M" + " L".join(f"{px},{py}" for px, py in points)
        else:
            middle = (start_x + end_x) // 2
            path = f"M{start_x},{start_y} C{middle},{start_y} {middle},{end_y} {end_x},{end_y}"
        parts.append(
            f'<path class="edge" d="{path}" fill="none" stroke="#5f6368" marker-end="url(#arrow)"/>'
        )
        if edge.get("label"):
            parts.append(
                f'<text x="{(start_x + end_x) // 2}" y="{(start_y + end_y) // 2 - 4}" '
                f'font-size="10" text-anchor="middle" fill="#5f6368">{escape(edge["label"])}</text>'
            )
    for node in nodes:
        x, y = position[node["id"]]
        kind = node.get("kind", "")
        title = node.get("name") or node["id"]
        subtitle = node.get("action", kind).replace("_", " ")
        stroke = "#d93025" if node["id"] == highlight else "#5f6368"
        radius = 23 if kind == "end" else 6
        stroke_width = 2 if node["id"] == highlight else 1
        shape = (
            f'<rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="{radius}" '
            f'fill="{KIND_COLORS.get(kind, "#fff")}" stroke="{stroke}" '
            f'stroke-width="{stroke_width}"/>'
        )
        parts.append(
            f'<g class="node" data-node="{escape(node["id"])}">{shape}'
            f'<text x="{x + NODE_WIDTH // 2}" y="{y + 19}" font-size="12" text-anchor="middle" '
            f'fill="#202124">{escape(title[:22])}</text>'
            f'<text x="{x + NODE_WIDTH // 2}" y="{y + 35}" font-size="10" text-anchor="middle" '
            f'fill="#5f6368">{escape(subtitle[:26])}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
