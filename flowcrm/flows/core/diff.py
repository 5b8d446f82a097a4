"""What changed between two versions of a flow: nodes, edges, config keys, flow settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowcrm.flows.core.definition import FlowDefinition

EdgeKey = tuple[str, str, str | None]


@dataclass(frozen=True)
class NodeChange:
    node_id: str
    #: Dotted keys that differ: ``name``, ``lane``, ``kind``, ``action``, ``config.subject``, ...
    changed_keys: list[str]


@dataclass(frozen=True)
class DefinitionDiff:
    nodes_added: list[str] = field(default_factory=list)
    nodes_removed: list[str] = field(default_factory=list)
    nodes_changed: list[NodeChange] = field(default_factory=list)
    edges_added: list[EdgeKey] = field(default_factory=list)
    edges_removed: list[EdgeKey] = field(default_factory=list)
    #: Top-level settings that differ: ``trigger``, ``enrollment``, ``goal``, ``lanes``, ...
    settings_changed: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(
            (
                self.nodes_added,
                self.nodes_removed,
                self.nodes_changed,
                self.edges_added,
                self.edges_removed,
                self.settings_changed,
            )
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (edges as ``{"from", "to", "label"}``)."""

        def edges(keys: list[EdgeKey]) -> list[dict[str, Any]]:
            return [{"from": s, "to": t, "label": label} for s, t, label in keys]

        return {
            "nodes_added": self.nodes_added,
            "nodes_removed": self.nodes_removed,
            "nodes_changed": [
                {"node_id": c.node_id, "changed_keys": c.changed_keys} for c in self.nodes_changed
            ],
            "edges_added": edges(self.edges_added),
            "edges_removed": edges(self.edges_removed),
            "settings_changed": self.settings_changed,
        }


def diff(version_a: FlowDefinition, version_b: FlowDefinition) -> DefinitionDiff:
    """Changes from ``version_a`` to ``version_b`` (node and edge lists keep ``b``'s order)."""
    data_a, data_b = version_a.to_data(), version_b.to_data()
    nodes_a = {n["id"]: n for n in data_a.pop("nodes")}
    nodes_b = {n["id"]: n for n in data_b.pop("nodes")}
    edges_a = [_edge_key(e) for e in data_a.pop("edges")]
    edges_b = [_edge_key(e) for e in data_b.pop("edges")]
    changed = [
        NodeChange(node_id, keys)
        for node_id, node in nodes_b.items()
        if node_id in nodes_a and (keys := _changed_keys(nodes_a[node_id], node))
    ]
    return DefinitionDiff(
        nodes_added=[n for n in nodes_b if n not in nodes_a],
        nodes_removed=[n for n in nodes_a if n not in nodes_b],
        nodes_changed=changed,
        edges_added=[e for e in edges_b if e not in edges_a],
        edges_removed=[e for e in edges_a if e not in edges_b],
        settings_changed=sorted(
            k for k in data_a.keys() | data_b.keys() if data_a.get(k) != data_b.get(k)
        ),
    )


def _edge_key(edge: dict[str, Any]) -> EdgeKey:
    return (edge["from"], edge["to"], edge.get("label"))


def _changed_keys(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key in sorted(a.keys() | b.keys()):
        left, right = a.get(key), b.get(key)
        if left == right:
            continue
        if key == "config" and not prefix and isinstance(left, dict) and isinstance(right, dict):
            keys += _changed_keys(left, right, "config.")
        else:
            keys.append(prefix + key)
    return keys
