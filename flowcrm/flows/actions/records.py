"""Record reads and writes used by actions, so each action module stays about its own logic.

Writes go through the owning app's services, which write the row and its one event in the
caller's transaction (the step's), with the flow step as the actor.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.forms.models import model_to_dict

from flowcrm.activities.models import Activity, Task
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.events import json_value
from flowcrm.sales.models import Deal

RECORD_MODELS: dict[str, type[models.Model]] = {
    "contact": Contact,
    "company": Company,
    "deal": Deal,
    "task": Task,
    "activity": Activity,
}


def record_model(record_type: str) -> type[models.Model]:
    try:
        return RECORD_MODELS[record_type]
    except KeyError:
        raise ValueError(f"unknown record type {record_type!r}") from None


def load_record(record_type: str, record_id: int) -> models.Model | None:
    return record_model(record_type)._default_manager.filter(pk=record_id).first()


def record_values(record: models.Model) -> dict[str, Any]:
    """A JSON-safe snapshot of a record's concrete fields (relations as ids, ``x_id``→``x``)."""
    values = model_to_dict(record, exclude=["tags", "contacts", "participants"])
    values["id"] = record.pk
    return {name: json_value(value) for name, value in values.items()}


def contact_of(record: models.Model | None) -> Contact | None:
    """The contact an e-mail or a task is about: the record, or a deal's first contact."""
    if isinstance(record, Contact):
        return record
    if isinstance(record, Deal):
        return record.contacts.order_by("pk").first()
    if isinstance(record, Task | Activity):
        return record.contact
    return None


_SELECT_RELATED: dict[str, tuple[str, ...]] = {
    "contact": ("company", "owner"),
    "company": ("owner",),
    "deal": ("company", "owner", "stage", "pipeline"),
    "task": ("assignee", "contact", "company", "deal"),
    "activity": ("contact", "company", "deal", "owner"),
}


def load_record_for_flow(record_type: str, record_id: int) -> models.Model | None:
    """The record with the relations flows usually read joined in (one query); None for a
    run without a record (an inbound webhook with no record type)."""
    if not record_type:
        return None
    manager = record_model(record_type)._default_manager
    return (
        manager.select_related(*_SELECT_RELATED.get(record_type, ())).filter(pk=record_id).first()
    )


def condition_paths(data: Any) -> set[str]:
    """Field paths of every rule (``{"field": …, "op": …}``) anywhere in a definition."""
    found: set[str] = set()
    if isinstance(data, dict):
        if isinstance(data.get("field"), str) and "op" in data:
            found.add(data["field"])
        for value in data.values():
            found |= condition_paths(value)
    elif isinstance(data, list):
        for value in data:
            found |= condition_paths(value)
    return found


def flow_record(
    record: models.Model,
    record_type: str,
    *,
    extra_paths: set[str] = frozenset(),  # type: ignore[assignment]  # read-only default
) -> dict[str, Any]:
    """What conditions, expressions and templates see as ``record``: the record's own fields
    (relations as ids, ``custom``, ``tags``), plus the related values named in ``extra_paths``
    (``contact.company.industry`` → ``record["company"]["industry"]``)."""
    values = record_values(record)
    if hasattr(record, "tags"):
        values["tags"] = sorted(tag.name for tag in record.tags.all())
    prefix = f"{record_type}."
    related = sorted(p for p in extra_paths if p.startswith(prefix) and p.count(".") >= 2)
    if related:
        from flowcrm.core.conditions import snapshot

        try:
            nested = snapshot(record, record_type=record_type, paths=related)[record_type]
        except Exception:  # an unknown path is reported by the condition itself
            nested = {}
        for key, value in nested.items():
            if isinstance(value, dict) or value is None:
                values[key] = value
    return values
