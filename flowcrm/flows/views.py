"""Pages of the flows app: flows list, flow page (flowchart, versions), runs, run trace with
operator buttons, approvals inbox. Views parse, authorise, call one service or selector."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.errors import DomainError
from flowcrm.core.permissions import ensure_admin
from flowcrm.flows import selectors, services
from flowcrm.flows.approvals import approval_decide
from flowcrm.flows.models import RunStatus
from flowcrm.flows.svg import render_flowchart
from flowcrm.web.htmx import render_page


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def flow_list(request: HttpRequest) -> HttpResponse:
    return render_page(request, "flows/list.html", {"flows": list(selectors.flows_with_stats())})


@login_required
def flow_detail(request: HttpRequest, flow_id: int) -> HttpResponse:
    flow = selectors.flow_get(flow_id)
    versions = selectors.flow_versions(flow)
    shown = flow.active_version or (versions[0] if versions else None)
    definition = shown.definition if shown else flow.draft
    chart = render_flowchart(definition) if definition.get("nodes") else ""
    context: dict[str, Any] = {
        "flow": flow,
        "versions": versions,
        "shown": shown,
        "chart": mark_safe(chart),  # noqa: S308  # built by svg.py, every text escaped there
        "runs": selectors.runs_list(flow_id=flow.pk, limit=20),
    }
    return render_page(request, "flows/detail.html", context)


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    flow_id = request.GET.get("flow")
    status = request.GET.get("status") or None
    runs = selectors.runs_list(
        flow_id=int(flow_id) if flow_id and flow_id.isdigit() else None,
        status=status if status in RunStatus.values else None,
        limit=100,
    )
    context = {"runs": runs, "statuses": RunStatus.choices, "status": status, "flow_id": flow_id}
    return render_page(request, "flows/runs.html", context, fragment="flows/_runs_table.html")


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_get(run_id)
    chart = render_flowchart(run.version.definition, highlight=run.current_node)
    context = {
        "run": run,
        "trace": selectors.run_trace(run),
        "chart": mark_safe(chart),  # noqa: S308  # built by svg.py, every text escaped there
        "can_operate": _user(request).role == "admin" or _user(request).is_superuser,
    }
    return render_page(request, "flows/run.html", context)


@login_required
@require_POST
def run_operate(request: HttpRequest, run_id: int, operation: str) -> HttpResponse:
    user = _user(request)
    run = selectors.run_get(run_id)
    operations = {
        "retry": services.run_retry,
        "skip": services.run_skip,
        "cancel": services.run_cancel,
    }
    try:
        ensure_admin(user)
        if operation not in operations:
            raise DomainError(f"Unknown operation {operation!r}.")
        operations[operation](run=run, actor=Actor.for_user(user))
        messages.success(request, f"Run {run.pk}: {operation} done.")
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("flows:run", run_id=run.pk)


@login_required
def approvals_inbox(request: HttpRequest) -> HttpResponse:
    approvals = selectors.approvals_for(_user(request))
    return render_page(request, "flows/approvals.html", {"approvals": approvals})


@login_required
@require_POST
def approval_decide_view(request: HttpRequest, approval_id: int) -> HttpResponse:
    user = _user(request)
    try:
        approval_decide(
            approval=selectors.approval_get(approval_id),
            user=user,
            approved=request.POST.get("decision") == "approve",
            comment=request.POST.get("comment", "")[:2000],
            actor=Actor.for_user(user),
        )
        messages.success(request, "Decision recorded.")
    except DomainError as error:
        messages.error(request, str(error))
    return redirect("flows:approvals")
