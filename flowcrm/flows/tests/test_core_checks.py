"""Static checks of one definition, and across flows (cascades, conflicts)."""

from __future__ import annotations

from typing import Any

import pytest

from flowcrm.flows.core.actions import FieldAccess
from flowcrm.flows.core.analysis import check_definition
from flowcrm.flows.core.crossflow import check_flows
from flowcrm.flows.core.definition import parse_definition
from flowcrm.flows.core.findings import has_errors
from flowcrm.flows.tests.core_builders import (
    flow,
    installed_languages,
    node,
    registered_note_action,
)


@pytest.fixture(autouse=True)
def _engine():
    with registered_note_action(), installed_languages():
        yield


def findings_of(data: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [(f.severity, f.code, f.nodes) for f in check_definition(parse_definition(data))]


def test_a_sound_flow_has_no_findings():
    data = flow(
        [node("hello", "action", subject="Hi {{ record.first_name }}"), node("done", "end")],
        [("hello", "done")],
    )

    assert check_definition(parse_definition(data)) == []


def test_unreachable_nodes_and_dead_ends_are_named():
    data = flow(
        [
            node("start", "action", subject="a"),
            node("done", "end"),
            node("orphan", "action", subject="b"),
            node("limbo", "action", subject="c"),
        ],
        [("start", "done"), ("orphan", "limbo")],
    )

    assert findings_of(data) == [
        ("error", "dead_end", ["orphan", "limbo"]),
        ("error", "missing_edge", ["limbo"]),
        ("warning", "unreachable", ["orphan", "limbo"]),
    ]


def test_a_branch_without_a_default_and_an_approval_without_rejected_are_errors():
    data = flow(
        [
            node("pick", "branch", cases=[{"name": "hot", "condition": {"all": []}}]),
            node("ask", "approval", approvers={"role": "manager"}),
            node("done", "end"),
        ],
        [("pick", "ask", "hot"), ("ask", "done", "approved")],
    )

    findings = check_definition(parse_definition(data))

    assert [(f.code, f.nodes, f.message) for f in findings] == [
        (
            "branch_without_default",
            ["pick"],
            "branch 'pick' has no 'default' edge for when no case holds",
        ),
        ("missing_edge", ["ask"], "approval 'ask' has no outgoing edge rejected"),
    ]
    assert has_errors(findings)


def test_a_loop_without_a_pause_is_an_error_and_one_with_a_delay_is_not():
    spinning = flow(
        [
            node("again", "branch", cases=[{"name": "more", "condition": {"all": []}}]),
            node("note", "action", subject="x"),
            node("done", "end"),
        ],
        [("again", "note", "more"), ("note", "again"), ("again", "done", "default")],
    )
    assert findings_of(spinning) == [("error", "loop_without_pause", ["again", "note"])]

    paced = flow(
        [
            node("again", "branch", cases=[{"name": "more", "condition": {"all": []}}]),
            node("note", "action", subject="x"),
            node("pause", "delay", type="duration", days=1),
            node("done", "end"),
        ],
        [
            ("again", "note", "more"),
            ("note", "pause"),
            ("pause", "again"),
            ("again", "done", "default"),
        ],
    )
    assert findings_of(paced) == []


def test_unknown_fields_in_templates_declarations_and_delays_are_named_with_their_paths():
    data = flow(
        [
            node("pause", "delay", type="until_field", field="renewl_date"),
            node("mail", "action", subject="Hi {{ record.frist_name }}", field="scroe"),
            node("done", "end"),
        ],
        [("pause", "mail"), ("mail", "done")],
    )

    messages = [f.message for f in check_definition(parse_definition(data))]

    assert messages == [
        "nodes[1].config: unknown field 'scroe'",
        "nodes[1].config.subject: unknown field 'frist_name'",
        "nodes[0].config.field: unknown field 'renewl_date'",
    ]


def status_writer(name: str, trigger: dict[str, Any], field: str) -> tuple[str, Any]:
    data = flow(
        [node("write", "action", subject="x", field=field), node("done", "end")],
        [("write", "done")],
        name=name,
        trigger=trigger,
    )
    return name, parse_definition(data)


def on_update(field: str) -> dict[str, Any]:
    return {"type": "record_event", "event": "contact.updated", "field": field}


def test_a_cascade_between_two_flows_is_reported_with_flows_and_nodes():
    flows = [
        status_writer("Qualify", on_update("score"), "status"),
        status_writer("Rescore", on_update("status"), "score"),
        status_writer("Unrelated", on_update("email"), "country"),
    ]

    findings = check_flows(flows)

    assert [f.as_dict() for f in findings] == [
        {
            "severity": "error",
            "code": "cascade",
            "message": "cascade: 'Qualify' (write writes contact.status) triggers 'Rescore', "
            "which 'Rescore' (write writes contact.score) triggers 'Qualify'",
            "nodes": ["Qualify.write", "Rescore.write"],
            "flows": ["Qualify", "Rescore"],
            "path": "",
        }
    ]


def test_a_flow_triggering_itself_is_a_cascade():
    findings = check_flows([status_writer("Echo", on_update("status"), "status")])

    assert [(f.code, f.flows) for f in findings] == [("cascade", ["Echo"])]


def test_two_flows_writing_one_field_on_the_same_trigger_conflict():
    created = {"type": "record_event", "event": "contact.created"}
    flows = [
        status_writer("Route", created, "owner"),
        status_writer("Assign", created, "owner"),
        status_writer("Tag", created, "country"),
    ]

    findings = check_flows(flows)

    assert [(f.code, f.flows, f.nodes) for f in findings] == [
        ("conflict", ["Assign", "Route"], ["Assign.write", "Route.write"])
    ]
    assert findings[0].message == (
        "flows 'Assign', 'Route' all write contact.owner on the same trigger "
        "(Assign.write, Route.write)"
    )


def test_writes_to_another_record_type_fire_that_types_triggers():
    moves_deal = FieldAccess("deal", "stage")
    rescores_contact = FieldAccess("contact", "score")
    with (
        registered_note_action("move_deal", writes=(moves_deal,)),
        registered_note_action("rescore_contact", writes=(rescores_contact,)),
    ):
        mover = flow(
            [node("move", "action", action="move_deal", subject="x"), node("done", "end")],
            [("move", "done")],
            name="Mover",
            trigger=on_update("score"),
        )
        watcher = flow(
            [node("rescore", "action", action="rescore_contact", subject="x"), node("done", "end")],
            [("rescore", "done")],
            name="Watcher",
            trigger={"type": "record_event", "event": "deal.stage_changed"},
        )
        findings = check_flows(
            [("Mover", parse_definition(mover)), ("Watcher", parse_definition(watcher))]
        )

    assert [(f.code, f.flows, f.nodes) for f in findings] == [
        ("cascade", ["Mover", "Watcher"], ["Mover.move", "Watcher.rescore"])
    ]
