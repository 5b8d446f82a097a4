"""Approval steps: opened, escalated and closed for the stepper; decided by people.

Approvers are users (ids or e-mails), a team (by name) or a role, resolved when the step opens.
The policy (``any``, ``all``, ``n_of_m``) is the engine core's :func:`approval_outcome`. Every
decision is one ``approval.decided`` event; a decision that settles the approval makes the run
due, and the worker resumes it on the ``approved`` or ``rejected`` edge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.errors import Conflict, PermissionDenied
from flowcrm.core.events import record_event
from flowcrm.flows.core.effects import (
    CloseApprovalEffect,
    EscalateApprovalEffect,
    OpenApprovalEffect,
)
from flowcrm.flows.core.nodes import approval_outcome
from flowcrm.flows.models import (
    Approval,
    ApprovalDecision,
    ApprovalStatus,
    FlowRun,
    Notification,
    RunStatus,
)


def resolve_approvers(approvers: Mapping[str, Any]) -> list[int]:
    users = list(approvers.get("users") or [])
    query = Q(pk__in=[u for u in users if isinstance(u, int)]) | Q(
        email__in=[u for u in users if isinstance(u, str)]
    )
    if approvers.get("team"):
        query |= Q(team__name=approvers["team"])
    if approvers.get("role"):
        query |= Q(role=approvers["role"])
    return list(
        User.objects.filter(query, is_active=True).order_by("pk").values_list("pk", flat=True)
    )


def _notify(approval: Approval, user_ids: list[int], now: dt.datetime) -> None:
    Notification.objects.bulk_create(
        Notification(
            user_id=user_id,
            text=f"Approval needed: {approval.title}"[:500],
            link=f"/flows/approvals/{approval.pk}/",
            run_id=approval.run_id,
            created_at=now,
        )
        for user_id in user_ids
    )


def approval_open(*, run: FlowRun, effect: OpenApprovalEffect, now: dt.datetime) -> Approval:
    """Open the approval of one node visit (idempotent by the effect's key); notify approvers."""
    approver_ids = resolve_approvers(effect.approvers)
    approval, created = Approval.objects.get_or_create(
        key=effect.idempotency_key,
        defaults={
            "run": run,
            "node_id": effect.node_id,
            "title": effect.title[:200],
            "approver_ids": approver_ids,
            "policy": effect.policy,
            "required": effect.required or 1,
            "escalate_at": effect.escalate_at,
            "created_at": now,
        },
    )
    if created:
        _notify(approval, approver_ids, now)
    return approval


def approval_escalate(*, effect: EscalateApprovalEffect, now: dt.datetime) -> None:
    """Open a still-pending approval to the escalation approvers as well."""
    approval = Approval.objects.filter(key=effect.idempotency_key).first()
    if approval is None or approval.escalated or approval.status != ApprovalStatus.PENDING:
        return
    extra = [pk for pk in resolve_approvers(effect.approvers) if pk not in approval.approver_ids]
    approval.approver_ids = [*approval.approver_ids, *extra]
    approval.escalated = True
    approval.save(update_fields=["approver_ids", "escalated"])
    _notify(approval, extra, now)


def approval_close(*, effect: CloseApprovalEffect, now: dt.datetime) -> None:
    Approval.objects.filter(key=effect.idempotency_key, status=ApprovalStatus.PENDING).update(
        status=ApprovalStatus.CLOSED, decided_at=now
    )


def approval_decide(
    *, approval: Approval, user: User, approved: bool, comment: str, actor: Actor
) -> Approval:
    """Record ``user``'s decision; when it settles the approval, the run becomes due.

    Raises PermissionDenied (not an approver) or Conflict (already settled, or this user
    already decided). Writes an ApprovalDecision and one ``approval.decided`` event.
    """
    with transaction.atomic():
        locked = Approval.objects.select_for_update().get(pk=approval.pk)
        if user.pk not in locked.approver_ids:
            raise PermissionDenied("You are not an approver of this step.")
        if locked.status != ApprovalStatus.PENDING:
            raise Conflict(f"This approval is already {locked.status}.")
        if locked.decisions.filter(user=user).exists():
            raise Conflict("You have already decided on this approval.")
        now = timezone.now()
        ApprovalDecision.objects.create(
            approval=locked, user=user, approved=approved, comment=comment[:2000], decided_at=now
        )
        votes = list(locked.decisions.values_list("approved", flat=True))
        outcome = approval_outcome(
            locked.policy,  # type: ignore[arg-type]  # choices mirror the core's literal
            required=locked.required if locked.policy == "n_of_m" else None,
            eligible=len(locked.approver_ids),
            approvals=sum(1 for v in votes if v),
            rejections=sum(1 for v in votes if not v),
        )
        if outcome is not None:
            locked.status, locked.decided_at = outcome, now
            locked.save(update_fields=["status", "decided_at"])
            FlowRun.objects.filter(pk=locked.run_id, status=RunStatus.WAITING).update(
                due_at=now, updated_at=now
            )
        record_event(
            type="approval.decided",
            subject=locked,
            actor=actor,
            data={
                "run_id": locked.run_id,
                "node_id": locked.node_id,
                "approved": approved,
                "comment": comment[:2000],
                "outcome": outcome or "pending",
            },
        )
    return locked
