"""Action ``update_record``: set fields of the run's record."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowcrm.flows.actions.base import Action, ActionConfig, ActionContext, ActionFailed
from flowcrm.flows.actions.text import render
from flowcrm.flows.actions.writes import record_update


class UpdateRecordConfig(ActionConfig):
    fields: dict[str, Any] = Field(min_length=1)


class UpdateRecord(Action):
    name = "update_record"
    label = "Update record fields"
    Config = UpdateRecordConfig

    def _values(self, context: ActionContext) -> dict[str, Any]:
        config: UpdateRecordConfig = context.config
        return {
            name: render(value, context.variables, field=f"fields.{name}")
            if isinstance(value, str)
            else value
            for name, value in config.fields.items()
        }

    def run(self, context: ActionContext) -> dict[str, Any]:
        if context.record is None:
            raise ActionFailed("the record no longer exists", retryable=False)
        values = self._values(context)
        changed = record_update(record=context.record, values=values, actor=context.actor)
        return {"changed": changed, "fields": values}

    def preview(self, context: ActionContext) -> dict[str, Any]:
        return {"would_set": self._values(context)}

    def writes_for(self, config: Any) -> tuple[str, ...]:
        return tuple(sorted(config.fields))
