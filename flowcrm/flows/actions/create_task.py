"""Action ``create_task``: a task about the run's record, due in N business days."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from flowcrm.accounts.models import User
from flowcrm.flows.actions.base import Action, ActionConfig, ActionContext
from flowcrm.flows.actions.text import render
from flowcrm.flows.actions.writes import task_create


class CreateTaskConfig(ActionConfig):
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    # "owner": the record's owner; or a user id.
    assignee: Literal["owner"] | int = "owner"
    due_in_business_days: int = Field(default=1, ge=0, le=365)
    priority: Literal["low", "normal", "high", "urgent"] = "normal"


def add_business_days(start: dt.datetime, days: int) -> dt.datetime:
    """``start`` moved forward ``days`` weekdays (Saturday and Sunday do not count)."""
    current = start
    while current.weekday() >= 5:
        current += dt.timedelta(days=1)
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


class CreateTask(Action):
    name = "create_task"
    label = "Create a task"
    Config = CreateTaskConfig
    writes = ("task",)

    def _plan(self, context: ActionContext) -> dict[str, Any]:
        config: CreateTaskConfig = context.config
        if config.assignee == "owner":
            assignee_id = getattr(context.record, "owner_id", None)
        else:
            assignee_id = config.assignee
        return {
            "title": render(config.title, context.variables, field="title"),
            "description": render(config.description, context.variables, field="description"),
            "assignee_id": assignee_id,
            "due_at": add_business_days(context.now, config.due_in_business_days),
            "priority": config.priority,
        }

    def run(self, context: ActionContext) -> dict[str, Any]:
        plan = self._plan(context)
        assignee = User.objects.filter(pk=plan["assignee_id"]).first()
        task = task_create(
            title=plan["title"],
            description=plan["description"],
            actor=context.actor,
            about=context.record,
            assignee=assignee,
            due_at=plan["due_at"],
            priority=plan["priority"],
        )
        return {
            "task_id": task.pk,
            "assignee_id": task.assignee_id,
            "due_at": plan["due_at"].isoformat(),
        }

    def preview(self, context: ActionContext) -> dict[str, Any]:
        plan = self._plan(context)
        return {**plan, "due_at": plan["due_at"].isoformat()}
