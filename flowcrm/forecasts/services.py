"""Writes: manager overrides, period snapshots (and their actuals), and the back-test replay."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import created_changes, record_event
from flowcrm.core.permissions import ROLES_THAT_SEE_ALL
from flowcrm.forecasts import runrate
from flowcrm.forecasts.engine import bucket_start, forecast_as_of, won_amount
from flowcrm.forecasts.models import ForecastOverride, ForecastSnapshot
from flowcrm.forecasts.periods import next_period, parse_period, period_start, previous_period
from flowcrm.forecasts.selectors import monthly_won
from flowcrm.sales.models import Pipeline


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def override_set(
    *,
    pipeline: Pipeline,
    period: str,
    amount: object,
    comment: str,
    owner: User | None,
    author: User,
    actor: Actor,
) -> ForecastOverride:
    """Record a manager's figure for a period (optionally for one owner). Managers/admins only."""
    errors: dict[str, str] = {}
    if not (author.is_superuser or author.role in ROLES_THAT_SEE_ALL - {"read_only"}):
        from flowcrm.core.errors import PermissionDenied

        raise PermissionDenied("Only managers and admins can override a forecast.")
    try:
        start, kind = parse_period(period)
    except ValueError:
        errors["period"] = "Use YYYY-MM for a month or YYYY-Qn for a quarter."
    try:
        value = Decimal(str(amount))
        if not value.is_finite() or value < 0:
            raise InvalidOperation
    except InvalidOperation:
        errors["amount"] = "Must be a number ≥ 0."
    if not comment.strip():
        errors["comment"] = "Say why: the comment is the expert opinion behind the figure."
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        override = ForecastOverride.objects.create(
            pipeline=pipeline,
            period_kind=kind,
            period_start=start,
            owner=owner,
            amount=value,
            comment=comment.strip(),
            author=author,
        )
        record_event(
            type="forecast_override.created",
            subject=override,
            actor=actor,
            changes=created_changes(
                {"period": period, "amount": value, "owner": owner.pk if owner else None}
            ),
            data={"pipeline_id": pipeline.pk, "comment": override.comment},
        )
    return override


@dataclass(frozen=True)
class PeriodForecast:
    period_start: dt.date
    values: dict[str, float]
    actual: float | None


def forecast_for_period(pipeline: Pipeline, start: dt.date, kind: str) -> dict[str, float]:
    """Each method's forecast of won revenue in the period, as it stood at the period's start."""
    as_of = _midnight(start)
    forecast = forecast_as_of(pipeline, as_of)
    values = {"configured": 0.0, "learned": 0.0, "time_aware": 0.0}
    for deal in forecast.open_deals:
        if bucket_start(deal.close_date, as_of=as_of, kind=kind) != start:
            continue
        amount = float(deal.amount)
        values["configured"] += amount * deal.probability.configured
        values["learned"] += amount * deal.probability.learned
        values["time_aware"] += amount * deal.probability.time_aware
    history = [amount for _m, amount in monthly_won(pipeline, until=start)]
    horizon = 3 if kind == "quarter" else 1
    projection = runrate.project(history, months=horizon)
    values["run_rate"] = sum(p.expected for p in projection.points)
    return {k: round(v, 2) for k, v in values.items()}


def snapshot_take(
    *, pipeline: Pipeline, start: dt.date, kind: str, actor: Actor
) -> ForecastSnapshot:
    """Snapshot the period's forecast (idempotent: an existing snapshot is returned unchanged)."""
    existing = ForecastSnapshot.objects.filter(
        pipeline=pipeline, period_kind=kind, period_start=start
    ).first()
    if existing is not None:
        return existing
    values = forecast_for_period(pipeline, start, kind)
    with transaction.atomic():
        snapshot = ForecastSnapshot.objects.create(
            pipeline=pipeline,
            period_kind=kind,
            period_start=start,
            taken_at=timezone.now(),
            values=values,
        )
        record_event(
            type="forecast_snapshot.created",
            subject=snapshot,
            actor=actor,
            data={"pipeline_id": pipeline.pk, "period_start": start, "values": values},
        )
    return snapshot


def snapshots_close(*, pipeline: Pipeline, today: dt.date, actor: Actor) -> int:
    """Fill the actual won revenue of snapshots whose period has ended. Returns how many."""
    closed = 0
    for snapshot in ForecastSnapshot.objects.filter(pipeline=pipeline, actual__isnull=True):
        end = next_period(snapshot.period_start, snapshot.period_kind)
        if end > today:
            continue
        actual = won_amount(pipeline, _midnight(snapshot.period_start), _midnight(end))
        with transaction.atomic():
            snapshot.actual = actual
            snapshot.save(update_fields=["actual", "updated_at"])
            record_event(
                type="forecast_snapshot.closed",
                subject=snapshot,
                actor=actor,
                changes={"actual": {"before": None, "after": str(actual)}},
            )
        closed += 1
    return closed


def backtest(
    pipeline: Pipeline, *, months: int = 12, today: dt.date | None = None
) -> list[PeriodForecast]:
    """Replay history: for each of the last ``months`` complete months, each method's forecast as
    it would have stood at the month's start, next to the actual won revenue. Writes nothing."""
    if not 1 <= months <= 36:
        raise ValidationFailed({"months": "Must be between 1 and 36."})
    current = period_start(today or timezone.now().date(), "month")
    starts: list[dt.date] = []
    cursor = current
    for _ in range(months):
        cursor = previous_period(cursor, "month")
        starts.append(cursor)
    results = []
    for start in reversed(starts):
        values = forecast_for_period(pipeline, start, "month")
        actual = won_amount(pipeline, _midnight(start), _midnight(next_period(start, "month")))
        results.append(PeriodForecast(start, values, float(actual)))
    return results


def mape(results: list[PeriodForecast]) -> dict[str, float | None]:
    errors: dict[str, list[float]] = {}
    for result in results:
        if not result.actual:
            continue
        for method, value in result.values.items():
            errors.setdefault(method, []).append(abs(result.actual - value) / result.actual)
    return {m: (sum(v) / len(v) if v else None) for m, v in sorted(errors.items())}
