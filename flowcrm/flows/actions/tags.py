"""Actions ``add_tag`` and ``remove_tag`` (contacts and companies). A missing tag is created
by ``add_tag``; removing a tag the record does not have is a no-op."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.flows.actions.base import Action, ActionConfig, ActionContext, ActionFailed
from flowcrm.flows.actions.writes import tag_set


class TagConfig(ActionConfig):
    tag: str = Field(min_length=1, max_length=50)


def _taggable(context: ActionContext) -> Contact | Company:
    if not isinstance(context.record, Contact | Company):
        raise ActionFailed("only contacts and companies carry tags", retryable=False)
    return context.record


class AddTag(Action):
    name = "add_tag"
    label = "Add a tag"
    Config = TagConfig
    writes = ("tags",)

    def preview(self, context: ActionContext) -> dict[str, Any]:
        return {"tag": context.config.tag}

    def run(self, context: ActionContext) -> dict[str, Any]:
        record = _taggable(context)
        tag, _ = Tag.objects.get_or_create(name=context.config.tag)
        changed = tag_set(record=record, tag=tag, present=True, actor=context.actor)
        return {"tag": tag.name, "changed": changed}


class RemoveTag(Action):
    name = "remove_tag"
    label = "Remove a tag"
    Config = TagConfig
    writes = ("tags",)

    def preview(self, context: ActionContext) -> dict[str, Any]:
        return {"tag": context.config.tag}

    def run(self, context: ActionContext) -> dict[str, Any]:
        record = _taggable(context)
        tag = Tag.objects.filter(name=context.config.tag).first()
        changed = tag is not None and tag_set(
            record=record, tag=tag, present=False, actor=context.actor
        )
        return {"tag": context.config.tag, "changed": changed}
