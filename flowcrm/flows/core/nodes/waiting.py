"""Nodes that wait for people or the world: wait_event and approval."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from flowcrm.flows.core.durations import Duration
from flowcrm.flows.core.effects import (
    ApprovalDecision,
    EscalateApprovalEffect,
    NodeOutcome,
    OpenApprovalEffect,
    Proceed,
    Suspend,
)
from flowcrm.flows.core.errors import EngineError, Path, PathError
from flowcrm.flows.core.language import check_condition, evaluate_condition
from flowcrm.flows.core.nodes.base import Node, Strict
from flowcrm.flows.core.triggers import EVENT_TYPE_PATTERN, change_matches

if TYPE_CHECKING:
    from flowcrm.flows.core.effects import StepContext
    from flowcrm.flows.core.state import RunState, Wait


class WaitEventConfig(Strict):
    """Wait for an event about the run's record (``field``/``from``/``to`` as in triggers, then
    ``condition`` on the record); with ``timeout`` the ``timeout`` edge is taken when it passes."""

    event: str
    field: str | None = None
    from_value: Any = Field(default=None, alias="from")
    to_value: Any = Field(default=None, alias="to")
    condition: dict[str, Any] | None = None
    timeout: Duration | None = None

    @field_validator("event")
    @classmethod
    def _event_shape(cls, value: str) -> str:
        if not EVENT_TYPE_PATTERN.match(value):
            raise ValueError(f"event type must look like 'subject.verb', got {value!r}")
        return value


def event_concerns_run(event: Mapping[str, Any], state: RunState) -> bool:
    """Whether an event is about the run's record (its subject, or linked through its data)."""
    if state.record_id is None:
        return True
    wanted = str(state.record_id)
    if event.get("subject_type") == state.record_type and str(event.get("subject_id")) == wanted:
        return True
    linked = (event.get("data") or {}).get(f"{state.record_type}_id")
    return linked is not None and str(linked) == wanted


class WaitEventNode(Node):
    node_kind: ClassVar[str] = "wait_event"
    pauses: ClassVar[bool] = True
    kind: Literal["wait_event"]
    config: WaitEventConfig

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset({"event", "timeout"} if self.config.timeout else {"event"})

    def required_labels(self) -> frozenset[str | None]:
        return self.edge_labels()

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        if self.config.condition is None:
            return []
        return check_condition(
            self.config.condition, record_type=record_type, path=(*path, "config", "condition")
        )

    def enter(self, ctx: StepContext) -> NodeOutcome:
        timeout = self.config.timeout
        wake_at = ctx.now + timeout.as_timedelta() if timeout else None
        return Suspend(kind="event", event_type=self.config.event, wake_at=wake_at)

    def resume(self, ctx: StepContext, wait: Wait) -> NodeOutcome | None:
        event = ctx.event
        if event is not None and self._matches(event, ctx):
            summary = {k: event.get(k) for k in ("type", "subject_type", "subject_id", "id")}
            return Proceed(label="event", output=summary, detail={"event": summary})
        if wait.wake_at is not None and ctx.now >= wait.wake_at:
            return Proceed(label="timeout", detail={"timed_out_at": wait.wake_at.isoformat()})
        return None

    def _matches(self, event: Mapping[str, Any], ctx: StepContext) -> bool:
        config = self.config
        if event.get("type") != config.event or not event_concerns_run(event, ctx.state):
            return False
        if not change_matches(event, config.field, config.from_value, config.to_value):
            return False
        if config.condition is None:
            return True
        result, _ = evaluate_condition(
            config.condition,
            ctx.record or {},
            record_type=ctx.definition.record_type,
            context=ctx.context(),
            changes=event.get("changes"),
        )
        return result


class Approvers(Strict):
    users: list[int | str] = Field(default_factory=list, max_length=100)
    team: str | None = None
    role: str | None = None

    @model_validator(mode="after")
    def _someone(self) -> Approvers:
        if not self.users and self.team is None and self.role is None:
            raise ValueError("name at least one of 'users', 'team' or 'role'")
        return self


ApprovalPolicy = Literal["any", "all", "n_of_m"]


class ApprovalConfig(Strict):
    """``policy``: ``any`` (the first decision decides), ``all`` (every approver approves; one
    rejection rejects) or ``n_of_m`` (``required`` approvals; rejected once that is out of
    reach). After ``timeout`` without a decision the request is opened to ``escalate_to``."""

    title: str = Field(default="", max_length=200)
    approvers: Approvers
    policy: ApprovalPolicy = "any"
    required: int | None = Field(default=None, ge=1, le=100)
    timeout: Duration | None = None
    escalate_to: Approvers | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ApprovalConfig:
        if self.policy == "n_of_m" and self.required is None:
            raise ValueError("policy 'n_of_m' needs 'required'")
        if self.policy != "n_of_m" and self.required is not None:
            raise ValueError("'required' only applies to policy 'n_of_m'")
        if (self.escalate_to is None) != (self.timeout is None):
            raise ValueError("'timeout' and 'escalate_to' go together")
        return self


def approval_outcome(
    policy: ApprovalPolicy,
    *,
    required: int | None,
    eligible: int,
    approvals: int,
    rejections: int,
) -> Literal["approved", "rejected"] | None:
    """The decision the votes so far make under ``policy`` (``None``: not decided yet)."""
    if policy == "any":
        if approvals:
            return "approved"
        return "rejected" if rejections else None
    if policy == "all":
        if rejections:
            return "rejected"
        return "approved" if eligible and approvals >= eligible else None
    if required is None:
        raise EngineError("policy 'n_of_m' needs 'required'")
    if approvals >= required:
        return "approved"
    return "rejected" if eligible - rejections < required else None


class ApprovalNode(Node):
    node_kind: ClassVar[str] = "approval"
    pauses: ClassVar[bool] = True
    kind: Literal["approval"]
    config: ApprovalConfig

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset({"approved", "rejected"})

    def required_labels(self) -> frozenset[str | None]:
        return self.edge_labels()

    def enter(self, ctx: StepContext) -> NodeOutcome:
        config = self.config
        escalate_at = ctx.now + config.timeout.as_timedelta() if config.timeout else None
        effect = OpenApprovalEffect(
            idempotency_key=ctx.key,
            run_id=ctx.state.run_id,
            node_id=self.id,
            step_index=ctx.step.index,
            title=config.title or self.title(),
            approvers=config.approvers.model_dump(),
            policy=config.policy,
            required=config.required,
            escalate_at=escalate_at,
        )
        return Suspend(kind="approval", key=ctx.key, wake_at=escalate_at, effects=[effect])

    def resume(self, ctx: StepContext, wait: Wait) -> NodeOutcome | None:
        signal = ctx.signal
        if isinstance(signal, ApprovalDecision) and signal.idempotency_key == ctx.key:
            decision = {"outcome": signal.outcome, "comment": signal.comment}
            if signal.decided_by is not None:
                decision["decided_by"] = signal.decided_by
            return Proceed(label=signal.outcome, output=decision, detail=decision)
        # a decision for another visit (an earlier loop round) is stale: ignore it
        due = wait.wake_at is not None and ctx.now >= wait.wake_at
        if due and not wait.escalated and self.config.escalate_to is not None:
            effect = EscalateApprovalEffect(
                idempotency_key=ctx.key,
                run_id=ctx.state.run_id,
                node_id=self.id,
                approvers=self.config.escalate_to.model_dump(),
            )
            return Suspend(
                kind="approval",
                key=ctx.key,
                effects=[effect],
                escalated=True,
                detail={"escalated_at": ctx.now.isoformat()},
            )
        return None
