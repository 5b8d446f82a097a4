"""The record writes actions make, through the owning apps' services (one event each, in the
caller's transaction: the step's), so flows and people change records through the same code.

A service's ValidationFailed becomes a non-retryable ActionFailed naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

from flowcrm.accounts.models import User
from flowcrm.activities import services as activities
from flowcrm.activities.models import Activity, Task
from flowcrm.contacts import services as contacts
from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.flows.actions.base import ActionFailed
from flowcrm.sales import services as sales
from flowcrm.sales.models import Deal, Pipeline, Stage


def _checked[ResultT](call: Callable[[], ResultT]) -> ResultT:
    try:
        return call()
    except ValidationFailed as error:
        raise ActionFailed(str(error), retryable=False) from error


def _copy_back(target: models.Model, source: models.Model) -> None:
    """Keep the run's record instance current when a service saved another instance."""
    if target is source:
        return
    for field in type(target)._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def record_update(*, record: models.Model, values: Mapping[str, Any], actor: Actor) -> bool:
    """Set ``values`` (``owner`` as a user id) on a contact, company or deal; one
    ``<type>.updated`` event, or nothing when no value changes. Returns whether it changed."""
    values = dict(values)
    if "owner" in values:
        owner_id = values["owner"]
        values["owner"] = User.objects.filter(pk=owner_id).first() if owner_id else None
        if owner_id and values["owner"] is None:
            raise ActionFailed(f"owner: no user with id {owner_id}", retryable=False)
    before = record.updated_at  # type: ignore[attr-defined]  # every updatable type has it
    if isinstance(record, Contact):
        saved: models.Model = _checked(
            lambda: contacts.contact_update(contact=record, values=values, actor=actor)
        )
    elif isinstance(record, Company):
        saved = _checked(
            lambda: contacts.company_update(company=record, values=values, actor=actor)
        )
    elif isinstance(record, Deal):
        saved = _checked(lambda: sales.deal_update(deal=record, data=values, actor=actor))
    else:
        raise ActionFailed(
            f"{type(record).__name__} records cannot be updated by flows", retryable=False
        )
    _copy_back(record, saved)
    return bool(saved.updated_at != before)  # type: ignore[attr-defined]  # idem


def tag_set(*, record: Contact | Company, tag: Tag, present: bool, actor: Actor) -> bool:
    """Add (``present``) or remove a tag; one ``<type>.tag_added/removed`` event, or nothing."""
    if isinstance(record, Contact):
        change = contacts.contact_tag_add if present else contacts.contact_tag_remove
        return change(contact=record, tag=tag, actor=actor)
    change_company = contacts.company_tag_add if present else contacts.company_tag_remove
    return change_company(company=record, tag=tag, actor=actor)


def _links(record: models.Model | None) -> dict[str, Any]:
    if isinstance(record, Contact):
        return {"contact": record, "company": record.company}
    if isinstance(record, Deal):
        return {"deal": record, "company": record.company}
    if isinstance(record, Company):
        return {"company": record}
    return {}


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
    return _checked(
        lambda: activities.task_create(
            title=title[:200],
            actor=actor,
            assignee=assignee,
            due_at=due_at,
            description=description,
            priority=priority,
            **_links(about),
        )
    )


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
    owner = User.objects.filter(pk=owner_id).first() if owner_id else None
    return _checked(
        lambda: activities.activity_log(
            kind=kind,
            actor=actor,
            owner=owner,
            direction=direction,
            subject=subject[:200],
            body=body,
            **_links(about),
        )
    )


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
    owner = User.objects.filter(pk=owner_id).first() if owner_id else None
    return _checked(
        lambda: sales.deal_create(
            title=title[:200],
            pipeline=pipeline,
            stage=stage,
            amount=amount,
            owner=owner,
            company=company,
            contacts=[contact] if contact is not None else [],
            actor=actor,
        )
    )


def deal_move_stage(*, deal: Deal, stage: Stage, actor: Actor) -> Deal:
    """Move ``deal`` to ``stage`` of its pipeline; one ``deal.stage_changed`` event."""
    if deal.stage_id == stage.pk:
        return deal
    moved = _checked(lambda: sales.deal_move_stage(deal=deal, stage=stage, actor=actor))
    _copy_back(deal, moved)
    return moved
