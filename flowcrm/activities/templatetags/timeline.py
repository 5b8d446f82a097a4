"""How a timeline entry reads on a page."""

from __future__ import annotations

from typing import Any

from django import template

from flowcrm.core.models import Event

register = template.Library()

_VERBS = {
    "created": "created",
    "updated": "changed",
    "deleted": "deleted",
    "logged": "logged",
    "completed": "completed",
    "reopened": "reopened",
    "merged": "merged",
}


@register.filter
def event_headline(event: Event) -> str:
    """``Moved from Qualified to Won``, ``Deal created``, ``Task completed``…"""
    if event.type == "deal.stage_changed":
        return (
            f"Moved from {event.data.get('from_stage', '?')} to {event.data.get('to_stage', '?')}"
        )
    subject, _, verb = event.type.partition(".")
    readable = _VERBS.get(verb, verb.replace("_", " "))
    return f"{subject.replace('_', ' ').capitalize()} {readable}"


@register.filter
def change_rows(event: Event) -> list[dict[str, Any]]:
    """The event's changes as rows ``{field, before, after}``, sorted by field name."""
    rows = []
    for field, change in sorted(event.changes.items()):
        if isinstance(change, dict):
            rows.append(
                {"field": field, "before": change.get("before"), "after": change.get("after")}
            )
    return rows
