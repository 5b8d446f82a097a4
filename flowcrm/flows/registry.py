"""Registering the runtime's action kinds (and languages) with the engine core."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from flowcrm.flows.actions import ACTIONS, Action
from flowcrm.flows.core.actions import register_action


def _writes(kind: Action) -> Any:
    return lambda config: kind.writes_for(config)


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
