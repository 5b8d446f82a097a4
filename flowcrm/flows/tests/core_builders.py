"""Builders for engine-core tests: small definitions and a registered test action."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict

from flowcrm.flows.core.actions import (
    ActionSpec,
    FieldAccess,
    get_action,
    register_action,
    unregister_action,
)


class NoteConfig(BaseModel):
    """Config of the ``test_note`` action used by these tests."""

    model_config = ConfigDict(extra="forbid")
    subject: str
    body: str = ""
    field: str | None = None


def _note_writes(config: Any) -> list[str | FieldAccess]:
    return [config.field] if config.field else []


def _note_preview(config: Any, context: Any) -> dict[str, Any]:
    return {"subject": config.subject, "record_id": context["record"].get("id")}


@contextmanager
def registered_note_action(kind: str = "test_note", **overrides: Any) -> Iterator[ActionSpec]:
    """Register a test action for the duration of a ``with`` block."""
    previous = get_action(kind)
    options: dict[str, Any] = {
        "reads": ("email",),
        "writes": _note_writes,
        "template_keys": ("subject", "body"),
        "preview": _note_preview,
    }
    options.update(overrides)
    spec = register_action(kind, NoteConfig, **options)
    try:
        yield spec
    finally:
        unregister_action(kind)
        if previous is not None:
            register_action(
                previous.kind,
                previous.config_model,
                reads=previous.reads,
                writes=previous.writes,
                retryable=previous.retryable,
                max_attempts=previous.max_attempts,
                preview=previous.preview,
                title=previous.title,
                template_keys=previous.template_keys,
                expression_keys=previous.expression_keys,
            )


def flow(
    nodes: list[dict[str, Any]], edges: list[tuple[Any, ...]], **settings: Any
) -> dict[str, Any]:
    """A definition dict; edges as ``(from, to)`` or ``(from, to, label)``."""
    data: dict[str, Any] = {
        "name": "Test flow",
        "trigger": {"type": "record_event", "event": "contact.created"},
        "nodes": copy.deepcopy(nodes),
        "edges": [
            {"from": e[0], "to": e[1], **({"label": e[2]} if len(e) > 2 else {})} for e in edges
        ],
    }
    data.update(settings)
    return data


def node(node_id: str, kind: str, **config: Any) -> dict[str, Any]:
    if kind == "action":
        action = config.pop("action", "test_note")
        return {"id": node_id, "kind": "action", "action": action, "config": config}
    if kind == "end":
        return {"id": node_id, "kind": "end"}
    return {"id": node_id, "kind": kind, "config": config}
