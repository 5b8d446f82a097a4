"""Property test: the graph checks agree with a brute-force oracle on random flow graphs."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flowcrm.flows.core.analysis import check_definition
from flowcrm.flows.core.definition import parse_definition
from flowcrm.flows.tests.core_builders import flow, installed_languages, node


@st.composite
def random_flows(draw: st.DrawFn) -> tuple[dict[str, Any], list[str], dict[str, set[str]]]:
    """A random graph of branch, delay and end nodes; returns the definition, kinds, edges."""
    size = draw(st.integers(min_value=1, max_value=9))
    kinds = [draw(st.sampled_from(["branch", "delay", "end"])) for _ in range(size)]
    nodes: list[dict[str, Any]] = []
    edges: list[tuple[str, str, str | None]] = []
    for index, kind in enumerate(kinds):
        node_id = f"n{index}"
        targets = st.integers(min_value=0, max_value=size - 1)
        if kind == "branch":
            cases = draw(st.integers(min_value=1, max_value=2))
            nodes.append(
                node(
                    node_id,
                    "branch",
                    cases=[{"name": f"c{c}", "condition": {"all": []}} for c in range(cases)],
                )
            )
            for label in [f"c{c}" for c in range(cases)] + ["default"]:
                if draw(st.booleans()):
                    edges.append((node_id, f"n{draw(targets)}", label))
        elif kind == "delay":
            nodes.append(node(node_id, "delay", type="duration", minutes=5))
            if draw(st.booleans()):
                edges.append((node_id, f"n{draw(targets)}", None))
        else:
            nodes.append(node(node_id, "end"))
    graph: dict[str, set[str]] = {f"n{i}": set() for i in range(size)}
    for source, target, _ in edges:
        graph[source].add(target)
    data = flow(nodes, [(s, t, label) if label else (s, t) for s, t, label in edges])
    return data, kinds, graph


def closure(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Nodes reachable in one or more steps (Floyd-Warshall on booleans)."""
    names = list(graph)
    reach = {a: set(graph[a]) for a in names}
    for middle in names:
        for a in names:
            if middle in reach[a]:
                reach[a] |= reach[middle]
    return reach


@settings(max_examples=150, deadline=None)
@given(random_flows())
def test_reachability_dead_ends_and_spinning_loops_match_the_oracle(case):
    data, kinds, graph = case
    with installed_languages():
        findings = check_definition(parse_definition(data))
    reported: dict[str, set[str]] = {}
    for finding in findings:
        reported.setdefault(finding.code, set()).update(finding.nodes)

    reach = closure(graph)
    ends = {f"n{i}" for i, kind in enumerate(kinds) if kind == "end"}
    expected_unreachable = {n for n in graph if n != "n0" and n not in reach["n0"]}
    expected_dead = {n for n in graph if n not in ends and not (reach[n] & ends)}
    busy = {n: {t for t in graph[n] if kinds[int(t[1:])] == "branch"} for n in graph}
    busy_reach = closure({n: busy[n] if kinds[int(n[1:])] == "branch" else set() for n in graph})
    expected_spinning = {n for n in graph if kinds[int(n[1:])] == "branch" and n in busy_reach[n]}

    assert reported.get("unreachable", set()) == expected_unreachable
    assert reported.get("dead_end", set()) == expected_dead
    assert reported.get("loop_without_pause", set()) == expected_spinning
