"""Registering the runtime's action kinds (and languages) with the engine core."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from flowcrm.flows.actions import ACTIONS, Action
from flowcrm.flows.core.actions import RECORD_CREATED, FieldAccess, register_action
from flowcrm.flows.core.triggers import known_event_types, register_event_type

RECORD_TYPES = frozenset({"contact", "company", "deal", "task", "activity"})


def _writes(kind: Action) -> Any:
    """An action's writes as the core declares them: a record type name means "creates a
    record of that type"; anything else is a field of the run's record."""

    def declared(config: Any) -> list[str | FieldAccess]:
        return [
            FieldAccess(name, RECORD_CREATED) if name in RECORD_TYPES else name
            for name in kind.writes_for(config)
        ]

    return declared


def _preview(kind: Action) -> Any:
    def preview(config: BaseModel, context: Mapping[str, Any]) -> Any:
        return {"action": kind.name, "config": config.model_dump(mode="json")}

    return preview


def register_actions() -> None:
    """Make every action kind known to the definition validator and the static checks."""
    for kind in ACTIONS.values():
        register_action(
            kind.name,
            kind.Config,
            reads=kind.reads,
            writes=_writes(kind),
            retryable=kind.retryable,
            max_attempts=kind.max_attempts,
            preview=_preview(kind),
            title=kind.label,
            template_keys=tuple(
                name
                for name in ("title", "subject", "body", "text", "description")
                if name in kind.Config.model_fields
            ),
        )


# Events the record services append beyond the ones the engine core knows, with the fields
# whose write makes them happen (for the cascade check).
EXTRA_EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "contact.tag_added": ("tags",),
    "contact.tag_removed": ("tags",),
    "company.tag_added": ("tags",),
    "company.tag_removed": ("tags",),
    "approval.decided": (),
}


def register_event_types() -> None:
    for event_type, fields in EXTRA_EVENT_TYPES.items():
        if event_type not in known_event_types():
            register_event_type(event_type, fired_by_fields=fields)
