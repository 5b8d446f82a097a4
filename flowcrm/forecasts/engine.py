"""The forecast of a pipeline as of a moment, from the event log and the deals table.

``forecast_as_of(pipeline, as_of)`` rebuilds the pipeline at ``as_of`` (which deals were open,
in which stage, for how long, with which expected close date), learns stage probabilities from
deals closed before ``as_of`` (within a window), and weighs each open deal three ways. The live
forecast is the same call with ``as_of=now``; the back-test replays it at past period starts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet

from flowcrm.forecasts.history import DealHistory, deal_histories
from flowcrm.forecasts.periods import period_start
from flowcrm.forecasts.probabilities import DealProbability, StageLearning, deal_probability, learn
from flowcrm.sales.models import Deal, Pipeline

DEFAULT_WINDOW_DAYS = 365


@dataclass(frozen=True)
class OpenDeal:
    deal_id: int
    title: str
    owner_id: int | None
    owner_label: str
    team_label: str
    amount: Decimal
    stage_id: int
    stage_name: str
    close_date: dt.date | None
    forecast_category: str
    probability: DealProbability


@dataclass(frozen=True)
class PipelineForecast:
    pipeline: Pipeline
    as_of: dt.datetime
    window_days: int
    learning: dict[int, StageLearning]
    open_deals: list[OpenDeal]


def forecast_as_of(
    pipeline: Pipeline,
    as_of: dt.datetime,
    *,
    deals: QuerySet[Deal] | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> PipelineForecast:
    """The pipeline's forecast state at ``as_of``. ``deals`` narrows the deals weighed (e.g. to
    what a user may see, or one owner); learning always uses every closed deal of the pipeline.
    """
    stages = list(pipeline.stages.order_by("position", "id"))
    open_stages = [
        (s.id, s.name, s.probability / 100) for s in stages if not s.is_won and not s.is_lost
    ]
    stage_names = {s.id: s.name for s in stages}
    closed_rows = list(
        Deal.objects.filter(
            pipeline=pipeline,
            status__in=("won", "lost"),
            closed_at__lte=as_of,
            closed_at__gt=as_of - dt.timedelta(days=window_days),
        ).values_list("id", "status")
    )
    candidates = (deals if deals is not None else Deal.objects.all()).filter(pipeline=pipeline)
    candidates = candidates.filter(created_at__lte=as_of).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gt=as_of)
    )
    open_rows = list(
        candidates.select_related("owner__team").only(
            "id",
            "title",
            "amount",
            "forecast_category",
            "owner__email",
            "owner__name",
            "owner__team__name",
        )
    )
    histories = deal_histories([i for i, _ in closed_rows] + [d.id for d in open_rows])
    learning = learn(
        stages=open_stages,
        closed=[(histories[i], status == "won") for i, status in closed_rows],
        now=as_of,
    )
    weighed: list[OpenDeal] = []
    for deal in open_rows:
        history = histories[deal.id]
        visit = history.stage_at(as_of)
        if visit is None or visit.stage_id not in learning:
            continue  # no stage history yet, or sitting in a closed stage at as_of
        probability = deal_probability(
            learning[visit.stage_id],
            days_in_stage=visit.days(as_of)
            if visit.left_at is None or visit.left_at > as_of
            else 0.0,
        )
        owner = deal.owner
        weighed.append(
            OpenDeal(
                deal_id=deal.id,
                title=deal.title,
                owner_id=owner.pk if owner else None,
                owner_label=owner.display_name if owner else "Unassigned",
                team_label=owner.team.name if owner and owner.team else "No team",
                amount=deal.amount,
                stage_id=visit.stage_id,
                stage_name=stage_names.get(visit.stage_id, str(visit.stage_id)),
                close_date=_close_date(history, as_of),
                forecast_category=deal.forecast_category,
                probability=probability,
            )
        )
    return PipelineForecast(pipeline, as_of, window_days, learning, weighed)


def _close_date(history: DealHistory, as_of: dt.datetime) -> dt.date | None:
    return history.close_date_at(as_of)


def bucket_start(close_date: dt.date | None, *, as_of: dt.datetime, kind: str) -> dt.date | None:
    """The period a deal is forecast in: its close date's period; an overdue close date counts in
    the current period; no close date → None (shown as "unscheduled")."""
    if close_date is None:
        return None
    current = period_start(as_of.date(), kind)
    return max(period_start(close_date, kind), current)


def won_amount(
    pipeline: Pipeline, start: dt.datetime, end: dt.datetime, deals: Iterable[int] | None = None
) -> Decimal:
    """Won revenue of the pipeline closed in [start, end)."""
    from django.db.models import Sum

    queryset = Deal.objects.filter(
        pipeline=pipeline, status="won", closed_at__gte=start, closed_at__lt=end
    )
    if deals is not None:
        queryset = queryset.filter(id__in=list(deals))
    total = queryset.aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")
