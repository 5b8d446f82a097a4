"""REST endpoints of the flows app (mounted at /api/v1/flows by flowcrm.api).

Endpoints parse, authorise, call one service or selector. Changing flows and operating runs
is for admins; approvals are decided by their approvers; the inbound webhook authenticates by
the flow's signature or token instead of a user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from ninja import Router

from flowcrm.core.errors import ValidationFailed
from flowcrm.core.permissions import ensure_admin
from flowcrm.flows import hooks, selectors, services
from flowcrm.flows.approvals import approval_decide
from flowcrm.flows.core.definition import parse_definition
from flowcrm.flows.core.diff import diff
from flowcrm.flows.definitions import definition_of
from flowcrm.flows.schemas import (
    ActivateIn,
    ApprovalOut,
    DecisionIn,
    FlowIn,
    FlowOut,
    FlowPatch,
    PublishIn,
    RunDetailOut,
    RunOut,
    SkipIn,
    TriggerIn,
    TriggerOut,
    VersionOut,
)

if TYPE_CHECKING:
    from flowcrm.accounts.models import User
    from flowcrm.core.actors import Actor
    from flowcrm.flows.models import Approval, Flow, FlowRun, FlowVersion

router = Router(tags=["flows"])


def _caller(request: HttpRequest) -> tuple[User, Actor]:
    from flowcrm.api import request_actor, request_user

    return request_user(request), request_actor(request)


def _admin(request: HttpRequest) -> Actor:
    user, actor = _caller(request)
    ensure_admin(user)
    return actor


def flow_out(flow: Flow, *, detail: bool = False) -> dict[str, Any]:
    return {
        "id": flow.pk,
        "name": flow.name,
        "description": flow.description,
        "status": flow.status,
        "active_version": flow.active_version.number if flow.active_version else None,
        "runs_30d": getattr(flow, "runs_30d", None),
        "failures_30d": getattr(flow, "failures_30d", None),
        "draft": flow.draft if detail else None,
        "webhook_url": f"/api/v1/flows/hooks/{flow.pk}" if detail else None,
    }


def version_out(version: FlowVersion, *, definition: bool = False) -> dict[str, Any]:
    return {
        "number": version.number,
        "published_at": version.published_at,
        "published_by": version.published_by.email if version.published_by else None,
        "checks": version.checks,
        "definition": version.definition if definition else None,
    }


def run_out(run: FlowRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "flow_id": run.flow_id,
        "flow": run.flow.name,
        "version": run.version.number,
        "record_type": run.record_type,
        "record_id": run.record_id,
        "status": run.status,
        "current_node": run.current_node,
        "enrolled_at": run.enrolled_at,
        "due_at": run.due_at,
        "finished_at": run.finished_at,
        "error": run.error,
    }


def approval_out(approval: Approval) -> dict[str, Any]:
    return {
        "id": approval.pk,
        "title": approval.title,
        "run_id": approval.run_id,
        "flow": approval.run.flow.name,
        "node_id": approval.node_id,
        "status": approval.status,
        "policy": approval.policy,
        "approver_ids": approval.approver_ids,
        "created_at": approval.created_at,
    }


# -- definitions ------------------------------------------------------------------------------


@router.get("/", response=list[FlowOut])
def list_flows(request: HttpRequest) -> list[dict[str, Any]]:
    _caller(request)
    return [flow_out(flow) for flow in selectors.flows_with_stats()]


@router.post("/", response={201: FlowOut})
def create_flow(request: HttpRequest, payload: FlowIn) -> tuple[int, dict[str, Any]]:
    flow = services.flow_create(
        name=payload.name,
        description=payload.description,
        draft=payload.definition,
        actor=_admin(request),
    )
    return 201, flow_out(flow, detail=True)


@router.get("/approvals", response=list[ApprovalOut])
def my_approvals(request: HttpRequest, pending: bool = True) -> list[dict[str, Any]]:
    user, _ = _caller(request)
    return [approval_out(a) for a in selectors.approvals_for(user, pending_only=pending)]


@router.post("/approvals/{approval_id}/decide", response=ApprovalOut)
def decide(request: HttpRequest, approval_id: int, payload: DecisionIn) -> dict[str, Any]:
    user, actor = _caller(request)
    approval = approval_decide(
        approval=selectors.approval_get(approval_id),
        user=user,
        approved=payload.approved,
        comment=payload.comment,
        actor=actor,
    )
    return approval_out(selectors.approval_get(approval.pk))


@router.get("/runs", response=list[RunOut])
def list_runs(
    request: HttpRequest,
    flow: int | None = None,
    status: str | None = None,
    record_type: str | None = None,
    record_id: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    _caller(request)
    runs = selectors.runs_list(
        flow_id=flow,
        status=status,
        record_type=record_type,
        record_id=record_id,
        before_id=before,
        limit=limit,
    )
    return [run_out(run) for run in runs]


@router.get("/runs/{run_id}", response=RunDetailOut)
def get_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    _caller(request)
    run = selectors.run_get(run_id)
    steps = [timing.as_dict() for timing in selectors.run_trace(run)]
    return {**run_out(run), "steps": steps, "cascade_chain": run.cascade_chain}


@router.post("/runs/{run_id}/retry", response=RunOut)
def retry_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    actor = _admin(request)
    return run_out(services.run_retry(run=selectors.run_get(run_id), actor=actor))


@router.post("/runs/{run_id}/skip", response=RunOut)
def skip_run(request: HttpRequest, run_id: int, payload: SkipIn | None = None) -> dict[str, Any]:
    actor = _admin(request)
    label = payload.label if payload else None
    return run_out(services.run_skip(run=selectors.run_get(run_id), actor=actor, label=label))


@router.post("/runs/{run_id}/cancel", response=RunOut)
def cancel_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    actor = _admin(request)
    return run_out(services.run_cancel(run=selectors.run_get(run_id), actor=actor))


@router.post("/hooks/{flow_id}", auth=None, response={202: dict[str, Any]})
def inbound_webhook(request: HttpRequest, flow_id: int) -> tuple[int, dict[str, Any]]:
    run = hooks.receive(flow_id=flow_id, body=request.body, headers=request.headers)
    return 202, {"enrolled": run is not None, "run_id": run.pk if run else None}


@router.get("/{flow_id}", response=FlowOut)
def get_flow(request: HttpRequest, flow_id: int) -> dict[str, Any]:
    _caller(request)
    return flow_out(selectors.flow_get(flow_id), detail=True)


@router.patch("/{flow_id}", response=FlowOut)
def update_flow(request: HttpRequest, flow_id: int, payload: FlowPatch) -> dict[str, Any]:
    actor = _admin(request)
    flow = selectors.flow_get(flow_id)
    if payload.definition is not None:
        flow = services.flow_update_draft(flow=flow, draft=payload.definition, actor=actor)
    return flow_out(flow, detail=True)


@router.post("/{flow_id}/publish", response={201: VersionOut})
def publish(request: HttpRequest, flow_id: int, payload: PublishIn) -> tuple[int, dict[str, Any]]:
    actor = _admin(request)
    version = services.flow_publish(
        flow=selectors.flow_get(flow_id), actor=actor, activate=payload.activate
    )
    return 201, version_out(version)


@router.post("/{flow_id}/activate", response=FlowOut)
def activate(request: HttpRequest, flow_id: int, payload: ActivateIn) -> dict[str, Any]:
    actor = _admin(request)
    flow = selectors.flow_get(flow_id)
    version = selectors.version_get(flow, payload.version) if payload.version else None
    return flow_out(services.flow_activate(flow=flow, version=version, actor=actor))


@router.post("/{flow_id}/pause", response=FlowOut)
def pause(request: HttpRequest, flow_id: int) -> dict[str, Any]:
    actor = _admin(request)
    return flow_out(services.flow_pause(flow=selectors.flow_get(flow_id), actor=actor))


@router.get("/{flow_id}/versions", response=list[VersionOut])
def versions(request: HttpRequest, flow_id: int) -> list[dict[str, Any]]:
    _caller(request)
    return [version_out(v) for v in selectors.flow_versions(selectors.flow_get(flow_id))]


@router.get("/{flow_id}/versions/{number}", response=VersionOut)
def version(request: HttpRequest, flow_id: int, number: int) -> dict[str, Any]:
    _caller(request)
    found = selectors.version_get(selectors.flow_get(flow_id), number)
    return version_out(found, definition=True)


@router.get("/{flow_id}/diff", response=dict[str, Any])
def version_diff(
    request: HttpRequest, flow_id: int, a: int, b: int | None = None
) -> dict[str, Any]:
    """Changes from version ``a`` to version ``b`` (default: the current draft)."""
    _caller(request)
    flow = selectors.flow_get(flow_id)
    before = definition_of(selectors.version_get(flow, a))
    if b is not None:
        after = definition_of(selectors.version_get(flow, b))
    else:
        try:
            after = parse_definition(flow.draft)
        except ValueError as error:
            raise ValidationFailed({"draft": str(error)}) from error
    return diff(before, after).as_dict()


@router.post("/{flow_id}/trigger", response={201: TriggerOut})
def trigger(request: HttpRequest, flow_id: int, payload: TriggerIn) -> tuple[int, dict[str, Any]]:
    actor = _admin(request)
    runs = services.flow_trigger_manually(
        flow=selectors.flow_get(flow_id),
        record_type=payload.record_type,
        record_ids=payload.record_ids,
        condition=payload.condition,
        actor=actor,
    )
    return 201, {"started": len(runs), "run_ids": [run.pk for run in runs]}
