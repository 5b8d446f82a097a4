"""Writes: saving reports and arranging dashboards (each with one event)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q

from flowcrm.accounts.models import Team, User
from flowcrm.core.actors import Actor
from flowcrm.core.errors import NotFound, PermissionDenied, ValidationFailed
from flowcrm.core.events import created_changes, record_event
from flowcrm.core.permissions import ensure_can_write
from flowcrm.reports.models import Dashboard, SavedReport
from flowcrm.reports.spec import parse_spec

MAX_DASHBOARD_ITEMS = 24


def visible_reports(user: User) -> Q:
    return Q(owner=user) | Q(team_id=user.team_id, team__isnull=False)


def report_save(
    *, name: str, spec: Any, owner: User, team: Team | None, actor: Actor
) -> SavedReport:
    ensure_can_write(owner)
    parsed, _ = parse_spec(spec)
    if not name.strip():
        raise ValidationFailed({"name": "A report needs a name."})
    if team is not None and team.pk != owner.team_id and owner.role != "admin":
        raise ValidationFailed({"team_id": "You can share reports only with your own team."})
    with transaction.atomic():
        report = SavedReport.objects.create(
            name=name.strip()[:150], owner=owner, team=team, spec=parsed.model_dump(mode="json")
        )
        record_event(
            type="report.created",
            subject=report,
            actor=actor,
            changes=created_changes({"name": report.name, "team": team.pk if team else None}),
            data={"spec": report.spec},
        )
    return report


def report_delete(*, report: SavedReport, user: User, actor: Actor) -> None:
    if report.owner_id != user.pk:
        raise PermissionDenied("Only the report's owner can delete it.")
    with transaction.atomic():
        record_event(type="report.deleted", subject=report, actor=actor, data={"name": report.name})
        report.delete()


def dashboard_create(*, name: str, owner: User, team: Team | None, actor: Actor) -> Dashboard:
    ensure_can_write(owner)
    if not name.strip():
        raise ValidationFailed({"name": "A dashboard needs a name."})
    if team is not None and team.pk != owner.team_id and owner.role != "admin":
        raise ValidationFailed({"team_id": "You can share dashboards only with your own team."})
    with transaction.atomic():
        dashboard = Dashboard.objects.create(name=name.strip()[:150], owner=owner, team=team)
        record_event(
            type="dashboard.created",
            subject=dashboard,
            actor=actor,
            changes=created_changes({"name": dashboard.name, "team": team.pk if team else None}),
        )
    return dashboard


def dashboard_set_items(
    *, dashboard: Dashboard, items: list[dict[str, int]], user: User, actor: Actor
) -> Dashboard:
    """Replace the dashboard's grid. Each item names a report the user can see and a width 1-3."""
    if dashboard.owner_id != user.pk and not (
        dashboard.team_id and dashboard.team_id == user.team_id
    ):
        raise NotFound(f"No dashboard with id {dashboard.pk}.")
    ensure_can_write(user)
    if len(items) > MAX_DASHBOARD_ITEMS:
        raise ValidationFailed({"items": f"At most {MAX_DASHBOARD_ITEMS} reports per dashboard."})
    ids = [item.get("report") for item in items]
    visible = set(
        SavedReport.objects.filter(
            visible_reports(user), pk__in=[i for i in ids if isinstance(i, int)]
        ).values_list("pk", flat=True)
    )
    errors = {}
    cleaned = []
    for index, item in enumerate(items):
        report_id, width = item.get("report"), item.get("width", 1)
        if report_id not in visible:
            errors[f"items[{index}].report"] = f"No report with id {report_id} that you can see."
        elif width not in (1, 2, 3):
            errors[f"items[{index}].width"] = "Width is 1, 2 or 3 columns."
        else:
            cleaned.append({"report": report_id, "width": width})
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        before = dashboard.items
        dashboard.items = cleaned
        dashboard.save(update_fields=["items", "updated_at"])
        record_event(
            type="dashboard.updated",
            subject=dashboard,
            actor=actor,
            changes={"items": {"before": before, "after": cleaned}},
        )
    return dashboard
