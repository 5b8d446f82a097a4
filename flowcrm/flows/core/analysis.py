"""Static checks of one definition, run before publishing.

- ``unreachable`` (warning): a node no path from the start reaches;
- ``dead_end`` (error): a node from which no ``end`` node can be reached;
- ``missing_edge`` (error): a node without an edge it needs (an approval's ``rejected``, ...);
- ``branch_without_default`` (error): a branch with no ``default`` edge;
- ``loop_without_pause`` (error): a cycle with no delay, wait or approval (it would spin);
- ``unknown_field`` (error): an action, template or delay naming a field the record type lacks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

from flowcrm.flows.core.actions import RECORD_CREATED, FieldAccess, get_action
from flowcrm.flows.core.definition import FlowDefinition
from flowcrm.flows.core.errors import format_path
from flowcrm.flows.core.findings import Finding
from flowcrm.flows.core.language import fields_for
from flowcrm.flows.core.nodes import ActionNode, BranchNode, DelayNode, EndNode, Node
from flowcrm.flows.core.templates import record_fields_in_template
from flowcrm.flows.core.triggers import DateTrigger

Graph = Mapping[str, list[str]]


def successors(definition: FlowDefinition) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {node.id: [] for node in definition.nodes}
    for edge in definition.edges:
        if edge.target not in graph[edge.source]:
            graph[edge.source].append(edge.target)
    return graph


def reachable_from(graph: Graph, starts: list[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(starts)
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(graph.get(current, ()))
    return seen


def reversed_graph(graph: Graph) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {node: [] for node in graph}
    for source, targets in graph.items():
        for target in targets:
            result[target].append(source)
    return result


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), each in graph order."""
    order = {node: i for i, node in enumerate(graph)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component, key=order.__getitem__))
    return components


def check_definition(definition: FlowDefinition) -> list[Finding]:
    """Every finding for one definition, errors first, each naming its nodes."""
    graph = successors(definition)
    findings: list[Finding] = []
    findings += _reachability(definition, graph)
    findings += _edges(definition)
    findings += _spinning_loops(definition, graph)
    findings += _unknown_fields(definition)
    index = {node.id: i for i, node in enumerate(definition.nodes)}
    located = [
        f if f.path or not f.nodes else replace(f, path=f"nodes[{index[f.nodes[0]]}]")
        for f in findings
    ]
    return sorted(located, key=lambda f: (f.severity != "error", f.code, f.nodes))


def _reachability(definition: FlowDefinition, graph: Graph) -> list[Finding]:
    findings: list[Finding] = []
    reached = reachable_from(graph, [definition.start])
    unreachable = [node.id for node in definition.nodes if node.id not in reached]
    if unreachable:
        findings.append(
            Finding(
                "warning",
                "unreachable",
                f"no path from the start reaches {_names(unreachable)}",
                nodes=unreachable,
            )
        )
    ends = [node.id for node in definition.nodes if isinstance(node, EndNode)]
    can_finish = reachable_from(reversed_graph(graph), ends)
    stuck = [node.id for node in definition.nodes if node.id not in can_finish]
    if stuck:
        findings.append(
            Finding(
                "error",
                "dead_end",
                f"no end can be reached from {_names(stuck)}",
                nodes=stuck,
            )
        )
    return findings


def _edges(definition: FlowDefinition) -> list[Finding]:
    findings: list[Finding] = []
    for node in definition.nodes:
        present = {edge.label for edge in definition.outgoing[node.id]}
        if isinstance(node, BranchNode) and "default" not in present:
            findings.append(
                Finding(
                    "error",
                    "branch_without_default",
                    f"branch {node.id!r} has no 'default' edge for when no case holds",
                    nodes=[node.id],
                )
            )
        missing = sorted((label or "(unlabelled)") for label in node.required_labels() - present)
        if missing:
            findings.append(
                Finding(
                    "error",
                    "missing_edge",
                    f"{node.kind} {node.id!r} has no outgoing edge {', '.join(missing)}",
                    nodes=[node.id],
                )
            )
    return findings


def _spinning_loops(definition: FlowDefinition, graph: Graph) -> list[Finding]:
    """Cycles among nodes that never pause: a run entering one would spin."""
    busy = {node.id for node in definition.nodes if not node.pauses}
    subgraph = {n: [t for t in graph[n] if t in busy] for n in graph if n in busy}
    findings: list[Finding] = []
    for component in strongly_connected(subgraph):
        if len(component) > 1 or component[0] in subgraph[component[0]]:
            findings.append(
                Finding(
                    "error",
                    "loop_without_pause",
                    f"the loop through {_names(component)} has no delay, wait or approval",
                    nodes=component,
                )
            )
    return findings


def _unknown_fields(definition: FlowDefinition) -> list[Finding]:
    record_type = definition.record_type
    known = fields_for(record_type)
    if known is None:
        return []
    findings: list[Finding] = []

    def report(node: Node | None, path: str, field: str) -> None:
        findings.append(
            Finding(
                "error",
                "unknown_field",
                f"{path}: unknown field {field!r}",
                nodes=[node.id] if node else [],
                path=path,
            )
        )

    if isinstance(definition.trigger, DateTrigger) and not _known(definition.trigger.field, known):
        report(None, "trigger.field", definition.trigger.field)
    for index, node in enumerate(definition.nodes):
        base = ("nodes", index, "config")
        if (
            isinstance(node, DelayNode)
            and node.config.field
            and not _known(node.config.field, known)
        ):
            report(node, format_path((*base, "field")), node.config.field)
        if not isinstance(node, ActionNode):
            continue
        spec = get_action(node.action)
        if spec is None:
            continue
        config = spec.parse_config(node.config)
        for access in spec.declared_reads(config) + spec.declared_writes(config):
            field_known = _access_known(access, record_type, known)
            if not field_known:
                report(node, format_path(base), str(access))
        for key in spec.template_keys:
            value = node.config.get(key)
            if not isinstance(value, str):
                continue
            for field in record_fields_in_template(value):
                if not _known(field, known):
                    report(node, format_path((*base, key)), field)
    return findings


def _access_known(access: FieldAccess, record_type: str | None, known: Mapping[str, str]) -> bool:
    if access.field == RECORD_CREATED:
        return True
    if access.record_type in (None, record_type):
        return _known(access.field, known)
    other = fields_for(access.record_type)
    return other is None or _known(access.field, other)


def _known(field: str, known: Mapping[str, str]) -> bool:
    """A field path, or a relation whose fields are known (``company`` for ``company.name``)."""
    return field in known or any(path.startswith(f"{field}.") for path in known)


def _names(node_ids: list[str]) -> str:
    return ", ".join(repr(n) for n in node_ids)
