"""Reads of the flows app: flows with their numbers, runs, a run's trace, approvals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.core.errors import NotFound
from flowcrm.flows.models import (
    Approval,
    ApprovalStatus,
    Flow,
    FlowRun,
    FlowVersion,
    RunStatus,
    StepExecution,
)

MAX_RUNS = 200


def flows_with_stats() -> QuerySet[Flow]:
    """Every flow with ``runs_30d`` and ``failures_30d`` annotated (one query)."""
    since = timezone.now() - dt.timedelta(days=30)
    recent = Q(runs__enrolled_at__gte=since)
    return (
        Flow.objects.select_related("active_version")
        .annotate(
            runs_30d=Count("runs", filter=recent),
            failures_30d=Count("runs", filter=recent & Q(runs__status=RunStatus.FAILED)),
        )
        .order_by("name")
    )


def flow_get(flow_id: int) -> Flow:
    flow = Flow.objects.select_related("active_version").filter(pk=flow_id).first()
    if flow is None:
        raise NotFound(f"No flow with id {flow_id}.")
    return flow


def flow_versions(flow: Flow) -> list[FlowVersion]:
    return list(flow.versions.select_related("published_by").order_by("-number"))


def version_get(flow: Flow, number: int) -> FlowVersion:
    version = flow.versions.filter(number=number).first()
    if version is None:
        raise NotFound(f"Flow {flow.pk} has no version {number}.")
    return version


def runs_list(
    *,
    flow_id: int | None = None,
    status: str | None = None,
    record_type: str | None = None,
    record_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[FlowRun]:
    """Runs newest first, filtered; ``before_id`` pages back (keyset)."""
    runs = FlowRun.objects.select_related("flow", "version").order_by("-id")
    if flow_id is not None:
        runs = runs.filter(flow_id=flow_id)
    if status:
        runs = runs.filter(status=status)
    if record_type:
        runs = runs.filter(record_type=record_type)
    if record_id is not None:
        runs = runs.filter(record_id=record_id)
    if before_id is not None:
        runs = runs.filter(id__lt=before_id)
    return list(runs.defer("state")[: max(1, min(limit, MAX_RUNS))])


def run_get(run_id: int) -> FlowRun:
    run = FlowRun.objects.select_related("flow", "version").filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"No run with id {run_id}.")
    return run


@dataclass(frozen=True)
class StepTiming:
    step: StepExecution
    waiting_seconds: float | None
    processing_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        step = self.step
        return {
            "index": step.index,
            "node_id": step.node_id,
            "kind": step.node_kind,
            "attempt": step.attempt,
            "status": step.status,
            "queued_at": step.queued_at,
            "started_at": step.started_at,
            "finished_at": step.finished_at,
            "waiting_seconds": self.waiting_seconds,
            "processing_seconds": self.processing_seconds,
            "input": step.input,
            "output": step.output,
            "error": step.error,
            "idempotency_key": step.idempotency_key,
        }


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def run_trace(run: FlowRun) -> list[StepTiming]:
    """The run's steps in order, each with waiting (queued → started) and processing
    (started → finished) time."""
    return [
        StepTiming(
            step=step,
            waiting_seconds=_seconds(step.queued_at, step.started_at),
            processing_seconds=_seconds(step.started_at, step.finished_at),
        )
        for step in StepExecution.objects.filter(run=run).order_by("index")
    ]


def approvals_for(user: User, *, pending_only: bool = True) -> list[Approval]:
    """Approvals ``user`` may decide (newest first)."""
    approvals = Approval.objects.select_related("run__flow").order_by("-created_at", "-id")
    if pending_only:
        approvals = approvals.filter(status=ApprovalStatus.PENDING)
    # approver_ids is a JSON list: filter in Python (an inbox is short; bounded to 500 rows)
    return [a for a in approvals[:500] if user.pk in a.approver_ids]


def approval_get(approval_id: int) -> Approval:
    approval = Approval.objects.select_related("run__flow").filter(pk=approval_id).first()
    if approval is None:
        raise NotFound(f"No approval with id {approval_id}.")
    return approval
