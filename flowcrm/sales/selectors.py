"""Reads of the sales app; every read of deals is scoped by ``core.permissions``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Count, F, Prefetch, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from flowcrm.core.custom_fields import clean_value, definitions_for
from flowcrm.core.errors import NotFound, ValidationFailed
from flowcrm.core.models import Event
from flowcrm.core.pagination import Page, paginate
from flowcrm.core.permissions import get_visible, scope
from flowcrm.sales.models import Deal, Pipeline, Stage

if TYPE_CHECKING:
    from flowcrm.accounts.models import User

DEAL_SORTS = frozenset({"id", "created_at", "updated_at", "amount", "title", "stage_entered_at"})
CARDS_PER_COLUMN = 50


def visible_or_invalid[ModelT: models.Model](
    queryset: models.QuerySet[ModelT],
    user: User,
    pk: int,
    *,
    field: str,
    owner_field: str = "owner",
) -> ModelT:
    """The record ``pk`` if ``user`` may see it; else ValidationFailed naming ``field``.

    For ids inside a request body: an unknown or invisible linked record is bad input (422),
    not a missing resource (404), and the message does not reveal whether it exists.
    """
    try:
        return get_visible(queryset, user, pk, owner_field)
    except NotFound as error:
        raise ValidationFailed({field: str(error)}) from error


def pipelines_with_stages() -> list[Pipeline]:
    """Every pipeline with its stages in board order (two queries)."""
    return list(
        Pipeline.objects.order_by("position", "name").prefetch_related(
            Prefetch("stages", queryset=Stage.objects.order_by("position", "id"))
        )
    )


def pipeline_get(pk: int) -> Pipeline:
    pipeline = Pipeline.objects.filter(pk=pk).first()
    if pipeline is None:
        raise NotFound(f"No pipeline with id {pk}.")
    return pipeline


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.order_by("-is_default", "position", "name").first()


def pipeline_for_input(pk: int, *, field: str = "pipeline_id") -> Pipeline:
    """A pipeline named in request input; ValidationFailed naming ``field`` if it does not exist."""
    pipeline = Pipeline.objects.filter(pk=pk).first()
    if pipeline is None:
        raise ValidationFailed({field: f"No pipeline with id {pk}."})
    return pipeline


def default_pipeline_for_input() -> Pipeline:
    pipeline = default_pipeline()
    if pipeline is None:
        raise ValidationFailed({"pipeline_id": "No pipeline exists yet; an admin must create one."})
    return pipeline


def active_user_for_input(user_id: int, *, field: str) -> User:
    """An active user named in request input; ValidationFailed naming ``field`` otherwise."""
    from flowcrm.accounts.models import User

    found = User.objects.filter(pk=user_id, is_active=True).first()
    if found is None:
        raise ValidationFailed({field: f"No active user with id {user_id}."})
    return found


def stage_get(pk: int) -> Stage:
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None:
        raise NotFound(f"No stage with id {pk}.")
    return stage


def stage_for_input(pk: int, *, field: str = "stage_id") -> Stage:
    """A stage named in request input; ValidationFailed naming ``field`` if it does not exist."""
    stage = Stage.objects.select_related("pipeline").filter(pk=pk).first()
    if stage is None:
        raise ValidationFailed({field: f"No stage with id {pk}."})
    return stage


def visible_deals(user: User) -> models.QuerySet[Deal]:
    return scope(Deal.objects.all(), user)


def deal_get(user: User, pk: int) -> Deal:
    """A deal ``user`` may see (with pipeline, stage, owner and company); NotFound otherwise."""
    return get_visible(
        Deal.objects.select_related("pipeline", "stage", "owner", "company"), user, pk
    )


@dataclass(frozen=True)
class DealFilters:
    pipeline_id: int | None = None
    stage_id: int | None = None
    status: str | None = None
    owner_id: int | None = None
    company_id: int | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    custom: Mapping[str, Any] = field(default_factory=dict)


def custom_field_q(record_type: str, params: Mapping[str, Any]) -> Q:
    """Filters on custom fields: ``{"region": "emea", "score__gte": 5}``.

    A value is converted like a stored value of its field (so ``"5"`` matches the number 5);
    ``__gte``/``__lte`` work on number, money and date fields. Raises ValidationFailed naming
    ``custom.<key>`` for an unknown field, a bad value or an operator the type does not have.
    """
    if not params:
        return Q()
    definitions = definitions_for(record_type)
    q = Q()
    for raw_key, raw_value in params.items():
        key, _, operator = raw_key.partition("__")
        definition = definitions.get(key)
        if definition is None:
            raise ValidationFailed({f"custom.{raw_key}": f"Unknown custom field {key!r}."})
        if operator not in ("", "gte", "lte"):
            raise ValidationFailed({f"custom.{raw_key}": "Use no operator, __gte or __lte."})
        if operator and definition.field_type not in ("number", "money", "date"):
            raise ValidationFailed(
                {f"custom.{raw_key}": "Ranges work on number, money and date fields."}
            )
        try:
            value = clean_value(definition, raw_value)
        except ValueError as error:
            raise ValidationFailed({f"custom.{raw_key}": str(error)}) from error
        if definition.field_type == "multi_choice":
            q &= Q(**{f"custom__{key}__contains": value})
        else:
            lookup = f"custom__{key}__{operator}" if operator else f"custom__{key}"
            q &= Q(**{lookup: value})
    return q


def deal_list(
    user: User,
    filters: DealFilters,
    *,
    sort: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Deal]:
    """One keyset page of the deals ``user`` may see, filtered (two queries: deals, contacts)."""
    queryset = visible_deals(user).select_related("stage")
    exact = {
        "pipeline_id": filters.pipeline_id,
        "stage_id": filters.stage_id,
        "status": filters.status,
        "owner_id": filters.owner_id,
        "company_id": filters.company_id,
        "amount__gte": filters.amount_min,
        "amount__lte": filters.amount_max,
        "expected_close_date__gte": filters.close_from,
        "expected_close_date__lte": filters.close_to,
    }
    queryset = queryset.filter(**{k: v for k, v in exact.items() if v is not None})
    queryset = queryset.filter(custom_field_q("deal", filters.custom))
    queryset = queryset.prefetch_related(Prefetch("contacts", queryset=_contact_ids_only()))
    return paginate(queryset, sort=sort, allowed_sorts=DEAL_SORTS, cursor=cursor, limit=limit)


def _contact_ids_only() -> models.QuerySet[Any]:
    from flowcrm.contacts.models import Contact

    return Contact.objects.only("id")


def is_rotting(deal: Deal, *, now: dt.datetime | None = None) -> bool:
    """An open deal idles longer in its stage than the stage's ``rotting_days``."""
    days = deal.stage.rotting_days
    if days is None or deal.status != "open":
        return False
    return (now or timezone.now()) - deal.stage_entered_at > dt.timedelta(days=days)


def days_in_stage(deal: Deal, *, now: dt.datetime | None = None) -> int:
    return ((now or timezone.now()) - deal.stage_entered_at).days


@dataclass(frozen=True)
class StageVisit:
    """One stay of a deal in a stage; ``left_at`` is None for the stage it is in now."""

    stage_id: int
    stage: str
    entered_at: dt.datetime
    left_at: dt.datetime | None
    duration: dt.timedelta


def deal_stage_history(deal: Deal, *, now: dt.datetime | None = None) -> list[StageVisit]:
    """The stages a deal went through, oldest first, derived from its events (one query).

    ``deal.created`` gives the first stage, each ``deal.stage_changed`` the next; a deal with no
    creation event (loaded before events existed) starts in its current stage at
    ``stage_entered_at``. The duration of the current stage runs until ``now``.
    """
    now = now or timezone.now()
    events = Event.objects.filter(
        subject_type="deal",
        subject_id=deal.pk,
        type__in=["deal.created", "deal.stage_changed"],
    ).order_by("occurred_at", "id")
    entries: list[tuple[int, str, dt.datetime]] = []
    for event in events.only("type", "data", "occurred_at"):
        if event.type == "deal.created":
            entries.append(
                (event.data.get("stage_id"), event.data.get("stage", ""), event.occurred_at)
            )
        else:
            entries.append(
                (event.data.get("to_stage_id"), event.data.get("to_stage", ""), event.occurred_at)
            )
    if not entries:
        entries.append((deal.stage_id, deal.stage.name, deal.stage_entered_at))
    visits = []
    for index, (stage_id, name, entered_at) in enumerate(entries):
        left_at = entries[index + 1][2] if index + 1 < len(entries) else None
        visits.append(
            StageVisit(
                stage_id=stage_id,
                stage=name,
                entered_at=entered_at,
                left_at=left_at,
                duration=(left_at or now) - entered_at,
            )
        )
    return visits


@dataclass
class BoardColumn:
    stage: Stage
    count: int = 0
    total: Decimal = Decimal("0")
    deals: list[Deal] = field(default_factory=list)

    @property
    def has_more(self) -> bool:
        return self.count > len(self.deals)


def stage_totals(user: User, stage_ids: list[int]) -> dict[int, tuple[int, Decimal]]:
    """Count and amount total of the visible deals in each stage (one aggregate query)."""
    rows = (
        visible_deals(user)
        .filter(stage_id__in=stage_ids)
        .values("stage_id")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by()
    )
    return {row["stage_id"]: (row["count"], row["total"] or Decimal("0")) for row in rows}


def board(
    user: User, pipeline: Pipeline, *, per_column: int = CARDS_PER_COLUMN
) -> list[BoardColumn]:
    """The kanban of ``pipeline``: one column per stage with totals and its first cards.

    Three queries whatever the number of deals: the stages, the totals (SQL aggregate) and the
    cards (at most ``per_column`` per stage, newest in stage first, via a window function).
    """
    columns = [BoardColumn(stage=stage) for stage in pipeline.stages.order_by("position", "id")]
    by_stage = {column.stage.pk: column for column in columns}
    for stage_id, (count, total) in stage_totals(user, list(by_stage)).items():
        by_stage[stage_id].count, by_stage[stage_id].total = count, total
    ranked = (
        visible_deals(user)
        .filter(pipeline=pipeline)
        .select_related("owner", "company")
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("stage_id")],
                order_by=[F("stage_entered_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=per_column)
        .order_by("stage_id", "rank")
    )
    for deal in ranked:
        column = by_stage.get(deal.stage_id)
        if column is not None:
            deal.stage = column.stage  # already loaded: no query per card for rotting
            column.deals.append(deal)
    return columns


def column_page(
    user: User, stage: Stage, *, cursor: str | None, limit: int = CARDS_PER_COLUMN
) -> Page[Deal]:
    """More cards of one kanban column, in board order (keyset on stage_entered_at, id)."""
    queryset = visible_deals(user).filter(stage=stage).select_related("owner", "company", "stage")
    return paginate(
        queryset, sort="-stage_entered_at", allowed_sorts=DEAL_SORTS, cursor=cursor, limit=limit
    )
