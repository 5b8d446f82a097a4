"""Report endpoints: run a spec, saved reports, built-in reports (JSON and CSV), dashboards."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema, Status

from flowcrm.accounts.models import Team
from flowcrm.api import request_actor, request_user
from flowcrm.core.errors import NotFound, ValidationFailed
from flowcrm.reports import builtin, selectors, services
from flowcrm.reports.engine import run_report
from flowcrm.reports.exports import sections_csv
from flowcrm.reports.sections import Section, from_result
from flowcrm.reports.spec import parse_spec

router = Router(tags=["reports"])


class SaveIn(Schema):
    name: str
    spec: dict[str, Any]
    team_id: int | None = None


class RunIn(Schema):
    spec: dict[str, Any]


class DashboardIn(Schema):
    name: str
    team_id: int | None = None


class DashboardItemsIn(Schema):
    items: list[dict[str, int]]


def _section_json(section: Section) -> dict[str, Any]:
    return {
        "title": section.title,
        "columns": section.columns,
        "rows": section.rows,
        "chart": section.chart,
        "note": section.note,
    }


def _team(team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ValidationFailed({"team_id": f"No team with id {team_id}."})
    return team


@router.post("/reports/run", summary="Run a report spec without saving it")
def report_run(request: HttpRequest, payload: RunIn) -> dict[str, Any]:
    parsed, fields = parse_spec(payload.spec)
    return _section_json(from_result("Report", run_report(parsed, fields, request_user(request))))


@router.get("/reports/saved", summary="Saved reports you own or your team shares")
def saved_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"id": r.pk, "name": r.name, "team_id": r.team_id, "spec": r.spec}
        for r in selectors.reports_for(request_user(request))
    ]


@router.post("/reports/saved", response={201: dict[str, Any]}, summary="Save a report")
def saved_create(request: HttpRequest, payload: SaveIn) -> Status[dict[str, Any]]:
    report = services.report_save(
        name=payload.name,
        spec=payload.spec,
        owner=request_user(request),
        team=_team(payload.team_id),
        actor=request_actor(request),
    )
    return Status(201, {"id": report.pk, "name": report.name, "spec": report.spec})


@router.get("/reports/saved/{report_id}", summary="Run a saved report")
def saved_run(request: HttpRequest, report_id: int) -> dict[str, Any]:
    user = request_user(request)
    return _section_json(selectors.report_section(user, selectors.report_get(user, report_id)))


@router.get("/reports/saved/{report_id}/csv", summary="A saved report as CSV")
def saved_csv(request: HttpRequest, report_id: int) -> HttpResponse:
    user = request_user(request)
    section = selectors.report_section(user, selectors.report_get(user, report_id))
    return _csv(sections_csv([section]), f"report-{report_id}.csv")


@router.delete("/reports/saved/{report_id}", response={204: None})
def saved_delete(request: HttpRequest, report_id: int) -> Status[None]:
    user = request_user(request)
    services.report_delete(
        report=selectors.report_get(user, report_id), user=user, actor=request_actor(request)
    )
    return Status(204, None)


@router.get("/reports/builtin/{name}", summary="A built-in report (sales, marketing, financial)")
def builtin_run(
    request: HttpRequest, name: str, date_from: str | None = None, date_to: str | None = None
) -> dict[str, Any]:
    title, sections = _builtin(request, name, date_from, date_to)
    return {"name": name, "title": title, "sections": [_section_json(s) for s in sections]}


@router.get("/reports/builtin/{name}/csv", summary="A built-in report as CSV")
def builtin_csv(
    request: HttpRequest, name: str, date_from: str | None = None, date_to: str | None = None
) -> HttpResponse:
    _title, sections = _builtin(request, name, date_from, date_to)
    return _csv(sections_csv(sections), f"{name}-report.csv")


def _builtin(
    request: HttpRequest, name: str, date_from: str | None, date_to: str | None
) -> tuple[str, list[Section]]:
    if name not in builtin.BUILTIN:
        raise NotFound(f"No built-in report {name!r}; one of {', '.join(builtin.BUILTIN)}.")
    start, end = builtin.window(date_from, date_to)
    title, build = builtin.BUILTIN[name]
    return title, build(request_user(request), start, end)


def _csv(body: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/dashboards", summary="Your dashboards and your team's")
def dashboard_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"id": d.pk, "name": d.name, "team_id": d.team_id, "items": d.items}
        for d in selectors.dashboards_for(request_user(request))
    ]


@router.post("/dashboards", response={201: dict[str, Any]})
def dashboard_create(request: HttpRequest, payload: DashboardIn) -> Status[dict[str, Any]]:
    dashboard = services.dashboard_create(
        name=payload.name,
        owner=request_user(request),
        team=_team(payload.team_id),
        actor=request_actor(request),
    )
    return Status(201, {"id": dashboard.pk, "name": dashboard.name, "items": dashboard.items})


@router.get("/dashboards/{dashboard_id}", summary="A dashboard with every report's result")
def dashboard_get(request: HttpRequest, dashboard_id: int) -> dict[str, Any]:
    user = request_user(request)
    dashboard = selectors.dashboard_get(user, dashboard_id)
    return {
        "id": dashboard.pk,
        "name": dashboard.name,
        "cells": [
            {"width": w, **_section_json(s)} for w, s in selectors.dashboard_cells(user, dashboard)
        ],
    }


@router.put("/dashboards/{dashboard_id}/items", summary="Arrange a dashboard's grid")
def dashboard_items(
    request: HttpRequest, dashboard_id: int, payload: DashboardItemsIn
) -> dict[str, Any]:
    user = request_user(request)
    dashboard = services.dashboard_set_items(
        dashboard=selectors.dashboard_get(user, dashboard_id),
        items=payload.items,
        user=user,
        actor=request_actor(request),
    )
    return {"id": dashboard.pk, "items": dashboard.items}
