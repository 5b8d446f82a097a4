"""The published JSON Schema is generated from the registries and kept up to date."""

from __future__ import annotations

import json

from flowcrm.flows.core.schema import flow_json_schema, flow_json_schema_text
from flowcrm.flows.management.commands.flows import SCHEMA_FILE


def test_the_published_json_schema_is_up_to_date():
    assert SCHEMA_FILE.read_text() == flow_json_schema_text(), (
        "regenerate with: flowcrm flows schema --write"
    )


def test_the_schema_lists_every_trigger_type_and_node_kind():
    schema = flow_json_schema()

    triggers = [ref["$ref"] for ref in schema["properties"]["trigger"]["oneOf"]]
    node_kinds = [ref["$ref"] for ref in schema["properties"]["nodes"]["items"]["oneOf"]]
    assert triggers == [
        "#/$defs/DateTrigger",
        "#/$defs/ManualTrigger",
        "#/$defs/RecordEventTrigger",
        "#/$defs/ScheduleTrigger",
        "#/$defs/WebhookTrigger",
    ]
    assert node_kinds == [
        "#/$defs/ActionNode",
        "#/$defs/BranchNode",
        "#/$defs/DelayNode",
        "#/$defs/WaitEventNode",
        "#/$defs/ApprovalNode",
        "#/$defs/SetNode",
        "#/$defs/EndNode",
    ]
    assert schema["required"] == ["name", "trigger", "nodes"]
    json.dumps(schema)  # serialisable as published
