"""The published JSON Schema of flow definitions, built from the registries at call time.

Trigger types and action kinds are plug-ins, so the schema is generated (``flowcrm flows schema``)
rather than written by hand; a test keeps the checked-in copy up to date.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from flowcrm.flows.core.actions import action_kinds, get_action
from flowcrm.flows.core.definition import MAX_EDGES, MAX_NODES, _Envelope
from flowcrm.flows.core.nodes import NODE_KINDS
from flowcrm.flows.core.triggers import trigger_types

SCHEMA_ID = "https://flowcrm.org/schema/flow.schema.json"


def flow_json_schema() -> dict[str, Any]:
    """A JSON Schema (2020-12) for flow definitions with the registered triggers and actions."""
    triggers = list(trigger_types().values())
    nodes = list(NODE_KINDS.values())
    configs = {kind: spec.config_model for kind in action_kinds() if (spec := get_action(kind))}
    models: list[type[BaseModel]] = [_Envelope, *triggers, *nodes, *configs.values()]
    refs, top = models_json_schema(
        [(model, "validation") for model in models], ref_template="#/$defs/{model}"
    )
    defs: dict[str, Any] = top["$defs"]

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return dict(refs[(model, "validation")])

    envelope = defs.pop(ref(_Envelope)["$ref"].rsplit("/", 1)[1])
    envelope["properties"]["trigger"] = {"oneOf": [ref(t) for t in triggers]}
    envelope["properties"]["nodes"] = {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_NODES,
        "items": {"oneOf": [ref(n) for n in nodes]},
    }
    envelope["properties"]["edges"]["maxItems"] = MAX_EDGES
    action_def = defs[ref(NODE_KINDS["action"])["$ref"].rsplit("/", 1)[1]]
    action_def["properties"]["action"]["enum"] = list(configs)
    action_def["allOf"] = [
        {
            "if": {"properties": {"action": {"const": kind}}},
            "then": {"properties": {"config": ref(model)}},
        }
        for kind, model in configs.items()
    ]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "FlowCRM flow definition",
        **envelope,
        "$defs": dict(sorted(defs.items())),
    }


def flow_json_schema_text() -> str:
    """The schema as it is checked in: sorted keys, two-space indent, trailing newline."""
    return json.dumps(flow_json_schema(), indent=2, sort_keys=True) + "\n"
