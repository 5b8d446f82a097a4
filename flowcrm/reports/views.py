from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.conditions import fields_for
from flowcrm.core.errors import DomainError, ValidationFailed
from flowcrm.reports import builtin, selectors, services
from flowcrm.reports.engine import run_report
from flowcrm.reports.exports import sections_csv
from flowcrm.reports.sections import from_result
from flowcrm.reports.spec import GROUPABLE, NUMERIC, parse_spec
from flowcrm.web.htmx import render_page

RECORD_TYPES = ("deal", "contact", "company", "task", "activity")


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render_page(
        request,
        "reports/index.html",
        {
            "builtin": [(key, title) for key, (title, _build) in builtin.BUILTIN.items()],
            "saved": selectors.reports_for(user),
            "dashboards": selectors.dashboards_for(user),
        },
    )


@login_required
def builtin_report(request: HttpRequest, name: str) -> HttpResponse:
    if name not in builtin.BUILTIN:
        return render_page(request, "reports/missing.html", {"what": name}, status=404)
    title, build = builtin.BUILTIN[name]
    try:
        start, end = builtin.window(request.GET.get("from"), request.GET.get("to"))
    except ValidationFailed as error:
        messages.error(request, str(error))
        start, end = builtin.window(None, None)
    sections = build(_user(request), start, end)
    if request.GET.get("format") == "csv":
        response = HttpResponse(sections_csv(sections), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}-report.csv"'
        return response
    return render_page(
        request,
        "reports/report.html",
        {
            "title": f"{title} report",
            "sections": sections,
            "start": start,
            "end": end,
            "name": name,
        },
    )


def _builder_spec(post: Any) -> dict[str, Any]:
    record_type = post.get("record_type", "deal")
    measures = []
    for index in range(3):
        op = post.get(f"measure_{index}_op")
        if op:
            field = post.get(f"measure_{index}_field") or None
            measures.append({"op": op, **({"field": field} if field and op != "count" else {})})
    spec: dict[str, Any] = {
        "record_type": record_type,
        "chart": post.get("chart", "bar"),
        "measures": measures or [{"op": "count"}],
    }
    if post.get("group_field"):
        spec["group_by"] = {
            "field": post["group_field"],
            **({"bucket": post["bucket"]} if post.get("bucket") else {}),
        }
    condition_text = (post.get("condition") or "").strip()
    if condition_text:
        try:
            spec["condition"] = json.loads(condition_text)
        except json.JSONDecodeError as error:
            raise ValidationFailed(
                {"condition": f"Not valid JSON (line {error.lineno}, column {error.colno})."}
            ) from None
    return spec


@login_required
def builder(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    record_type = request.GET.get("record_type") or request.POST.get("record_type") or "deal"
    if record_type not in RECORD_TYPES:
        record_type = "deal"
    fields = fields_for(record_type)
    context: dict[str, Any] = {
        "record_types": RECORD_TYPES,
        "record_type": record_type,
        "group_fields": [f for f in fields.values() if f.type in GROUPABLE and not f.is_tags],
        "number_fields": [f for f in fields.values() if f.type in NUMERIC],
        "form": request.POST,
    }
    if request.method == "POST":
        try:
            spec_data = _builder_spec(request.POST)
            spec, spec_fields = parse_spec(spec_data)
            if request.POST.get("action") == "save":
                report = services.report_save(
                    name=request.POST.get("name", ""),
                    spec=spec_data,
                    owner=user,
                    team=user.team if request.POST.get("share") and user.team else None,
                    actor=Actor.for_user(user),
                )
                return redirect(f"/reports/{report.pk}/")
            context["section"] = from_result("Preview", run_report(spec, spec_fields, user))
        except DomainError as error:
            context["errors"] = getattr(error, "errors", {"__all__": str(error)})
    return render_page(
        request, "reports/builder.html", context, fragment="reports/_builder_result.html"
    )


@login_required
def saved_report(request: HttpRequest, report_id: int) -> HttpResponse:
    user = _user(request)
    try:
        report = selectors.report_get(user, report_id)
    except DomainError:
        return render_page(request, "reports/missing.html", {"what": report_id}, status=404)
    section = selectors.report_section(user, report)
    if request.GET.get("format") == "csv":
        response = HttpResponse(sections_csv([section]), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="report-{report.pk}.csv"'
        return response
    return render_page(
        request,
        "reports/report.html",
        {"title": report.name, "sections": [section], "saved": report},
    )


@login_required
def dashboard(request: HttpRequest, dashboard_id: int) -> HttpResponse:
    user = _user(request)
    try:
        board = selectors.dashboard_get(user, dashboard_id)
    except DomainError:
        return render_page(request, "reports/missing.html", {"what": dashboard_id}, status=404)
    return render_page(
        request,
        "reports/dashboard.html",
        {
            "dashboard": board,
            "cells": selectors.dashboard_cells(user, board),
            "reports": selectors.reports_for(user),
        },
    )


@login_required
@require_POST
def dashboard_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    try:
        board = services.dashboard_create(
            name=request.POST.get("name", ""),
            owner=user,
            team=user.team if request.POST.get("share") and user.team else None,
            actor=Actor.for_user(user),
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("/reports/")
    return redirect(f"/reports/dashboards/{board.pk}/")


@login_required
@require_POST
def dashboard_add(request: HttpRequest, dashboard_id: int) -> HttpResponse:
    user = _user(request)
    try:
        board = selectors.dashboard_get(user, dashboard_id)
        items = [
            *board.items,
            {
                "report": int(request.POST.get("report", "0")),
                "width": int(request.POST.get("width", "1")),
            },
        ]
        services.dashboard_set_items(
            dashboard=board, items=items, user=user, actor=Actor.for_user(user)
        )
    except (DomainError, ValueError) as error:
        messages.error(request, str(error))
    return redirect(f"/reports/dashboards/{dashboard_id}/")
