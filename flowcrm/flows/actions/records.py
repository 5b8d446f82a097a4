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
