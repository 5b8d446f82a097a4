"""Deals: create, update, move between stages, link contacts, delete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from flowcrm.core.actors import Actor
from flowcrm.core.custom_fields import validate_custom_values
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import created_changes, diff, record_event
from flowcrm.sales.models import Deal, DealStatus, ForecastCategory, Pipeline, Stage

if TYPE_CHECKING:
    from flowcrm.accounts.models import User
    from flowcrm.contacts.models import Company, Contact

DEAL_UPDATABLE_FIELDS = frozenset(
    {
        "title",
        "amount",
        "currency",
        "expected_close_date",
        "owner",
        "company",
        "forecast_category",
        "lost_reason",
        "custom",
        "external_id",
    }
)
MAX_AMOUNT = Decimal("999999999999.99")


def status_of(stage: Stage) -> str:
    """The status a deal has while in ``stage``."""
    if stage.is_won:
        return DealStatus.WON
    if stage.is_lost:
        return DealStatus.LOST
    return DealStatus.OPEN


def deal_snapshot(deal: Deal) -> dict[str, Any]:
    """The event-visible fields of a deal (relations as ids)."""
    return {
        "title": deal.title,
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date,
        "pipeline": deal.pipeline_id,
        "stage": deal.stage_id,
        "status": deal.status,
        "stage_entered_at": deal.stage_entered_at,
        "owner": deal.owner_id,
        "company": deal.company_id,
        "lost_reason": deal.lost_reason,
        "closed_at": deal.closed_at,
        "forecast_category": deal.forecast_category,
        "external_id": deal.external_id,
        "custom": deal.custom,
    }


def _clean_amount(raw: Any) -> Decimal:
    try:
        amount = Decimal(str(raw))
    except (InvalidOperation, ValueError) as error:
        raise ValidationFailed({"amount": "Expected a number."}) from error
    if not amount.is_finite():
        raise ValidationFailed({"amount": "Expected a finite number."})
    if amount < 0:
        raise ValidationFailed({"amount": "Must not be negative."})
    if amount > MAX_AMOUNT:
        raise ValidationFailed({"amount": "Is too large."})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed({"amount": "Use at most two decimal places."})
    return amount.quantize(Decimal("0.01"))


def _clean_deal_fields(
    values: Mapping[str, Any], *, existing_custom: dict[str, Any]
) -> dict[str, Any]:
    cleaned = dict(values)
    errors: dict[str, str] = {}
    if "title" in cleaned:
        cleaned["title"] = str(cleaned["title"] or "").strip()
        if not cleaned["title"]:
            errors["title"] = "A deal needs a title."
        elif len(cleaned["title"]) > 200:
            errors["title"] = "At most 200 characters."
    if "amount" in cleaned:
        try:
            cleaned["amount"] = _clean_amount(cleaned["amount"])
        except ValidationFailed as error:
            errors.update(error.errors)
    if "currency" in cleaned:
        cleaned["currency"] = str(cleaned["currency"] or "").strip().upper()
        if len(cleaned["currency"]) != 3 or not cleaned["currency"].isalpha():
            errors["currency"] = "Use a three-letter ISO 4217 code such as EUR."
    if (
        "forecast_category" in cleaned
        and cleaned["forecast_category"] not in ForecastCategory.values
    ):
        errors["forecast_category"] = f"One of {', '.join(ForecastCategory.values)}."
    if "lost_reason" in cleaned:
        cleaned["lost_reason"] = str(cleaned["lost_reason"] or "").strip()[:200]
    if "external_id" in cleaned:
        cleaned["external_id"] = (
            (str(cleaned["external_id"]).strip() or None) if cleaned["external_id"] else None
        )
    owner = cleaned.get("owner")
    if owner is not None and not owner.is_active:
        errors["owner_id"] = "The owner must be an active user."
    if "custom" in cleaned:
        try:
            cleaned["custom"] = validate_custom_values(
                "deal", cleaned["custom"] or {}, existing=existing_custom
            )
        except ValidationFailed as error:
            errors.update(error.errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def deal_create(
    *,
    title: str,
    pipeline: Pipeline,
    actor: Actor,
    stage: Stage | None = None,
    amount: Decimal | int | str = Decimal("0"),
    currency: str | None = None,
    expected_close_date: dt.date | None = None,
    owner: User | None = None,
    company: Company | None = None,
    contacts: Iterable[Contact] = (),
    forecast_category: str = ForecastCategory.PIPELINE,
    lost_reason: str = "",
    custom: Mapping[str, Any] | None = None,
    external_id: str | None = None,
) -> Deal:
    """Create a deal in ``stage`` (default: the pipeline's first stage); one ``deal.created``.

    A deal created in a won/lost stage is closed at once (status and ``closed_at`` set).
    Event ``data``: ``pipeline_id``, ``stage_id``, ``stage`` (name), ``status``.
    Raises ValidationFailed: ``title``, ``amount`` (negative, not a number), ``currency``,
    ``stage_id`` (no stages, or a stage of another pipeline), ``owner_id``, ``custom.<key>``.
    """
    if stage is None:
        stage = pipeline.stages.order_by("position", "id").first()
        if stage is None:
            raise ValidationFailed({"stage_id": "The pipeline has no stages."})
    elif stage.pipeline_id != pipeline.pk:
        raise ValidationFailed(
            {"stage_id": f"Stage {stage.pk} does not belong to pipeline {pipeline.pk}."}
        )
    cleaned = _clean_deal_fields(
        {
            "title": title,
            "amount": amount,
            "currency": currency or pipeline.currency,
            "forecast_category": forecast_category,
            "lost_reason": lost_reason,
            "custom": dict(custom or {}),
            "external_id": external_id,
            "owner": owner,
        },
        existing_custom={},
    )
    now = timezone.now()
    status = status_of(stage)
    contact_list = list(contacts)
    with transaction.atomic():
        deal = Deal.objects.create(
            pipeline=pipeline,
            stage=stage,
            status=status,
            stage_entered_at=now,
            closed_at=None if status == DealStatus.OPEN else now,
            expected_close_date=expected_close_date,
            company=company,
            created_at=now,
            updated_at=now,
            **cleaned,
        )
        if contact_list:
            deal.contacts.add(*contact_list)
        changes = created_changes(deal_snapshot(deal))
        if contact_list:
            changes["contacts"] = {"before": None, "after": sorted(c.pk for c in contact_list)}
        record_event(
            type="deal.created",
            subject=deal,
            actor=actor,
            changes=changes,
            data={
                "pipeline_id": pipeline.pk,
                "stage_id": stage.pk,
                "stage": stage.name,
                "status": status,
            },
            occurred_at=now,
        )
    return deal


def deal_update(*, deal: Deal, data: Mapping[str, Any], actor: Actor) -> Deal:
    """Change a deal's fields except its stage (use :func:`deal_move_stage`); one ``deal.updated``.

    ``data`` keys: see ``DEAL_UPDATABLE_FIELDS`` (``owner``/``company`` are model instances or
    None; ``custom`` is merged, a None value clears a key). Nothing is saved or recorded when
    nothing changes. Raises ValidationFailed naming the field (``stage_id`` if a stage is given).
    """
    if {"stage", "stage_id", "pipeline", "pipeline_id", "status"} & set(data):
        raise ValidationFailed(
            {"stage_id": "Move the deal with POST /deals/{id}/move to change its stage."}
        )
    unknown = set(data) - DEAL_UPDATABLE_FIELDS
    if unknown:
        raise ValidationFailed(dict.fromkeys(sorted(unknown), "Unknown or read-only field."))
    cleaned = _clean_deal_fields(data, existing_custom=dict(deal.custom))
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        before = deal_snapshot(locked)
        for field, value in cleaned.items():
            setattr(locked, field, value)
        changes = diff(before, deal_snapshot(locked))
        if not changes:
            return locked
        locked.updated_at = timezone.now()
        locked.save()
        record_event(type="deal.updated", subject=locked, actor=actor, changes=changes)
    return locked


def deal_move_stage(*, deal: Deal, stage: Stage, actor: Actor, lost_reason: str = "") -> Deal:
    """Move ``deal`` to ``stage`` of its own pipeline; one ``deal.stage_changed`` event.

    Entering a won/lost stage closes the deal (status, ``closed_at`` = now; ``lost_reason`` is
    kept for a lost stage, cleared otherwise); leaving a closed stage for an open one reopens it
    (``closed_at`` cleared). ``stage_entered_at`` becomes now. The row is locked for the move, so
    concurrent moves serialise and each event names the stage the deal really left.
    Raises ValidationFailed ``stage_id`` for a stage of another pipeline or the current stage.
    """
    if stage.pipeline_id != deal.pipeline_id:
        raise ValidationFailed(
            {"stage_id": f"Stage {stage.pk} does not belong to the deal's pipeline."}
        )
    with transaction.atomic():
        locked = Deal.objects.select_for_update().select_related("stage").get(pk=deal.pk)
        if locked.stage_id == stage.pk:
            raise ValidationFailed({"stage_id": "The deal is already in this stage."})
        from_stage = locked.stage
        before = deal_snapshot(locked)
        now = timezone.now()
        new_status = status_of(stage)
        locked.stage = stage
        locked.stage_entered_at = now
        if new_status == DealStatus.OPEN:
            locked.closed_at = None
        elif new_status != locked.status:
            locked.closed_at = now
        locked.lost_reason = lost_reason.strip()[:200] if new_status == DealStatus.LOST else ""
        from_status = locked.status
        locked.status = new_status
        locked.updated_at = now
        locked.save()
        changes = {
            field: change
            for field, change in diff(before, deal_snapshot(locked)).items()
            if field in {"stage", "status", "closed_at", "stage_entered_at", "lost_reason"}
        }
        record_event(
            type="deal.stage_changed",
            subject=locked,
            actor=actor,
            changes=changes,
            data={
                "pipeline_id": locked.pipeline_id,
                "from_stage_id": from_stage.pk,
                "to_stage_id": stage.pk,
                "from_stage": from_stage.name,
                "to_stage": stage.name,
                "from_status": from_status,
                "to_status": new_status,
            },
            occurred_at=now,
        )
    return locked


def deal_contact_link(*, deal: Deal, contact: Contact, actor: Actor) -> Deal:
    """Link a contact to the deal; one ``deal.updated`` with the ``contacts`` before/after.

    Raises ValidationFailed ``contact_id`` when the contact is already linked.
    """
    with transaction.atomic():
        Deal.objects.select_for_update().filter(pk=deal.pk).first()
        before = sorted(deal.contacts.values_list("pk", flat=True))
        if contact.pk in before:
            raise ValidationFailed({"contact_id": "The contact is already linked to this deal."})
        deal.contacts.add(contact)
        record_event(
            type="deal.updated",
            subject=deal,
            actor=actor,
            changes={"contacts": {"before": before, "after": sorted([*before, contact.pk])}},
        )
    return deal


def deal_contact_unlink(*, deal: Deal, contact: Contact, actor: Actor) -> Deal:
    """Unlink a contact from the deal; one ``deal.updated`` with the ``contacts`` before/after.

    Raises ValidationFailed ``contact_id`` when the contact is not linked.
    """
    with transaction.atomic():
        Deal.objects.select_for_update().filter(pk=deal.pk).first()
        before = sorted(deal.contacts.values_list("pk", flat=True))
        if contact.pk not in before:
            raise ValidationFailed({"contact_id": "The contact is not linked to this deal."})
        deal.contacts.remove(contact)
        record_event(
            type="deal.updated",
            subject=deal,
            actor=actor,
            changes={
                "contacts": {"before": before, "after": [pk for pk in before if pk != contact.pk]}
            },
        )
    return deal


def deal_delete(*, deal: Deal, actor: Actor) -> None:
    """Delete the deal (its activities and tasks go with it); one ``deal.deleted``."""
    with transaction.atomic():
        deal_id, title = deal.pk, deal.title
        data = {"title": title, "pipeline_id": deal.pipeline_id, "stage_id": deal.stage_id}
        deal.delete()
        record_event(
            type="deal.deleted", subject_type="deal", subject_id=deal_id, actor=actor, data=data
        )
