"""Flow definitions: validation with JSON-path-precise errors, YAML, limits, diff, schema."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from flowcrm.flows.core.actions import action_kinds
from flowcrm.flows.core.definition import (
    MAX_DEFINITION_BYTES,
    MAX_NODES,
    load_definition,
    parse_definition,
)
from flowcrm.flows.core.diff import diff
from flowcrm.flows.core.errors import DefinitionInvalid
from flowcrm.flows.core.nodes import ActionNode
from flowcrm.flows.core.triggers import DateTrigger, RecordEventTrigger
from flowcrm.flows.tests.core_builders import (
    flow,
    installed_languages,
    node,
    registered_note_action,
)


@pytest.fixture(autouse=True)
def _note_action():
    with registered_note_action(), installed_languages():
        yield


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition(data)
    return caught.value.by_path()


def simple() -> dict[str, Any]:
    return flow(
        [node("welcome", "action", subject="Hi {{ record.first_name }}"), node("done", "end")],
        [("welcome", "done")],
    )


def test_a_valid_definition_round_trips_through_its_canonical_form():
    definition = parse_definition(simple())

    assert definition.start == "welcome"
    assert definition.record_type == "contact"
    welcome = definition.node("welcome")
    assert isinstance(welcome, ActionNode)
    assert welcome.config == {
        "subject": "Hi {{ record.first_name }}",
        "body": "",
        "field": None,
    }
    assert parse_definition(definition.to_data()) == definition
    assert parse_definition(json.loads(definition.to_json())) == definition


def test_an_unknown_key_in_an_action_config_is_named_with_its_path():
    data = simple()
    data["nodes"][0]["config"]["frist_name"] = "x"

    assert errors_of(data) == {"nodes[0].config": "unknown field 'frist_name'"}


def test_a_wrong_type_and_a_missing_key_are_named_with_their_paths():
    data = simple()
    data["nodes"][0]["config"] = {"body": 5}

    assert errors_of(data) == {
        "nodes[0].config.body": "Input should be a valid string",
        "nodes[0].config.subject": "required",
    }


def test_unknown_kind_duplicate_ids_and_edges_to_missing_nodes_are_all_reported():
    data = flow(
        [node("a", "end"), {"id": "a", "kind": "teleport"}, node("b", "action", action="nope")],
        [("b", "ghost")],
    )

    assert errors_of(data) == {
        "edges[0].to": "unknown node 'ghost'",
        "nodes[1].id": "duplicate node id 'a' (also nodes[0])",
        "nodes[1].kind": (
            "unknown node kind 'teleport' "
            "(known: action, branch, delay, wait_event, approval, set, end)"
        ),
        "nodes[2].action": f"unknown action 'nope' (known: {', '.join(action_kinds())})",
    }


def test_edge_labels_must_fit_the_node_kind():
    data = flow(
        [
            node("pick", "branch", cases=[{"name": "hot", "condition": {"all": []}}]),
            node("approve", "approval", approvers={"role": "manager"}),
            node("done", "end"),
        ],
        [
            ("pick", "done", "cold"),
            ("approve", "done", "approved"),
            ("approve", "done", "approved"),
            ("done", "pick"),
        ],
    )

    assert errors_of(data) == {
        "edges[0].label": (
            "label 'cold' is not allowed after branch node 'pick' (allowed: 'default', 'hot')"
        ),
        "edges[2]": "node 'approve' already has label 'approved'",
        "edges[3].label": "end node 'done' has no outgoing edges",
    }


def test_trigger_errors_are_named_under_trigger():
    data = simple()
    data["trigger"] = {"type": "record_event", "event": "contact.exploded", "frm": 1}
    assert errors_of(data) == {
        "trigger": "unknown field 'frm'",
        "trigger.event": "unknown event type 'contact.exploded'",
    }
    data["trigger"] = {"type": "carrier_pigeon"}
    assert errors_of(data) == {
        "trigger.type": "unknown trigger type 'carrier_pigeon' "
        "(known: record_event, date, schedule, webhook, manual)"
    }
    data["trigger"] = {"type": "schedule", "cron": "every tuesday", "timezone": "Mars/Base"}
    assert errors_of(data) == {
        "trigger.cron": "not a valid cron expression: 'every tuesday'",
        "trigger.timezone": "unknown time zone 'Mars/Base'",
    }


def test_node_config_rules_are_checked_per_kind():
    data = flow(
        [
            node("wait", "delay", type="until_field"),
            node("ask", "approval", approvers={}, policy="n_of_m"),
            node("calc", "set", values={"Bad Name": "1 + 1"}),
            node("done", "end"),
        ],
        [
            ("wait", "ask"),
            ("ask", "calc", "approved"),
            ("ask", "done", "rejected"),
            ("calc", "done"),
        ],
    )

    assert errors_of(data) == {
        "nodes[0].config": "an 'until_field' delay needs 'field'",
        "nodes[1].config.approvers": "name at least one of 'users', 'team' or 'role'",
        "nodes[2].config.values": "variable names must be snake_case: Bad Name",
    }


def test_lanes_must_be_named_by_every_node_and_exist():
    data = simple()
    data["lanes"] = [{"id": "sales", "name": "Sales", "team": "Sales"}]
    data["nodes"][0]["lane"] = "support"

    assert errors_of(data) == {
        "nodes[0].lane": "unknown lane 'support'",
        "nodes[1].lane": "required when the flow has lanes",
    }


def test_a_template_with_a_syntax_error_is_refused_at_its_config_path():
    data = simple()
    data["nodes"][0]["config"]["subject"] = "Hi {{ record.first_name"

    message = errors_of(data)["nodes[0].config.subject"]
    assert message.startswith("template syntax error on line 1:")


def test_oversized_definitions_are_refused():
    too_many = flow([node(f"n{i}", "end") for i in range(MAX_NODES + 1)], [])
    assert errors_of(too_many) == {"nodes": f"at most {MAX_NODES} nodes are allowed"}

    too_big = simple()
    too_big["description"] = "x" * MAX_DEFINITION_BYTES
    assert errors_of(too_big) == {"$": "the definition is larger than 256 KiB"}


def test_yaml_is_accepted_and_its_syntax_errors_name_the_line():
    text = """
name: Welcome
trigger: {type: record_event, event: deal.stage_changed, to: Won}
nodes:
  - {id: welcome, kind: action, action: test_note, config: {subject: Welcome}}
  - {id: done, kind: end}
edges:
  - {from: welcome, to: done}
"""
    definition = load_definition(text)
    assert isinstance(definition.trigger, RecordEventTrigger)
    assert definition.trigger.to_value == "Won"

    with pytest.raises(DefinitionInvalid) as caught:
        load_definition("name: [unclosed\nnodes: 1\n")
    assert str(caught.value) == "$: not valid YAML (line 2, column 6)"


def test_diff_names_added_removed_and_changed_nodes_and_config_keys():
    before = parse_definition(simple())
    changed = simple()
    changed["nodes"][0]["config"]["subject"] = "Hello"
    changed["nodes"][0]["name"] = "Welcome e-mail"
    changed["nodes"].insert(1, node("pause", "delay", type="duration", days=1))
    changed["edges"] = [{"from": "welcome", "to": "pause"}, {"from": "pause", "to": "done"}]
    changed["goal"] = {"all": []}
    after = parse_definition(changed)

    result = diff(before, after).as_dict()

    assert result == {
        "nodes_added": ["pause"],
        "nodes_removed": [],
        "nodes_changed": [{"node_id": "welcome", "changed_keys": ["config.subject", "name"]}],
        "edges_added": [
            {"from": "welcome", "to": "pause", "label": None},
            {"from": "pause", "to": "done", "label": None},
        ],
        "edges_removed": [{"from": "welcome", "to": "done", "label": None}],
        "settings_changed": ["goal"],
    }
    assert diff(before, before).is_empty


def test_record_event_triggers_match_changes_to_and_from_values():
    trigger = RecordEventTrigger.model_validate(
        {"type": "record_event", "event": "contact.updated", "field": "status", "to": "qualified"}
    )
    event = {
        "type": "contact.updated",
        "subject_type": "contact",
        "subject_id": 7,
        "changes": {"status": {"before": "new", "after": "qualified"}},
    }
    assert trigger.matches(event)
    assert not trigger.matches({**event, "changes": {"status": {"before": "x", "after": "new"}}})
    assert not trigger.matches({**event, "changes": {"owner": {"before": 1, "after": 2}}})

    won = RecordEventTrigger.model_validate(
        {"type": "record_event", "event": "deal.stage_changed", "to": "won"}
    )
    stage_event = {
        "type": "deal.stage_changed",
        "subject_type": "deal",
        "subject_id": 3,
        "changes": {"stage": {"before": 1, "after": 2}},
        "data": {"to_status": "won", "to_stage": "Closed won"},
    }
    assert won.matches(stage_event)
    assert not won.matches({**stage_event, "data": {"to_status": "open", "to_stage": "Demo"}})


def test_a_date_trigger_fires_offset_days_from_the_field_at_local_time():
    trigger = DateTrigger.model_validate(
        {
            "type": "date",
            "record_type": "deal",
            "field": "renewal_date",
            "offset_days": -30,
            "time": "08:30",
            "timezone": "Europe/Berlin",
        }
    )
    fire = trigger.fire_at(dt.date(2027, 3, 31))
    assert fire.isoformat() == "2027-03-01T08:30:00+01:00"
