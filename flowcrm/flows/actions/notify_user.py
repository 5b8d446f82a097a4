"""Action ``notify_user``: an in-app notification for a user (or the record's owner)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from flowcrm.flows.actions.base import Action, ActionConfig, ActionContext, ActionFailed
from flowcrm.flows.actions.text import render
from flowcrm.flows.models import Notification


class NotifyUserConfig(ActionConfig):
    user: Literal["owner"] | int = "owner"
    text: str = Field(min_length=1, max_length=500)
    link: str = Field(default="", max_length=300)


class NotifyUser(Action):
    name = "notify_user"
    label = "Notify a user"
    Config = NotifyUserConfig

    def preview(self, context: ActionContext) -> dict[str, Any]:
        config: NotifyUserConfig = context.config
        user_id = (
            getattr(context.record, "owner_id", None) if config.user == "owner" else config.user
        )
        return {
            "user_id": user_id,
            "text": render(config.text, context.variables, field="text"),
            "link": render(config.link, context.variables, field="link"),
        }

    def run(self, context: ActionContext) -> dict[str, Any]:
        plan = self.preview(context)
        if plan["user_id"] is None:
            raise ActionFailed("the record has no owner to notify", retryable=False)
        notification = Notification.objects.create(
            user_id=plan["user_id"], text=plan["text"], link=plan["link"], run=context.run
        )
        return {"notification_id": notification.pk, "user_id": plan["user_id"]}
