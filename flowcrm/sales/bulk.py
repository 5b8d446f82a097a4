"""Bulk creation of deals with their stage history, as events.

A row may carry a ``path``: the stages the deal went through, oldest first, each with the time
it entered that stage. The deal is written in its final state; the events tell the history
exactly as the single-record services would have recorded it had the moves happened then: one
``deal.created`` (in the first stage, at the first time) and one ``deal.stage_changed`` per later
step, back-dated, with the ``changes`` and ``data`` that docs/events.md specifies. Process
analytics, stage history and forecasts read them.

Transactions: rows are consumed in batches of ``batch_size``; each batch is validated completely
and then written with its events in one transaction. A bad row raises ValidationFailed (keys
``rows.<index>.<field>``) and writes nothing of its batch; earlier batches stay written. Wrap the
call in ``transaction.atomic()`` for all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import batched, pairwise
from typing import Any

from django.db import transaction
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.actors import Actor
from flowcrm.core.bulk_insert import append_events, creation_changes, event_row, insert_rows
from flowcrm.core.custom_fields import definitions_for, validate_custom_values
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import diff
from flowcrm.sales.models import Deal, DealStatus, ForecastCategory, Pipeline, Stage

DEFAULT_BATCH_SIZE = 5000
MAX_REPORTED_ERRORS = 50
MAX_AMOUNT = Decimal("999999999999.99")
DEAL_BULK_FIELDS = frozenset(
    {
        "title",
        "amount",
        "currency",
        "expected_close_date",
        "pipeline_id",
        "stage_id",
        "path",
        "owner_id",
        "company_id",
        "contact_ids",
        "forecast_category",
        "lost_reason",
        "external_id",
        "custom",
        "created_at",
    }
)
DEAL_COLUMNS = (
    "title",
    "amount",
    "currency",
    "expected_close_date",
    "pipeline_id",
    "stage_id",
    "status",
    "stage_entered_at",
    "closed_at",
    "lost_reason",
    "owner_id",
    "company_id",
    "forecast_category",
    "external_id",
    "custom",
    "created_at",
    "updated_at",
)
_FORECAST_CATEGORIES = list(ForecastCategory.values)


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of a deal's history: it entered ``stage_id`` at ``entered_at``."""

    stage_id: int
    entered_at: dt.datetime


def status_of(stage: Stage) -> str:
    """The status a deal has while in ``stage``."""
    if stage.is_won:
        return DealStatus.WON
    if stage.is_lost:
        return DealStatus.LOST
    return DealStatus.OPEN


def _snapshot(deal: Mapping[str, Any]) -> dict[str, Any]:
    """The event-visible fields of a deal (relations as ids), as the deal services record them."""
    return {
        "title": deal["title"],
        "amount": deal["amount"],
        "currency": deal["currency"],
        "expected_close_date": deal["expected_close_date"],
        "pipeline": deal["pipeline_id"],
        "stage": deal["stage_id"],
        "status": deal["status"],
        "stage_entered_at": deal["stage_entered_at"],
        "owner": deal["owner_id"],
        "company": deal["company_id"],
        "lost_reason": deal["lost_reason"],
        "closed_at": deal["closed_at"],
        "forecast_category": deal["forecast_category"],
        "external_id": deal["external_id"],
        "custom": deal["custom"],
    }


@dataclass
class _State:
    """A deal's stage-related fields at one point of its history."""

    stage: Stage
    status: str
    entered_at: dt.datetime
    closed_at: dt.datetime | None
    lost_reason: str

    def values(self) -> dict[str, Any]:
        return {
            "stage": self.stage.pk,
            "status": self.status,
            "closed_at": self.closed_at,
            "stage_entered_at": self.entered_at,
            "lost_reason": self.lost_reason,
        }

    def moved(self, stage: Stage, at: dt.datetime, lost_reason: str) -> _State:
        """The state after a move to ``stage`` at ``at``, by the rules of ``deal_move_stage``."""
        status = status_of(stage)
        if status == DealStatus.OPEN:
            closed_at = None
        elif status != self.status:
            closed_at = at
        else:
            closed_at = self.closed_at
        return _State(
            stage=stage,
            status=status,
            entered_at=at,
            closed_at=closed_at,
            lost_reason=lost_reason if status == DealStatus.LOST else "",
        )


def _start_state(stage: Stage, at: dt.datetime, lost_reason: str) -> _State:
    status = status_of(stage)
    return _State(
        stage=stage,
        status=status,
        entered_at=at,
        closed_at=None if status == DealStatus.OPEN else at,
        lost_reason=lost_reason if status == DealStatus.LOST else "",
    )


class _Checker:
    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, index: int, field: str, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors[f"rows.{index}.{field}"] = message


class _Context:
    """What validation needs, loaded once per call."""

    def __init__(self) -> None:
        self.pipelines = {p.pk: p for p in Pipeline.objects.all()}
        self.stages = {s.pk: s for s in Stage.objects.all()}
        self.first_stage: dict[int, Stage] = {}
        for stage in sorted(self.stages.values(), key=lambda s: (s.position, s.pk)):
            self.first_stage.setdefault(stage.pipeline_id, stage)
        self.user_ids = set(User.objects.values_list("pk", flat=True))
        self.definitions = definitions_for("deal")


def _clean_amount(checker: _Checker, index: int, raw: Any) -> Decimal:
    try:
        amount = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        checker.add(index, "amount", "Expected a number.")
        return Decimal("0")
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        checker.add(index, "amount", "Expected a number from 0 to 999,999,999,999.99.")
        return Decimal("0")
    if amount != amount.quantize(Decimal("0.01")):
        checker.add(index, "amount", "Use at most two decimal places.")
    return amount.quantize(Decimal("0.01"))


def _clean_path(
    checker: _Checker, index: int, row: Mapping[str, Any], pipeline: Pipeline, ctx: _Context
) -> list[tuple[Stage, dt.datetime]]:
    """The row's history as (stage, entered at), oldest first; at least one step."""
    raw_path: Sequence[Any] | None = row.get("path")
    if raw_path is None:
        stage_id = row.get("stage_id")
        moment = row.get("created_at") or timezone.now()
        raw_path = [PathStep(stage_id, moment)] if stage_id is not None else []
        if stage_id is None and pipeline.pk in ctx.first_stage:
            raw_path = [PathStep(ctx.first_stage[pipeline.pk].pk, moment)]
    if not raw_path:
        checker.add(index, "path", "The pipeline has no stages.")
        return []
    steps: list[tuple[Stage, dt.datetime]] = []
    for position, item in enumerate(raw_path):
        step = item if isinstance(item, PathStep) else PathStep(*item)
        stage = ctx.stages.get(step.stage_id)
        if stage is None or stage.pipeline_id != pipeline.pk:
            checker.add(
                index,
                f"path.{position}.stage_id",
                f"Stage {step.stage_id} does not belong to pipeline {pipeline.pk}.",
            )
            return []
        if not isinstance(step.entered_at, dt.datetime) or timezone.is_naive(step.entered_at):
            checker.add(index, f"path.{position}.entered_at", "Expected an aware datetime.")
            return []
        if steps and step.entered_at < steps[-1][1]:
            checker.add(index, f"path.{position}.entered_at", "Steps must be in time order.")
            return []
        if steps and stage.pk == steps[-1][0].pk:
            checker.add(index, f"path.{position}.stage_id", "The deal is already in this stage.")
            return []
        steps.append((stage, step.entered_at))
    return steps


def _deal_from_row(
    checker: _Checker, index: int, row: Mapping[str, Any], ctx: _Context
) -> tuple[dict[str, Any], list[_State], list[int]] | None:
    for field in row.keys() - DEAL_BULK_FIELDS:
        checker.add(index, field, "Unknown field.")
    pipeline_id = row.get("pipeline_id")
    pipeline = ctx.pipelines.get(pipeline_id) if isinstance(pipeline_id, int) else None
    if pipeline is None:
        checker.add(index, "pipeline_id", f"Pipeline {row.get('pipeline_id')} does not exist.")
        return None
    title = str(row.get("title") or "").strip()
    if not title or len(title) > 200:
        checker.add(index, "title", "A deal needs a title of at most 200 characters.")
    currency = str(row.get("currency") or pipeline.currency).strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        checker.add(index, "currency", "Use a three-letter ISO 4217 code such as EUR.")
    forecast = row.get("forecast_category", ForecastCategory.PIPELINE)
    if forecast not in _FORECAST_CATEGORIES:
        checker.add(index, "forecast_category", f"One of {', '.join(_FORECAST_CATEGORIES)}.")
    owner_id = row.get("owner_id")
    if owner_id is not None and owner_id not in ctx.user_ids:
        checker.add(index, "owner_id", f"User {owner_id} does not exist.")
    custom: dict[str, Any] = {}
    if row.get("custom"):
        try:
            custom = validate_custom_values(
                "deal", row["custom"], definitions=ctx.definitions, user_ids=ctx.user_ids
            )
        except ValidationFailed as failure:
            for key, message in failure.errors.items():
                checker.add(index, key, message)
    steps = _clean_path(checker, index, row, pipeline, ctx)
    if not steps:
        return None
    lost_reason = str(row.get("lost_reason") or "").strip()[:200]
    states = [_start_state(steps[0][0], steps[0][1], lost_reason)]
    for stage, at in steps[1:]:
        states.append(states[-1].moved(stage, at, lost_reason))
    final = states[-1]
    deal = {
        "title": title,
        "amount": _clean_amount(checker, index, row.get("amount", 0)),
        "currency": currency,
        "expected_close_date": row.get("expected_close_date"),
        "pipeline_id": pipeline.pk,
        "stage_id": final.stage.pk,
        "status": final.status,
        "stage_entered_at": final.entered_at,
        "closed_at": final.closed_at,
        "lost_reason": final.lost_reason,
        "owner_id": owner_id,
        "company_id": row.get("company_id"),
        "forecast_category": forecast,
        "external_id": (str(row.get("external_id") or "").strip() or None),
        "custom": custom,
        "created_at": states[0].entered_at,
        "updated_at": final.entered_at,
    }
    contact_ids = sorted({int(c) for c in row.get("contact_ids") or []})
    return deal, states, contact_ids


def _history_events(
    pk: int, deal: Mapping[str, Any], states: list[_State], contact_ids: list[int], actor: Actor
) -> list[dict[str, Any]]:
    """``deal.created`` in the first state, then one ``deal.stage_changed`` per later state."""
    first = states[0]
    initial = {**_snapshot(deal), **first.values()}
    changes = creation_changes(initial)
    if contact_ids:
        changes["contacts"] = {"before": None, "after": contact_ids}
    events = [
        event_row(
            type="deal.created",
            subject_type="deal",
            subject_id=pk,
            actor=actor,
            changes=changes,
            data={
                "pipeline_id": deal["pipeline_id"],
                "stage_id": first.stage.pk,
                "stage": first.stage.name,
                "status": first.status,
            },
            occurred_at=first.entered_at,
        )
    ]
    for before, after in pairwise(states):
        events.append(
            event_row(
                type="deal.stage_changed",
                subject_type="deal",
                subject_id=pk,
                actor=actor,
                changes=diff(before.values(), after.values()),
                data={
                    "pipeline_id": deal["pipeline_id"],
                    "from_stage_id": before.stage.pk,
                    "to_stage_id": after.stage.pk,
                    "from_stage": before.stage.name,
                    "to_stage": after.stage.name,
                    "from_status": before.status,
                    "to_status": after.status,
                },
                occurred_at=after.entered_at,
            )
        )
    return events


def _check_exist(
    checker: _Checker, model: type[Any], rows_of_id: Mapping[int, int], field: str, noun: str
) -> None:
    found = set(model.objects.filter(pk__in=list(rows_of_id)).values_list("pk", flat=True))
    for missing in sorted(rows_of_id.keys() - found):
        checker.add(rows_of_id[missing], field, f"{noun} {missing} does not exist.")


def deal_bulk_create(
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: Actor,
    notify: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[int]:
    """Create deals with their stage histories. Returns the new deal ids in row order.

    Row keys: see ``DEAL_BULK_FIELDS``. ``pipeline_id`` is required. ``path`` is a sequence of
    :class:`PathStep` (or ``(stage_id, entered_at)`` pairs) in time order, first step = creation;
    without it the deal is created in ``stage_id`` (default: the pipeline's first stage) at
    ``created_at`` (default: now). ``lost_reason`` is recorded on every move into a lost stage.
    ``contact_ids``/``company_id``/``owner_id`` are ids. Events: one ``deal.created`` plus one
    ``deal.stage_changed`` per later step, each at its step's time. ``notify=False`` keeps event
    subscribers (flows) from seeing them. Raises ValidationFailed (see module docstring).
    """
    ctx = _Context()
    created: list[int] = []
    offset = 0
    for batch in batched(rows, batch_size):
        checker = _Checker()
        parsed: list[tuple[dict[str, Any], list[_State], list[int]]] = []
        rows_of_company: dict[int, int] = {}
        rows_of_contact: dict[int, int] = {}
        for index, row in enumerate(batch, start=offset):
            result = _deal_from_row(checker, index, row, ctx)
            if result is not None:
                parsed.append(result)
                if result[0]["company_id"] is not None:
                    rows_of_company.setdefault(result[0]["company_id"], index)
                for contact_id in result[2]:
                    rows_of_contact.setdefault(contact_id, index)
        offset += len(batch)
        _check_exist(checker, Company, rows_of_company, "company_id", "Company")
        _check_exist(checker, Contact, rows_of_contact, "contact_ids", "Contact")
        if checker.errors:
            raise ValidationFailed(checker.errors)
        with transaction.atomic():
            ids = insert_rows(Deal, DEAL_COLUMNS, [deal for deal, _, _ in parsed])
            links = [
                Deal.contacts.through(deal_id=pk, contact_id=contact_id)
                for pk, (_, _, contact_ids) in zip(ids, parsed, strict=True)
                for contact_id in contact_ids
            ]
            if links:
                Deal.contacts.through.objects.bulk_create(links, batch_size=batch_size)
            events: list[dict[str, Any]] = []
            for pk, (deal, states, contact_ids) in zip(ids, parsed, strict=True):
                events.extend(_history_events(pk, deal, states, contact_ids, actor))
            append_events(events, notify=notify)
        created.extend(ids)
    return created
