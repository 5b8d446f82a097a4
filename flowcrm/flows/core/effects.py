"""What the stepper asks the runtime to do, what the runtime feeds back, and node outcomes.

Effects carry an ``idempotency_key`` = ``"<run id>:<node id>:<visit>"``: the same node visit
always produces the same key (also on an action's retries and when an effect is issued again
after a crash), so the runtime can make every visible effect happen exactly once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from flowcrm.flows.core.state import RunState, StepRecord, Wait, WaitKind

if TYPE_CHECKING:
    from flowcrm.flows.core.definition import FlowDefinition


def idempotency_key(run_id: str, node_id: str, visit: int) -> str:
    return f"{run_id}:{node_id}:{visit}"


@dataclass(frozen=True)
class ActionEffect:
    """Run action ``action`` with ``config`` (validated, defaults filled) in ``context``.

    Feed the result back as :class:`ActionResult` with the same ``idempotency_key``.
    """

    idempotency_key: str
    run_id: str
    node_id: str
    step_index: int
    action: str
    config: Mapping[str, Any]
    attempt: int
    context: Mapping[str, Any]
    type: Literal["action"] = "action"


@dataclass(frozen=True)
class OpenApprovalEffect:
    """Open an approval request; decide it with :class:`ApprovalDecision` (same key)."""

    idempotency_key: str
    run_id: str
    node_id: str
    step_index: int
    title: str
    approvers: Mapping[str, Any]
    policy: str
    required: int | None
    escalate_at: dt.datetime | None
    type: Literal["open_approval"] = "open_approval"


@dataclass(frozen=True)
class EscalateApprovalEffect:
    """The approval's timeout passed: open it to ``approvers`` as well."""

    idempotency_key: str
    run_id: str
    node_id: str
    approvers: Mapping[str, Any]
    type: Literal["escalate_approval"] = "escalate_approval"


@dataclass(frozen=True)
class CloseApprovalEffect:
    """The run no longer waits for this approval (goal reached, cancelled)."""

    idempotency_key: str
    run_id: str
    node_id: str
    reason: str
    type: Literal["close_approval"] = "close_approval"


Effect = ActionEffect | OpenApprovalEffect | EscalateApprovalEffect | CloseApprovalEffect


@dataclass(frozen=True)
class ActionResult:
    """The outcome of an :class:`ActionEffect`: ``output`` on success, else ``error``.

    ``retryable`` says whether this failure may succeed later (a 503, a timeout); the engine
    retries only when the action's spec is retryable too. ``retry_after`` (seconds) overrides
    the backoff (an HTTP ``Retry-After``).
    """

    idempotency_key: str
    output: Any = None
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class ApprovalDecision:
    idempotency_key: str
    outcome: Literal["approved", "rejected"]
    comment: str = ""
    decided_by: Any = None


@dataclass(frozen=True)
class CancelRun:
    reason: str = "cancelled"


Signal = ApprovalDecision | CancelRun


@dataclass
class StepContext:
    """What a node's runtime hook sees: the run (mutable copy), its current step and inputs."""

    definition: FlowDefinition
    state: RunState
    step: StepRecord
    now: dt.datetime
    record: Mapping[str, Any] | None
    event: Mapping[str, Any] | None
    signal: Signal | None
    results: Mapping[str, ActionResult]
    #: Dry run: actions are previewed by the stepper's caller, never executed.
    previewing: bool = False

    @property
    def key(self) -> str:
        return idempotency_key(self.state.run_id, self.step.node_id, self.step.visit)

    def context(self) -> dict[str, Any]:
        return run_context(self.state, self.record, event=self.event, now=self.now)


def run_context(
    state: RunState,
    record: Mapping[str, Any] | None,
    *,
    event: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The dict conditions, expressions and templates see: ``record``, ``trigger``, ``event``,
    ``steps.<node_id>.output``, ``vars``, ``run`` (id, started_at) and ``now`` (ISO text)."""
    return {
        "record": dict(record or {}),
        "trigger": state.trigger or {},
        "event": dict(event or {}),
        "steps": {node_id: {"output": output} for node_id, output in state.outputs.items()},
        "vars": dict(state.variables),
        "run": {"id": state.run_id, "started_at": state.started_at.isoformat()},
        "now": (now or state.started_at).isoformat(),
    }


@dataclass(frozen=True)
class Proceed:
    """The node is done: follow the edge with ``label``."""

    label: str | None = None
    output: Any = None
    detail: Any = None


@dataclass(frozen=True)
class Suspend:
    """The node waits (a timer, an event, an approval, an action result)."""

    kind: WaitKind
    wake_at: dt.datetime | None = None
    event_type: str | None = None
    key: str | None = None
    effects: list[Effect] = field(default_factory=list)
    detail: Any = None
    escalated: bool = False


@dataclass(frozen=True)
class Fail:
    error: str
    detail: Any = None


@dataclass(frozen=True)
class Finish:
    outcome: str = "completed"


NodeOutcome = Proceed | Suspend | Fail | Finish


def wait_from(suspend: Suspend, node_id: str, step_index: int) -> Wait:
    return Wait(
        kind=suspend.kind,
        node_id=node_id,
        step_index=step_index,
        wake_at=suspend.wake_at,
        event_type=suspend.event_type,
        key=suspend.key,
        escalated=suspend.escalated,
    )
