"""Reads: the reports and dashboards a user can see, and a saved report's sections."""

from __future__ import annotations

from django.db.models import Q

from flowcrm.accounts.models import User
from flowcrm.core.errors import NotFound
from flowcrm.reports.engine import run_report
from flowcrm.reports.models import Dashboard, SavedReport
from flowcrm.reports.sections import Section, from_result
from flowcrm.reports.services import visible_reports
from flowcrm.reports.spec import parse_spec


def reports_for(user: User) -> list[SavedReport]:
    return list(SavedReport.objects.filter(visible_reports(user)).select_related("team"))


def report_get(user: User, report_id: int) -> SavedReport:
    report = SavedReport.objects.filter(visible_reports(user), pk=report_id).first()
    if report is None:
        raise NotFound(f"No report with id {report_id}.")
    return report


def report_section(user: User, report: SavedReport) -> Section:
    spec, fields = parse_spec(report.spec)
    return from_result(report.name, run_report(spec, fields, user))


def dashboards_for(user: User) -> list[Dashboard]:
    q = Q(owner=user)
    if user.team_id is not None:
        q |= Q(team_id=user.team_id)
    return list(Dashboard.objects.filter(q).select_related("team"))


def dashboard_get(user: User, dashboard_id: int) -> Dashboard:
    for dashboard in dashboards_for(user):
        if dashboard.pk == dashboard_id:
            return dashboard
    raise NotFound(f"No dashboard with id {dashboard_id}.")


def dashboard_cells(user: User, dashboard: Dashboard) -> list[tuple[int, Section]]:
    """(width, section) per grid cell; reports no longer visible are left out."""
    reports = {
        r.pk: r
        for r in SavedReport.objects.filter(
            visible_reports(user), pk__in=[i["report"] for i in dashboard.items]
        )
    }
    return [
        (item["width"], report_section(user, reports[item["report"]]))
        for item in dashboard.items
        if item["report"] in reports
    ]
