"""Checks across flows: cascades (A's writes trigger B whose writes trigger A) and conflicts
(two flows writing the same field on the same trigger).

Input is a list of ``(flow name, definition)`` pairs, e.g. every active flow plus the draft
about to be published; findings name the flows and the writing nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowcrm.flows.core.actions import FieldAccess, get_action
from flowcrm.flows.core.analysis import strongly_connected
from flowcrm.flows.core.definition import FlowDefinition
from flowcrm.flows.core.findings import Finding
from flowcrm.flows.core.nodes import ActionNode

NamedDefinition = tuple[str, FlowDefinition]


@dataclass(frozen=True)
class Write:
    flow: str
    node_id: str
    access: FieldAccess


def flow_writes(name: str, definition: FlowDefinition) -> list[Write]:
    """Every field the flow's actions declare they write, resolved to record types."""
    writes: list[Write] = []
    for node in definition.nodes:
        if not isinstance(node, ActionNode):
            continue
        spec = get_action(node.action)
        if spec is None:
            continue
        config = spec.parse_config(node.config)
        for access in spec.declared_writes(config):
            writes.append(Write(name, node.id, access.on(definition.record_type)))
    return writes


def check_flows(flows: Sequence[NamedDefinition]) -> list[Finding]:
    """Cascade cycles and write conflicts among ``flows`` (errors)."""
    return _cascades(flows) + _conflicts(flows)


def _cascades(flows: Sequence[NamedDefinition]) -> list[Finding]:
    writes = {name: flow_writes(name, definition) for name, definition in flows}
    triggers = {name: definition.trigger for name, definition in flows}
    # edge A -> B, with the writes of A that fire B
    fires: dict[str, dict[str, list[Write]]] = {name: {} for name in writes}
    for source, source_writes in writes.items():
        for target, trigger in triggers.items():
            firing = [w for w in source_writes if trigger.fired_by(w.access)]
            if firing:
                fires[source][target] = firing
    graph = {name: list(targets) for name, targets in fires.items()}
    findings: list[Finding] = []
    for component in strongly_connected(graph):
        first = component[0]
        if len(component) == 1 and first not in fires[first]:
            continue
        cycle = _cycle_through(first, set(component), graph)
        hops = list(zip(cycle, [*cycle[1:], cycle[0]], strict=True))
        described = []
        nodes: list[str] = []
        for source, target in hops:
            write = fires[source][target][0]
            described.append(
                f"{source!r} ({write.node_id} writes {write.access}) triggers {target!r}"
            )
            nodes += [f"{source}.{w.node_id}" for w in fires[source][target]]
        findings.append(
            Finding(
                "error",
                "cascade",
                "cascade: " + ", which ".join(described),
                nodes=sorted(set(nodes)),
                flows=cycle,
            )
        )
    return findings


def _cycle_through(start: str, members: set[str], graph: dict[str, list[str]]) -> list[str]:
    """A simple cycle from ``start`` back to it inside one strongly connected component."""
    if start in graph[start]:
        return [start]
    path = [start]
    seen = {start}
    iterators = [iter(sorted(t for t in graph[start] if t in members))]
    while iterators:
        target = next(iterators[-1], None)
        if target is None:
            iterators.pop()
            seen.discard(path.pop())
            continue
        if target == start:
            return path
        if target not in seen:
            path.append(target)
            seen.add(target)
            iterators.append(iter(sorted(t for t in graph[target] if t in members)))
    return [start]  # unreachable for a real component


def _conflicts(flows: Sequence[NamedDefinition]) -> list[Finding]:
    by_trigger: dict[str, list[NamedDefinition]] = {}
    for name, definition in flows:
        by_trigger.setdefault(definition.trigger.signature(), []).append((name, definition))
    findings: list[Finding] = []
    for group in by_trigger.values():
        if len(group) < 2:
            continue
        by_field: dict[FieldAccess, list[Write]] = {}
        for name, definition in group:
            for write in flow_writes(name, definition):
                by_field.setdefault(write.access, []).append(write)
        for access, field_writes in sorted(by_field.items(), key=lambda item: str(item[0])):
            flow_names = sorted({w.flow for w in field_writes})
            if len(flow_names) < 2:
                continue
            nodes = sorted({f"{w.flow}.{w.node_id}" for w in field_writes})
            findings.append(
                Finding(
                    "error",
                    "conflict",
                    f"flows {', '.join(repr(n) for n in flow_names)} all write {access} on the "
                    f"same trigger ({', '.join(nodes)})",
                    nodes=nodes,
                    flows=flow_names,
                )
            )
    return findings
