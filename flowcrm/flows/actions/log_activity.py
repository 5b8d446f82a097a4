"""Action ``log_activity``: a note (or call, meeting) on the record's timeline."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from flowcrm.flows.actions.base import Action, ActionConfig, ActionContext
from flowcrm.flows.actions.text import render
from flowcrm.flows.actions.writes import activity_log


class LogActivityConfig(ActionConfig):
    kind: Literal["note", "call", "meeting"] = "note"
    subject: str = Field(default="", max_length=200)
    body: str = Field(min_length=1)


class LogActivity(Action):
    name = "log_activity"
    label = "Log an activity or note"
    Config = LogActivityConfig
    writes = ("activity",)

    def preview(self, context: ActionContext) -> dict[str, Any]:
        config: LogActivityConfig = context.config
        return {
            "kind": config.kind,
            "subject": render(config.subject, context.variables, field="subject"),
            "body": render(config.body, context.variables, field="body"),
        }

    def run(self, context: ActionContext) -> dict[str, Any]:
        plan = self.preview(context)
        activity = activity_log(
            kind=plan["kind"],
            subject=plan["subject"],
            body=plan["body"],
            actor=context.actor,
            about=context.record,
            owner_id=getattr(context.record, "owner_id", None),
        )
        return {"activity_id": activity.pk}
