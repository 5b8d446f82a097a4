"""Dry run: the full trace of one record through a flow, with no side effects at all.

Built on the stepper: actions are answered with their ``preview()`` output, delays and retry
backoffs are noted and skipped (the simulated clock jumps ahead), approvals get the assumed
decision, waits for an event take their timeout edge (or the trace stops, saying what it would
wait for). Each branch step carries its conditions with the values they saw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flowcrm.flows.core.actions import get_action
from flowcrm.flows.core.definition import FlowDefinition
from flowcrm.flows.core.effects import (
    ActionEffect,
    ActionResult,
    ApprovalDecision,
    OpenApprovalEffect,
    run_context,
)
from flowcrm.flows.core.errors import EngineError
from flowcrm.flows.core.language import evaluate_condition
from flowcrm.flows.core.state import RunState
from flowcrm.flows.core.stepper import advance, start_run

#: A dry run stops after this many stepper calls (a loop that only ever waits).
MAX_DRY_RUN_ADVANCES = 500
DRY_RUN_ID = "dry-run"


@dataclass(frozen=True)
class TraceStep:
    node_id: str
    kind: str
    name: str
    lane: str | None
    edge: str | None
    status: str
    output: Any = None
    detail: Any = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "kind": self.kind,
            "name": self.name,
            "lane": self.lane,
            "edge": self.edge,
            "status": self.status,
            "output": self.output,
            "detail": self.detail,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class DryRunTrace:
    """``status``: ``not_triggered``, ``not_enrolled``, ``completed``, ``exited``, ``failed`` or
    ``waiting`` (stopped at a wait with no timeout); ``steps`` in the order visited."""

    status: str
    trigger_matched: bool | None
    enrollment: dict[str, Any] | None
    steps: list[TraceStep]
    variables: dict[str, Any]
    outcome: str | None = None
    error: str | None = None
    stopped_at: str | None = None

    @property
    def path(self) -> list[str]:
        return [step.node_id for step in self.steps]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "trigger_matched": self.trigger_matched,
            "enrollment": self.enrollment,
            "steps": [step.as_dict() for step in self.steps],
            "path": self.path,
            "variables": self.variables,
            "outcome": self.outcome,
            "error": self.error,
            "stopped_at": self.stopped_at,
        }


def dry_run(
    definition: FlowDefinition,
    *,
    record: Mapping[str, Any],
    now: dt.datetime,
    event: Mapping[str, Any] | None = None,
    approval: Literal["approved", "rejected"] = "approved",
    check_enrollment: bool = True,
) -> DryRunTrace:
    """Trace ``record`` (a flat dict) through ``definition`` as if ``event`` had triggered it.

    With ``check_enrollment`` the trigger (when an event is given) and the enrollment condition
    are evaluated first and a record that would not enroll stops there.
    """
    trigger_matched = None if event is None else definition.trigger.matches(event)
    if trigger_matched is False:
        return DryRunTrace("not_triggered", False, None, [], {})
    enrollment = None
    if check_enrollment and definition.enrollment is not None:
        state = start_run(definition, run_id=DRY_RUN_ID, now=now, trigger_event=event)
        try:
            holds, explanation = evaluate_condition(
                definition.enrollment,
                record,
                record_type=definition.record_type,
                context=run_context(state, record, event=event, now=now),
                changes=(event or {}).get("changes"),
            )
        except (ValueError, TypeError, EngineError) as exc:
            return DryRunTrace("failed", trigger_matched, None, [], {}, error=f"enrollment: {exc}")
        enrollment = {"result": holds, "explanation": explanation}
        if not holds:
            return DryRunTrace("not_enrolled", trigger_matched, enrollment, [], {})
    state, notes, stopped_at = _simulate(definition, record, now, event, approval)
    return DryRunTrace(
        status=state.status if state.is_finished else "waiting",
        trigger_matched=trigger_matched,
        enrollment=enrollment,
        steps=_trace(definition, state, notes),
        variables=dict(state.variables),
        outcome=state.outcome,
        error=state.error,
        stopped_at=stopped_at,
    )


def _simulate(
    definition: FlowDefinition,
    record: Mapping[str, Any],
    now: dt.datetime,
    event: Mapping[str, Any] | None,
    approval: Literal["approved", "rejected"],
) -> tuple[RunState, dict[int, list[str]], str | None]:
    state = start_run(
        definition, run_id=DRY_RUN_ID, now=now, record_id=record.get("id"), trigger_event=event
    )
    notes: dict[int, list[str]] = {}
    clock = now
    results: list[ActionResult] = []
    signal: ApprovalDecision | None = None
    for _ in range(MAX_DRY_RUN_ADVANCES):
        outcome = advance(
            definition, state, now=clock, record=record, signal=signal, action_results=results
        )
        state, results, signal = outcome.state, [], None
        for effect in outcome.effects:
            if isinstance(effect, ActionEffect):
                results.append(_preview(effect, notes))
            elif isinstance(effect, OpenApprovalEffect):
                signal = ApprovalDecision(effect.idempotency_key, approval, comment="assumed")
                notes.setdefault(effect.step_index, []).append(f"assumed {approval}")
        if state.is_finished or results or signal is not None:
            if state.is_finished:
                return state, notes, None
            continue
        wait = state.wait
        if wait is None:
            return state, notes, None
        if wait.wake_at is None:
            waiting_for = wait.event_type or wait.kind
            notes.setdefault(wait.step_index, []).append(f"would wait for {waiting_for}")
            return state, notes, wait.node_id
        skipped = {"timer": "delay", "retry": "retry", "event": "wait (no event assumed)"}
        label = skipped.get(wait.kind, wait.kind)
        notes.setdefault(wait.step_index, []).append(
            f"{label} until {wait.wake_at.isoformat()} skipped"
        )
        clock = max(clock, wait.wake_at)
    return state, notes, state.cursor


def _preview(effect: ActionEffect, notes: dict[int, list[str]]) -> ActionResult:
    spec = get_action(effect.action)
    if spec is None:
        return ActionResult(effect.idempotency_key, error=f"unknown action {effect.action!r}")
    if spec.preview is None:
        notes.setdefault(effect.step_index, []).append("this action has no preview")
        return ActionResult(effect.idempotency_key, output=None)
    try:
        output = spec.preview_output(spec.parse_config(effect.config), effect.context)
    except (ValueError, TypeError, KeyError) as exc:
        return ActionResult(effect.idempotency_key, error=f"preview failed: {exc}")
    notes.setdefault(effect.step_index, []).append("output previewed, not executed")
    return ActionResult(effect.idempotency_key, output=output)


def _trace(
    definition: FlowDefinition, state: RunState, notes: dict[int, list[str]]
) -> list[TraceStep]:
    steps: list[TraceStep] = []
    for step in state.steps:
        node = definition.node(step.node_id)
        steps.append(
            TraceStep(
                node_id=step.node_id,
                kind=step.kind,
                name=node.title(),
                lane=node.lane,
                edge=step.edge,
                status=step.status,
                output=step.output,
                detail=step.detail,
                notes=notes.get(step.index, []),
            )
        )
    return steps
