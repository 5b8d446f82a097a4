"""The record writes actions make, one event each, in the caller's (the step's) transaction.

These mirror the signatures of the contacts, sales and activities services; where those
services exist they are used, so flows and people change records through the same code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.activities.models import Activity, Task
from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import created_changes, diff, record_event, subject_type_of
from flowcrm.flows.actions.records import record_values
from flowcrm.sales.models import Deal, DealStatus, Pipeline, Stage

# Fields an "update record" action may set, per record type (relations by id).
UPDATABLE_FIELDS: dict[str, frozenset[str]] = {
    "contact": frozenset(
        {
            "first_name",
            "last_name",
            "job_title",
            "lifecycle_stage",
            "lead_status",
            "source",
            "score",
            "country",
            "unsubscribed",
            "owner",
            "custom",
        }
    ),
    "company": frozenset({"name", "industry", "size", "country", "owner", "custom"}),
    "deal": frozenset(
        {"title", "amount", "expected_close_date", "forecast_category", "owner", "custom"}
    ),
}


def record_update(*, record: models.Model, values: Mapping[str, Any], actor: Actor) -> bool:
    """Set ``values`` on ``record`` and append one ``<type>.updated`` event with the changes.

    ``owner`` is a user id (or None); ``custom`` is merged key by key. Returns False and writes
    nothing when no value changes. Raises ValidationFailed naming an unknown field.
    """
    record_type = subject_type_of(record)
    allowed = UPDATABLE_FIELDS.get(record_type, frozenset())
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValidationFailed(
            {name: f"{record_type} has no settable field {name!r}." for name in unknown}
        )
    before = record_values(record)
    for name, value in values.items():
        if name == "owner":
            record.owner_id = value  # type: ignore[attr-defined]  # every updatable type is owned
        elif name == "custom":
            merged = {**record.custom, **dict(value)}  # type: ignore[attr-defined]  # idem
            record.custom = {k: v for k, v in merged.items() if v is not None}  # type: ignore[attr-defined]  # idem
        else:
            setattr(record, name, value)
    changes = diff(before, record_values(record))
    if not changes:
        return False
    with transaction.atomic():
        record.updated_at = timezone.now()  # type: ignore[attr-defined]  # TimestampedModel
        record.save()
        record_event(type=f"{record_type}.updated", subject=record, actor=actor, changes=changes)
    return True


def tag_set(*, record: Contact | Company, tag: Tag, present: bool, actor: Actor) -> bool:
    """Add (``present``) or remove a tag; one ``<type>.tag_added/removed`` event, or nothing."""
    with transaction.atomic():
        before = sorted(record.tags.values_list("pk", flat=True))
        if (tag.pk in before) == present:
            return False
        after = sorted([*before, tag.pk]) if present else [pk for pk in before if pk != tag.pk]
        if present:
            record.tags.add(tag)
        else:
            record.tags.remove(tag)
        record_event(
            type=f"{subject_type_of(record)}.{'tag_added' if present else 'tag_removed'}",
            subject=record,
            actor=actor,
            changes={"tags": {"before": before, "after": after}},
            data={"tag_id": tag.pk, "tag": tag.name},
        )
    return True


def _links(record: models.Model | None) -> dict[str, Any]:
    if isinstance(record, Contact):
        return {"contact": record, "company": record.company}
    if isinstance(record, Deal):
        return {"deal": record, "company": record.company}
    if isinstance(record, Company):
        return {"company": record}
    return {}


def _link_ids(values: Mapping[str, Any]) -> dict[str, int | None]:
    return {
        f"{name}_id": values[name].pk if values.get(name) is not None else None
        for name in ("contact", "company", "deal")
    }


def task_create(
    *,
    title: str,
    actor: Actor,
    about: models.Model | None,
    assignee: User | None,
    due_at: dt.datetime | None,
    description: str = "",
    priority: str = "normal",
) -> Task:
    """An open task linked to ``about``; one ``task.created`` event."""
    links = _links(about)
    with transaction.atomic():
        task = Task.objects.create(
            title=title[:200],
            description=description,
            assignee=assignee,
            due_at=due_at,
            priority=priority,
            **links,
        )
        record_event(
            type="task.created",
            subject=task,
            actor=actor,
            changes=created_changes(record_values(task)),
            data=_link_ids(links),
        )
    return task


def activity_log(
    *,
    kind: str,
    actor: Actor,
    about: models.Model | None,
    subject: str,
    body: str,
    direction: str = "",
    owner_id: int | None = None,
) -> Activity:
    """An activity on ``about``'s timeline; one ``activity.logged`` event."""
    links = _links(about)
    with transaction.atomic():
        activity = Activity.objects.create(
            kind=kind,
            direction=direction,
            subject=subject[:200],
            body=body,
            owner_id=owner_id,
            **links,
        )
        record_event(
            type="activity.logged",
            subject=activity,
            actor=actor,
            changes=created_changes(record_values(activity)),
            data={"kind": kind, "direction": direction, **_link_ids(links)},
        )
    return activity


def deal_create(
    *,
    title: str,
    pipeline: Pipeline,
    stage: Stage,
    amount: Decimal,
    owner_id: int | None,
    company: Company | None,
    contact: Contact | None,
    actor: Actor,
) -> Deal:
    """A deal in ``stage``; one ``deal.created`` event."""
    status = DealStatus.WON if stage.is_won else DealStatus.LOST if stage.is_lost else "open"
    with transaction.atomic():
        deal = Deal.objects.create(
            title=title[:200],
            pipeline=pipeline,
            stage=stage,
            status=status,
            amount=amount,
            currency=pipeline.currency,
            owner_id=owner_id,
            company=company,
        )
        if contact is not None:
            deal.contacts.add(contact)
        record_event(
            type="deal.created",
            subject=deal,
            actor=actor,
            changes=created_changes(record_values(deal)),
            data={
                "pipeline_id": pipeline.pk,
                "stage_id": stage.pk,
                "stage": stage.name,
                "status": status,
            },
        )
    return deal


def deal_move_stage(*, deal: Deal, stage: Stage, actor: Actor) -> Deal:
    """Move ``deal`` to ``stage`` of its pipeline; one ``deal.stage_changed`` event."""
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationFailed({"stage_id": f"Stage {stage.pk} is not in the deal's pipeline."})
    with transaction.atomic():
        locked = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
        if locked.stage_id == stage.pk:
            return locked
        from_stage, from_status = locked.stage, locked.status
        before = record_values(locked)
        now = timezone.now()
        status = DealStatus.WON if stage.is_won else DealStatus.LOST if stage.is_lost else "open"
        locked.stage, locked.status, locked.stage_entered_at = stage, status, now
        locked.closed_at = None if status == "open" else now
        locked.updated_at = now
        locked.save()
        record_event(
            type="deal.stage_changed",
            subject=locked,
            actor=actor,
            changes=diff(before, record_values(locked)),
            data={
                "pipeline_id": locked.pipeline_id,
                "from_stage_id": from_stage.pk,
                "to_stage_id": stage.pk,
                "from_stage": from_stage.name,
                "to_stage": stage.name,
                "from_status": from_status,
                "to_status": status,
            },
        )
    return locked
