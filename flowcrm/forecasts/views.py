from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.errors import DomainError, ValidationFailed
from flowcrm.forecasts import selectors, services
from flowcrm.sales.models import Pipeline
from flowcrm.web.htmx import render_page


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@login_required
def forecast_page(request: HttpRequest) -> HttpResponse:
    pipelines = list(Pipeline.objects.all())
    if not pipelines:
        return render_page(request, "forecasts/forecast.html", {"pipelines": []})
    chosen = next((p for p in pipelines if str(p.pk) == request.GET.get("pipeline")), pipelines[0])
    period = request.GET.get("period", "month")
    group_by = request.GET.get("group_by", "owner")
    try:
        selectors.validate_options(period, group_by)
    except ValidationFailed as error:
        messages.error(request, str(error))
        period, group_by = "month", "owner"
    result = selectors.pipeline_forecast(chosen, _user(request))
    adjusted = sorted(
        result.open_deals,
        key=lambda d: d.probability.learned - d.probability.time_aware,
        reverse=True,
    )[:15]
    items = selectors.snapshots(chosen, period_kind=period)
    projection = selectors.run_rate(chosen, months=6)
    peak = max((p.high for p in projection.points), default=0.0) or 1.0
    context = {
        "pipelines": pipelines,
        "pipeline": chosen,
        "period": period,
        "group_by": group_by,
        "forecast": result,
        "rows": selectors.weighted_rows(result, period_kind=period, group_by=group_by),
        "adjusted": [d for d in adjusted if d.probability.time_aware < d.probability.learned],
        "projection": projection,
        "projection_bars": [
            {
                "point": p,
                "x": 40 + i * 70,
                "y": 180 - round(160 * p.expected / peak),
                "height": round(160 * p.expected / peak),
                "low_y": 180 - round(160 * p.low / peak),
                "high_y": 180 - round(160 * p.high / peak),
            }
            for i, p in enumerate(projection.points)
        ],
        "snapshots": items,
        "accuracy": selectors.accuracy(items),
    }
    return render_page(request, "forecasts/forecast.html", context)


@login_required
def override_create(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first()
    if request.method != "POST" or pipeline is None:
        return redirect("forecasts:page")
    user = _user(request)
    try:
        services.override_set(
            pipeline=pipeline,
            period=request.POST.get("period", ""),
            amount=request.POST.get("amount", ""),
            comment=request.POST.get("comment", ""),
            owner=None,
            author=user,
            actor=Actor.for_user(user),
        )
        messages.success(request, "Override saved.")
    except DomainError as error:
        messages.error(request, str(error))
    return redirect(f"/forecasts/?pipeline={pipeline.pk}")
