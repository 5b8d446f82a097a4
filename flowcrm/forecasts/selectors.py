"""Reads: the weighted pipeline by period and group, per-deal probabilities, run-rate, accuracy."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.permissions import scope
from flowcrm.forecasts import runrate
from flowcrm.forecasts.engine import PipelineForecast, bucket_start, forecast_as_of
from flowcrm.forecasts.models import ForecastOverride, ForecastSnapshot
from flowcrm.forecasts.periods import month_starts, period_label, period_start
from flowcrm.sales.models import Deal, Pipeline

GROUPINGS = ("owner", "team", "pipeline")
PERIOD_KINDS = ("month", "quarter")
METHODS = ("configured", "learned", "time_aware")


@dataclass
class ForecastRow:
    period: str
    group: str
    deals: int = 0
    amount: Decimal = Decimal("0")
    weighted: dict[str, Decimal] = field(default_factory=lambda: {m: Decimal("0") for m in METHODS})
    categories: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    override: Decimal | None = None
    override_comment: str = ""


def validate_options(period_kind: str, group_by: str) -> None:
    errors = {}
    if period_kind not in PERIOD_KINDS:
        errors["period"] = f"Use one of {', '.join(PERIOD_KINDS)}."
    if group_by not in GROUPINGS:
        errors["group_by"] = f"Use one of {', '.join(GROUPINGS)}."
    if errors:
        raise ValidationFailed(errors)


def pipeline_forecast(
    pipeline: Pipeline, user: User, *, as_of: dt.datetime | None = None, window_days: int = 365
) -> PipelineForecast:
    if not 30 <= window_days <= 3650:
        raise ValidationFailed({"window_days": "Must be between 30 and 3650."})
    return forecast_as_of(
        pipeline,
        as_of or timezone.now(),
        deals=scope(Deal.objects.all(), user),
        window_days=window_days,
    )


def weighted_rows(
    forecast: PipelineForecast, *, period_kind: str = "month", group_by: str = "owner"
) -> list[ForecastRow]:
    """The weighted pipeline per (period, group), three probability sources side by side."""
    validate_options(period_kind, group_by)
    rows: dict[tuple[str, str], ForecastRow] = {}
    for deal in forecast.open_deals:
        start = bucket_start(deal.close_date, as_of=forecast.as_of, kind=period_kind)
        period = period_label(start, period_kind) if start else "unscheduled"
        group = {
            "owner": deal.owner_label,
            "team": deal.team_label,
            "pipeline": forecast.pipeline.name,
        }[group_by]
        row = rows.setdefault((period, group), ForecastRow(period=period, group=group))
        row.deals += 1
        row.amount += deal.amount
        probability = deal.probability
        for method, value in (
            ("configured", probability.configured),
            ("learned", probability.learned),
            ("time_aware", probability.time_aware),
        ):
            row.weighted[method] += (deal.amount * Decimal(str(value))).quantize(Decimal("0.01"))
        row.categories[deal.forecast_category] += deal.amount
    _attach_overrides(forecast.pipeline, rows, period_kind=period_kind, group_by=group_by)
    return sorted(rows.values(), key=lambda r: (r.period == "unscheduled", r.period, r.group))


def _attach_overrides(
    pipeline: Pipeline, rows: dict[tuple[str, str], ForecastRow], *, period_kind: str, group_by: str
) -> None:
    overrides = (
        ForecastOverride.objects.filter(pipeline=pipeline, period_kind=period_kind)
        .select_related("owner")
        .order_by("created_at")
    )
    latest: dict[tuple[str, str], ForecastOverride] = {}
    for override in overrides:
        period = period_label(override.period_start, period_kind)
        if group_by == "owner" and override.owner is not None:
            group = override.owner.display_name
        elif group_by == "pipeline" and override.owner is None:
            group = pipeline.name
        else:
            continue
        latest[(period, group)] = override
    for key, override in latest.items():
        row = rows.setdefault(key, ForecastRow(period=key[0], group=key[1]))
        row.override = override.amount
        row.override_comment = override.comment


def monthly_won(pipeline: Pipeline, *, until: dt.date) -> list[tuple[dt.date, float]]:
    """Won revenue per complete calendar month before ``until``'s month (one GROUP BY query)."""
    end = period_start(until, "month")
    totals = {
        row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]: row["total"]
        for row in Deal.objects.filter(
            pipeline=pipeline,
            status="won",
            closed_at__lt=dt.datetime.combine(end, dt.time(), tzinfo=dt.UTC),
        )
        .annotate(month=TruncMonth("closed_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(total=Sum("amount"))
    }
    if not totals:
        return []
    first = min(totals)
    months = [m for m in month_starts(first, end) if m < end]
    return [(m, float(totals.get(m, 0) or 0)) for m in months]


def run_rate(
    pipeline: Pipeline, *, months: int = 3, today: dt.date | None = None
) -> runrate.Projection:
    if not 1 <= months <= 24:
        raise ValidationFailed({"months": "Must be between 1 and 24."})
    history = [
        amount for _month, amount in monthly_won(pipeline, until=today or timezone.now().date())
    ]
    return runrate.project(history, months=months)


def snapshots(pipeline: Pipeline, *, period_kind: str = "month") -> list[ForecastSnapshot]:
    return list(
        ForecastSnapshot.objects.filter(pipeline=pipeline, period_kind=period_kind).order_by(
            "-period_start"
        )[:24]
    )


def accuracy(items: list[ForecastSnapshot]) -> dict[str, float | None]:
    """Mean absolute percentage error per method over closed periods with revenue."""
    errors: dict[str, list[float]] = defaultdict(list)
    for snapshot in items:
        if snapshot.actual is None or snapshot.actual <= 0:
            continue
        actual = float(snapshot.actual)
        for method, value in snapshot.values.items():
            errors[method].append(abs(actual - float(value)) / actual)
    return {m: (sum(v) / len(v) if v else None) for m, v in sorted(errors.items())}
