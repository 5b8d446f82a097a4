"""The step function: moves a run as far as it can without side effects.

:func:`advance` takes a definition, a run state and what happened (the time, the record as it
is now, an event, a signal such as an approval decision, results of actions asked for earlier)
and returns a :class:`StepOutcome`: the new state (the input is never changed), the effects to
perform, and when to call again. The runtime persists ``outcome.state`` in the same transaction
as the effects it performed, so a crash replays from the last persisted state: effects are then
asked for again with the same idempotency keys (at-least-once asking, exactly-once effects).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowcrm.flows.core.definition import FlowDefinition
from flowcrm.flows.core.effects import (
    ActionResult,
    CancelRun,
    CloseApprovalEffect,
    Effect,
    Fail,
    Finish,
    NodeOutcome,
    Proceed,
    Signal,
    StepContext,
    Suspend,
    idempotency_key,
    run_context,
    wait_from,
)
from flowcrm.flows.core.errors import EngineError
from flowcrm.flows.core.language import evaluate_condition
from flowcrm.flows.core.nodes import Node
from flowcrm.flows.core.state import RunState, StepRecord, Transition, Wait

#: A run that passes this many nodes in one advance without waiting is failed (a spinning loop).
MAX_STEPS_PER_ADVANCE = 1000


@dataclass
class StepOutcome:
    """The result of one :func:`advance`.

    ``effects`` are to be performed (in order) by the runtime; ``changed_steps`` are the indexes
    of step records created or changed (to persist as step executions); ``wake_at`` is when to
    call :func:`advance` again if nothing else happens (``None``: only on an event, a signal or
    an action result — or never, once the run is finished).
    """

    state: RunState
    effects: list[Effect] = field(default_factory=list)
    changed_steps: list[int] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def wait(self) -> Wait | None:
        return self.state.wait

    @property
    def wake_at(self) -> dt.datetime | None:
        return self.state.wait.wake_at if self.state.wait is not None else None


def start_run(
    definition: FlowDefinition,
    *,
    run_id: str,
    now: dt.datetime,
    record_id: Any = None,
    trigger_event: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> RunState:
    """A new run with its first step queued at ``definition.start`` (nothing executed yet)."""
    _require_aware(now)
    state = RunState(
        run_id=run_id,
        record_type=definition.record_type,
        record_id=record_id,
        cursor=definition.start,
        trigger=dict(trigger_event) if trigger_event is not None else None,
        variables=dict(variables or {}),
        started_at=now,
    )
    state.log.append(Transition(at=now, subject="run", before=None, after="running"))
    _queue(state, definition, definition.start, now)
    return state


def advance(
    definition: FlowDefinition,
    state: RunState,
    *,
    now: dt.datetime,
    record: Mapping[str, Any] | None,
    event: Mapping[str, Any] | None = None,
    signal: Signal | None = None,
    action_results: Iterable[ActionResult] = (),
) -> StepOutcome:
    """Move the run as far as it can go at ``now``; see the module docstring.

    ``record`` is the run's record as it is now (a plain dict), ``event`` an event-log row as a
    dict (for waits), ``signal`` an :class:`ApprovalDecision` or :class:`CancelRun`.
    A finished run is returned unchanged; a failed run waits for :func:`retry_failed_step`,
    :func:`skip_failed_step` or a cancel.
    """
    stepper = _Stepper(definition, state, now, record, event, signal, action_results)
    stepper.advance()
    return stepper.outcome()


def retry_failed_step(
    definition: FlowDefinition,
    state: RunState,
    *,
    now: dt.datetime,
    record: Mapping[str, Any] | None,
) -> StepOutcome:
    """Run a failed run's failed step again (a new attempt, the same idempotency key)."""
    stepper = _Stepper(definition, state, now, record, None, None, ())
    stepper.retry()
    return stepper.outcome()


def skip_failed_step(
    definition: FlowDefinition,
    state: RunState,
    *,
    now: dt.datetime,
    record: Mapping[str, Any] | None,
    label: str | None = None,
) -> StepOutcome:
    """Mark a failed run's failed step skipped and continue along its ``label`` edge."""
    stepper = _Stepper(definition, state, now, record, None, None, ())
    stepper.skip(label)
    return stepper.outcome()


def cancel_run(
    definition: FlowDefinition, state: RunState, *, now: dt.datetime, reason: str = "cancelled"
) -> StepOutcome:
    """Cancel a run that has not finished (closing an open approval)."""
    return advance(definition, state, now=now, record=None, signal=CancelRun(reason))


def _require_aware(now: dt.datetime) -> None:
    if now.tzinfo is None:
        raise EngineError("times given to the engine must be timezone-aware")


def _queue(state: RunState, definition: FlowDefinition, node_id: str, now: dt.datetime) -> None:
    node = definition.node(node_id)
    visit = state.visits.get(node_id, 0) + 1
    state.visits[node_id] = visit
    step = StepRecord(
        index=len(state.steps), node_id=node_id, kind=node.kind, visit=visit, queued_at=now
    )
    state.steps.append(step)
    state.cursor = node_id
    state.log.append(
        Transition(
            at=now,
            subject="step",
            step_index=step.index,
            node_id=node_id,
            before=None,
            after="queued",
        )
    )


class _Stepper:
    def __init__(
        self,
        definition: FlowDefinition,
        state: RunState,
        now: dt.datetime,
        record: Mapping[str, Any] | None,
        event: Mapping[str, Any] | None,
        signal: Signal | None,
        results: Iterable[ActionResult],
    ) -> None:
        _require_aware(now)
        self.definition = definition
        self.state = state.copy_for_step()
        self.now = now
        self.record = record
        self.event = event
        self.signal = signal
        self.results = {result.idempotency_key: result for result in results}
        self.effects: list[Effect] = []
        self.changed: set[int] = set()
        self.first_new_step = len(self.state.steps)

    def outcome(self) -> StepOutcome:
        changed = self.changed | set(range(self.first_new_step, len(self.state.steps)))
        return StepOutcome(self.state, self.effects, sorted(changed))

    def context(self, step: StepRecord) -> StepContext:
        return StepContext(
            definition=self.definition,
            state=self.state,
            step=step,
            now=self.now,
            record=self.record,
            event=self.event,
            signal=self.signal,
            results=self.results,
        )

    # -- entry points -------------------------------------------------------------------------

    def advance(self) -> None:
        state = self.state
        if state.is_finished:
            return
        if isinstance(self.signal, CancelRun):
            self.stop("cancelled", self.signal.reason)
            return
        if state.status == "failed":
            return
        if self.goal_reached():
            return
        wait = state.wait
        if wait is not None:
            node = self.definition.node(wait.node_id)
            step = state.steps[wait.step_index]
            outcome = node.resume(self.context(step), wait)
            if outcome is None:
                return
            self.apply(node, step, outcome)
        self.run()

    def retry(self) -> None:
        step = self.failed_step()
        node = self.definition.node(step.node_id)
        step.attempt += 1
        step.error = None
        self.changed.add(step.index)
        self.state.move_step(step, "started", self.now, note="retried by an operator")
        self.state.move_to("running", self.now, note=f"retry {step.node_id}")
        self.state.error = None
        self.apply(node, step, node.enter(self.context(step)))
        self.run()

    def skip(self, label: str | None) -> None:
        step = self.failed_step()
        self.changed.add(step.index)
        self.state.move_step(step, "skipped", self.now, note="skipped by an operator")
        self.state.move_to("running", self.now, note=f"skip {step.node_id}")
        self.state.error = None
        self.follow(self.definition.node(step.node_id), label)
        self.run()

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> None:
        state = self.state
        entered = 0
        while state.status == "running" and state.wait is None and state.cursor is not None:
            entered += 1
            if entered > MAX_STEPS_PER_ADVANCE:
                self.fail(
                    state.steps[-1],
                    f"more than {MAX_STEPS_PER_ADVANCE} steps without waiting "
                    "(a loop without a delay, wait or approval?)",
                )
                return
            step = state.steps[-1]
            node = self.definition.node(step.node_id)
            state.move_step(step, "started", self.now)
            self.apply(node, step, node.enter(self.context(step)))

    def apply(self, node: Node, step: StepRecord, outcome: NodeOutcome) -> None:
        state = self.state
        self.changed.add(step.index)
        if outcome_detail := getattr(outcome, "detail", None):
            if isinstance(step.detail, dict) and isinstance(outcome_detail, dict):
                step.detail = {**step.detail, **outcome_detail}
            else:
                step.detail = outcome_detail
        if isinstance(outcome, Suspend):
            self.effects.extend(outcome.effects)
            state.move_step(step, "waiting", self.now, note=outcome.kind)
            state.wait = wait_from(outcome, node.id, step.index)
            state.move_to("waiting", self.now, note=f"{outcome.kind} at {node.id}")
            return
        state.wait = None
        state.move_to("running", self.now)
        if isinstance(outcome, Proceed):
            step.output = outcome.output
            step.edge = outcome.label
            state.move_step(step, "finished", self.now)
            self.follow(node, outcome.label)
        elif isinstance(outcome, Fail):
            self.fail(step, outcome.error)
        elif isinstance(outcome, Finish):
            state.move_step(step, "finished", self.now)
            state.cursor = None
            state.outcome = outcome.outcome
            state.move_to("completed", self.now, note=outcome.outcome)

    def follow(self, node: Node, label: str | None) -> None:
        target = self.definition.next_node(node.id, label)
        if target is None:
            shown = repr(label) if label else "an unlabelled edge"
            message = f"node {node.id!r} has no outgoing edge {shown}"
            self.state.cursor = None
            self.state.error = message
            self.state.move_to("failed", self.now, note=message)
            return
        _queue(self.state, self.definition, target, self.now)

    def fail(self, step: StepRecord, error: str) -> None:
        step.error = error
        if step.status in {"queued", "waiting"}:
            self.state.move_step(step, "started", self.now)
        self.state.move_step(step, "failed", self.now)
        self.state.wait = None
        self.state.error = f"{step.node_id}: {error}"
        self.state.move_to("failed", self.now, note=error)

    def failed_step(self) -> StepRecord:
        if self.state.status != "failed" or not self.state.steps:
            raise EngineError(
                f"only a failed run can be retried or skipped, not {self.state.status}"
            )
        step = self.state.steps[-1]
        if step.status != "failed":
            raise EngineError("the run failed between steps; cancel it instead")
        return step

    # -- leaving early ------------------------------------------------------------------------

    def goal_reached(self) -> bool:
        goal = self.definition.goal
        if goal is None or self.record is None:
            return False
        context = run_context(self.state, self.record, event=self.event, now=self.now)
        try:
            reached, explanation = evaluate_condition(
                goal, self.record, record_type=self.definition.record_type, context=context
            )
        except (ValueError, TypeError, EngineError) as exc:
            step = self.state.steps[-1]
            self.changed.add(step.index)
            self.fail(step, f"goal: {exc}")
            return True
        if reached:
            self.stop("exited", "goal reached", detail=explanation)
        return reached

    def stop(self, status: str, reason: str, detail: Any = None) -> None:
        state = self.state
        wait = state.wait
        if wait is not None and wait.kind == "approval" and wait.key is not None:
            self.effects.append(
                CloseApprovalEffect(
                    idempotency_key=wait.key,
                    run_id=state.run_id,
                    node_id=wait.node_id,
                    reason=reason,
                )
            )
        step = state.steps[-1] if state.steps else None
        if step is not None and step.status in {"queued", "started", "waiting", "failed"}:
            self.changed.add(step.index)
            if detail is not None:
                step.detail = {"goal": detail}
            state.move_step(step, "cancelled", self.now, note=reason)
        state.wait = None
        state.cursor = None
        state.outcome = "goal_reached" if status == "exited" else reason
        state.move_to("exited" if status == "exited" else "cancelled", self.now, note=reason)


__all__ = [
    "MAX_STEPS_PER_ADVANCE",
    "StepOutcome",
    "advance",
    "cancel_run",
    "idempotency_key",
    "retry_failed_step",
    "skip_failed_step",
    "start_run",
]
