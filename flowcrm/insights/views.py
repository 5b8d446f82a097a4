"""Pages at /insights/: the pipeline's process view, the records behind a funnel bar, and the
imported-log workspace. Numbers come from the same selectors as the API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.errors import NotFound, ValidationFailed
from flowcrm.core.permissions import scope
from flowcrm.insights import services
from flowcrm.insights.models import ImportedLog
from flowcrm.insights.process import selectors
from flowcrm.insights.process.bottlenecks import describe_duration
from flowcrm.insights.process.filters import ProcessFilter, parse_filters
from flowcrm.insights.process.notions import get_case_notion
from flowcrm.insights.process.svg import Bar, bar_chart_svg, process_graph_svg
from flowcrm.web.htmx import render_page

TEMPLATE = "insights/process/home.html"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required
    return request.user


def _process_context(
    notion_name: str, filters: ProcessFilter, user: User, query: str
) -> dict[str, Any]:
    notion = get_case_notion(notion_name)
    view = selectors.process_view(notion_name, filters, user)
    order = notion.stage_order(filters)
    funnel_bars = [
        Bar(
            label=step["stage"],
            value=step["count"],
            text=f"{step['count']} ({step['conversion_pct']}%)"
            + (f", {step['drop_off_pct']}% drop" if step["drop_off_pct"] is not None else ""),
            href=f"/insights/funnel/{notion_name}/{step['position']}/?{query}",
        )
        for step in view["funnel"]
    ]
    stage_bars = [
        Bar(
            label=name,
            value=stats["median_seconds"],
            text=f"median {describe_duration(stats['median_seconds'])}, "
            f"p90 {describe_duration(stats['p90_seconds'])}",
        )
        for name, stats in view["sojourn"].items()
    ]
    return {
        "view": view,
        "notion": notion,
        "graph_svg": process_graph_svg(view, order, notion.case_label),
        "funnel_svg": bar_chart_svg(funnel_bars, f"Funnel of {notion.case_label}s by stage"),
        "stage_time_svg": bar_chart_svg(stage_bars, "Median time in stage"),
        "variants": view["variants"],
    }


def _query_of(request: HttpRequest, **overrides: Any) -> str:
    values = {key: request.GET.get(key, "") for key in request.GET}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return urlencode({k: v for k, v in values.items() if v not in ("", None)})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The insights home: the chosen (or default) pipeline's process view with filters."""
    from flowcrm.sales.models import Pipeline

    pipelines = list(Pipeline.objects.order_by("-is_default", "position", "name"))
    context: dict[str, Any] = {"pipelines": pipelines, "params": request.GET}
    if not pipelines:
        return render_page(request, TEMPLATE, {**context, "empty": "No pipelines yet."})
    try:
        filters = parse_filters({key: request.GET.get(key, "") for key in request.GET})
        if filters.pipeline is None:
            filters = filters.model_copy(update={"pipeline": pipelines[0].pk})
        query = _query_of(request, pipeline=filters.pipeline)
        context.update(_process_context("deals", filters, _user(request), query))
        context["pipeline_id"] = filters.pipeline
    except ValidationFailed as error:
        context["errors"] = error.errors
        return render_page(request, TEMPLATE, context, status=422)
    return render_page(request, TEMPLATE, context)


@login_required
def funnel_cases(request: HttpRequest, notion: str, position: int) -> HttpResponse:
    """The records behind one funnel bar (the first 200, visible to the user)."""
    try:
        filters = parse_filters({key: request.GET.get(key, "") for key in request.GET})
        stage, cases = selectors.funnel_cases(notion, filters, _user(request), position)
    except (ValidationFailed, NotFound) as error:
        return render_page(
            request, "insights/process/cases.html", {"error": str(error)}, status=422
        )
    records: list[Any] = []
    if notion == "deals":
        from flowcrm.sales.models import Deal

        ids = [int(case) for case in cases[:200]]
        records = list(
            scope(Deal.objects.filter(id__in=ids), _user(request)).select_related("stage")
        )
    context = {
        "stage": stage,
        "count": len(cases),
        "records": records,
        "notion": notion,
        "cases": cases[:200],
    }
    return render_page(request, "insights/process/cases.html", context)


@login_required
def imported_logs(request: HttpRequest) -> HttpResponse:
    """The analysis workspace: imported logs and the XES upload form."""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "file: Choose an XES file to import.")
        else:
            try:
                log = services.imported_log_create(
                    name=request.POST.get("name") or upload.name or "log",
                    filename=upload.name or "",
                    stream=upload,
                    actor=Actor.for_user(_user(request)),
                )
            except ValidationFailed as error:
                messages.error(request, str(error))
            else:
                return redirect(f"/insights/logs/{log.pk}/")
    logs = services.imported_logs()
    return render_page(request, "insights/process/logs.html", {"logs": logs})


@login_required
def imported_log_view(request: HttpRequest, log_id: int) -> HttpResponse:
    """An imported log analysed with the same process view."""
    log = ImportedLog.objects.filter(pk=log_id).first()
    if log is None:
        return render_page(
            request,
            "insights/process/cases.html",
            {"error": f"No imported log with id {log_id}."},
            status=404,
        )
    filters = ProcessFilter(log=log.pk)
    context = _process_context("imported", filters, _user(request), urlencode({"log": log.pk}))
    context.update({"imported": log, "params": {}})
    return render_page(request, TEMPLATE, context)
