"""Forecast endpoints: weighted pipeline, per-deal probabilities, run-rate, overrides, accuracy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from flowcrm.accounts.models import User
from flowcrm.api import request_actor, request_user
from flowcrm.core.errors import NotFound, ValidationFailed
from flowcrm.forecasts import selectors, services
from flowcrm.sales.models import Pipeline

router = Router(tags=["forecasts"])


class ForecastQuery(Schema):
    period: str = Field("month", description="month or quarter")
    group_by: str = Field("owner", description="owner, team or pipeline")
    window_days: int = Field(365, description="History window for learned probabilities.")


class OverrideIn(Schema):
    period: str = Field(..., description="YYYY-MM or YYYY-Qn")
    amount: Decimal
    comment: str
    owner_id: int | None = None


def _pipeline(pipeline_id: int) -> Pipeline:
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    if pipeline is None:
        raise NotFound(f"No pipeline with id {pipeline_id}.")
    return pipeline


@router.get("/forecasts/{pipeline_id}", summary="Weighted pipeline by period and group")
def forecast(request: HttpRequest, pipeline_id: int, query: Query[ForecastQuery]) -> dict[str, Any]:
    selectors.validate_options(query.period, query.group_by)
    result = selectors.pipeline_forecast(
        _pipeline(pipeline_id), request_user(request), window_days=query.window_days
    )
    rows = selectors.weighted_rows(result, period_kind=query.period, group_by=query.group_by)
    return {
        "as_of": result.as_of,
        "window_days": result.window_days,
        "stages": [
            {
                "stage_id": s.stage_id,
                "stage": s.stage_name,
                "configured": s.configured,
                "learned": s.learned,
                "closed_deals_reached": s.reached,
                "won": s.won,
                "median_won_days": s.median_won_days,
            }
            for s in result.learning.values()
        ],
        "rows": [
            {
                "period": r.period,
                "group": r.group,
                "deals": r.deals,
                "amount": r.amount,
                "weighted": r.weighted,
                "categories": dict(r.categories),
                "override": r.override,
                "override_comment": r.override_comment,
            }
            for r in rows
        ],
    }


@router.get("/forecasts/{pipeline_id}/deals", summary="Each open deal's probabilities, explained")
def forecast_deals(
    request: HttpRequest, pipeline_id: int, window_days: int = 365
) -> list[dict[str, Any]]:
    result = selectors.pipeline_forecast(
        _pipeline(pipeline_id), request_user(request), window_days=window_days
    )
    return [
        {
            "deal_id": d.deal_id,
            "title": d.title,
            "owner": d.owner_label,
            "stage": d.stage_name,
            "amount": d.amount,
            "close_date": d.close_date,
            "forecast_category": d.forecast_category,
            "days_in_stage": round(d.probability.days_in_stage, 1),
            "configured": d.probability.configured,
            "learned": d.probability.learned,
            "time_aware": d.probability.time_aware,
            "explanation": d.probability.explanation,
        }
        for d in result.open_deals
    ]


@router.get("/forecasts/{pipeline_id}/run-rate", summary="Projection of won revenue")
def forecast_run_rate(request: HttpRequest, pipeline_id: int, months: int = 3) -> dict[str, Any]:
    projection = selectors.run_rate(_pipeline(pipeline_id), months=months)
    return {
        "method": projection.method,
        "methods": [
            {"method": s.method, "mape": s.mape, "tested_months": s.tested_months}
            for s in projection.scores
        ],
        "points": [
            {
                "horizon_months": p.horizon,
                "expected": round(p.expected, 2),
                "low": round(p.low, 2),
                "high": round(p.high, 2),
            }
            for p in projection.points
        ],
    }


@router.post(
    "/forecasts/{pipeline_id}/overrides", response={201: dict[str, Any]}, summary="Manager override"
)
def forecast_override(
    request: HttpRequest, pipeline_id: int, payload: OverrideIn
) -> Status[dict[str, Any]]:
    owner = None
    if payload.owner_id is not None:
        owner = User.objects.filter(pk=payload.owner_id, is_active=True).first()
        if owner is None:
            raise ValidationFailed({"owner_id": f"No active user with id {payload.owner_id}."})
    override = services.override_set(
        pipeline=_pipeline(pipeline_id),
        period=payload.period,
        amount=payload.amount,
        comment=payload.comment,
        owner=owner,
        author=request_user(request),
        actor=request_actor(request),
    )
    return Status(
        201,
        {
            "id": override.pk,
            "period": payload.period,
            "amount": override.amount,
            "comment": override.comment,
        },
    )


@router.get("/forecasts/{pipeline_id}/accuracy", summary="Snapshots, actuals and error per method")
def forecast_accuracy(
    request: HttpRequest, pipeline_id: int, period: str = "month"
) -> dict[str, Any]:
    selectors.validate_options(period, "owner")
    items = selectors.snapshots(_pipeline(pipeline_id), period_kind=period)
    return {
        "snapshots": [
            {
                "period_start": s.period_start,
                "taken_at": s.taken_at,
                "values": s.values,
                "actual": s.actual,
            }
            for s in items
        ],
        "mape": selectors.accuracy(items),
    }


@router.get("/forecasts/{pipeline_id}/backtest", summary="Replay history; accuracy per method")
def forecast_backtest(request: HttpRequest, pipeline_id: int, months: int = 12) -> dict[str, Any]:
    results = services.backtest(_pipeline(pipeline_id), months=months)
    return {
        "months": [
            {"period_start": r.period_start, "actual": r.actual, "forecast": r.values}
            for r in results
        ],
        "mape": services.mape(results),
        "generated_at": dt.datetime.now(dt.UTC),
    }
