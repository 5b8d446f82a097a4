"""The worker side of the engine: claim due runs, advance each with the stepper, commit.

A run is *due* when ``due_at <= now``: just enrolled, a delay ended, a wait timed out, an event
or an approval decision arrived, an outbox delivery finished, a retry's backoff passed.
:func:`process_due_runs` claims a batch (``SKIP LOCKED`` on PostgreSQL; the IMMEDIATE write
lock on SQLite) and, for each run in a savepoint of one transaction, calls the engine core's
:func:`~flowcrm.flows.core.stepper.advance`, performs the effects it asks for (actions,
approvals), feeds the results back, and repeats until the run waits or ends. The run's state,
its step executions and every record change commit together; outbox messages are delivered
after the commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from flowcrm.flows import outbox
from flowcrm.flows.actions.records import flow_record, load_record_for_flow
from flowcrm.flows.claiming import lock_due
from flowcrm.flows.core.definition import FlowDefinition
from flowcrm.flows.core.effects import ActionResult, ApprovalDecision, Signal
from flowcrm.flows.core.state import RunState, load_run_state
from flowcrm.flows.core.stepper import StepOutcome, advance, start_run
from flowcrm.flows.definitions import definition_of, note_waiting, record_paths_of
from flowcrm.flows.effects import EffectExecutor
from flowcrm.flows.models import (
    RUN_STATE_SCHEMA_VERSION,
    Approval,
    ApprovalStatus,
    FlowRun,
    OutboxMessage,
    OutboxStatus,
    RunStatus,
    StepExecution,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
# Rounds of "perform effects, feed results back" in one turn before the run must pause.
MAX_ROUNDS = 200

_STATUS = {
    "running": RunStatus.RUNNING,
    "waiting": RunStatus.WAITING,
    "completed": RunStatus.COMPLETED,
    "exited": RunStatus.EXITED_BY_GOAL,
    "failed": RunStatus.FAILED,
    "cancelled": RunStatus.CANCELLED,
}

Operation = Callable[[FlowDefinition, RunState, dt.datetime, dict[str, Any] | None], StepOutcome]


def process_due_runs(*, limit: int = BATCH_SIZE, now: dt.datetime | None = None) -> int:
    """Advance up to ``limit`` due runs; returns how many were claimed."""
    now = now or timezone.now()
    with transaction.atomic():
        runs = lock_due(
            FlowRun.objects.filter(due_at__lte=now)
            .select_related("flow", "version")
            .order_by("due_at", "id"),
            limit=limit,
        )
        for run in runs:
            try:
                with transaction.atomic():
                    advance_run(run, now=now)
            except Exception as error:  # an engine bug must not stall the rest of the batch
                logger.exception("run %s failed in the engine", run.pk)
                _fail_outside(run, f"{type(error).__name__}: {error}", now)
    return len(runs)


def worker_job() -> int:
    """The ``flows`` worker job: due runs, then due outbox deliveries."""
    return process_due_runs() + outbox.deliver_due()


def _fail_outside(run: FlowRun, message: str, now: dt.datetime) -> None:
    FlowRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED, due_at=None, error=message[:2000], finished_at=now, updated_at=now
    )


def run_state(run: FlowRun, definition: FlowDefinition) -> RunState:
    """The run's engine state; a just-enrolled run (no state yet) starts here."""
    if "run_id" in run.state:
        return load_run_state(run.state)
    return start_run(
        definition,
        run_id=str(run.pk),
        now=run.enrolled_at,
        record_id=run.record_id,
        trigger_event=run.state.get("trigger"),
    )


def advance_run(run: FlowRun, *, now: dt.datetime) -> None:
    """Advance one claimed run until it waits or ends, and save it. Call inside a transaction."""
    event = run.pending_event

    def operation(
        definition: FlowDefinition, state: RunState, at: dt.datetime, record: dict[str, Any] | None
    ) -> StepOutcome:
        return advance(
            definition,
            state,
            now=at,
            record=record,
            event=event,
            signal=_signal(state),
            action_results=_outbox_results(state),
        )

    operate(run, operation, now=now)


def operate(run: FlowRun, operation: Operation, *, now: dt.datetime) -> None:
    """Apply ``operation`` (advance, retry, skip, cancel) to ``run``, perform the effects it
    asks for until the run waits or ends, and save the run and its changed steps."""
    definition = definition_of(run.version)
    state = run_state(run, definition)
    record = load_record_for_flow(run.record_type, run.record_id)
    paths = record_paths_of(run.version)

    def snapshot() -> dict[str, Any] | None:
        if record is None:
            return None
        return flow_record(record, run.record_type, extra_paths=paths)

    executor = EffectExecutor(run=run, record=record, now=now, fresh=not run.state.get("run_id"))
    run.pending_event = None
    run.waiting_event = ""
    outcome = operation(definition, state, now, snapshot())
    changed = set(outcome.changed_steps)
    for _ in range(MAX_ROUNDS):
        executor.state = outcome.state
        results = executor.perform(outcome.effects)
        if not results:
            break
        outcome = advance(
            definition,
            outcome.state,
            now=now,
            record=snapshot(),
            action_results=results,
        )
        changed |= set(outcome.changed_steps)
    _save(run, outcome, changed, executor, now)


def _signal(state: RunState) -> Signal | None:
    """An approval decision for the approval the run waits for, once it is decided."""
    wait = state.wait
    if wait is None or wait.kind != "approval" or wait.key is None:
        return None
    approval = Approval.objects.filter(key=wait.key).first()
    if approval is None or approval.status not in (
        ApprovalStatus.APPROVED,
        ApprovalStatus.REJECTED,
    ):
        return None
    last = approval.decisions.order_by("-decided_at").first()
    return ApprovalDecision(
        idempotency_key=wait.key,
        outcome="approved" if approval.status == ApprovalStatus.APPROVED else "rejected",
        comment=last.comment if last else "",
        decided_by=last.user_id if last else None,
    )


def _outbox_results(state: RunState) -> list[ActionResult]:
    """The outcome of an e-mail or webhook the run waits for, once delivery has settled."""
    wait = state.wait
    if wait is None or wait.kind != "action" or wait.key is None:
        return []
    message = OutboxMessage.objects.filter(idempotency_key=wait.key).first()
    if message is None or message.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        return []
    return [outbox_result(message)]


def outbox_result(message: OutboxMessage) -> ActionResult:
    if message.status == OutboxStatus.FAILED:
        return ActionResult(idempotency_key=message.idempotency_key, error=message.last_error)
    output = {"outbox_id": message.pk, "delivery": message.status, **message.response}
    return ActionResult(idempotency_key=message.idempotency_key, output=output)


def _save(
    run: FlowRun,
    outcome: StepOutcome,
    changed: set[int],
    executor: EffectExecutor,
    now: dt.datetime,
) -> None:
    state = outcome.state
    run.status = _STATUS[state.status]
    run.state = state.to_data()
    run.state_schema_version = RUN_STATE_SCHEMA_VERSION
    run.current_node = state.cursor or (state.steps[-1].node_id if state.steps else "")
    run.error = (state.error or "")[:2000]
    run.finished_at = state.finished_at
    run.updated_at = now
    if executor.first_action_at is not None and run.first_action_at is None:
        run.first_action_at = executor.first_action_at
    wait = state.wait
    run.due_at = outcome.wake_at if wait is not None else None
    if run.status in (RunStatus.RUNNING,) and wait is None and not state.is_finished:
        run.due_at = now  # more to do next turn (the round limit was reached)
    if wait is not None and wait.kind == "event" and wait.event_type:
        run.waiting_event = wait.event_type
        note_waiting(wait.event_type)
    elif wait is not None and wait.kind == "action" and wait.key in executor.outbox_waits:
        run.waiting_event = outbox.outbox_wait_key(executor.outbox_waits[wait.key])
    run.save()
    _save_steps(run, state, changed, executor)


def _save_steps(run: FlowRun, state: RunState, changed: set[int], executor: EffectExecutor) -> None:
    existing = executor.step_ids()
    creates: list[StepExecution] = []
    updates: list[StepExecution] = []
    for index in sorted(changed):
        record = state.steps[index]
        step = StepExecution(
            pk=existing.get(index),
            run=run,
            index=index,
            node_id=record.node_id,
            node_kind=record.kind,
            attempt=record.attempt,
            status=record.status,
            queued_at=record.queued_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            input=executor.inputs.get(index, {}),
            output=_jsonable(record.output if record.output is not None else record.detail),
            error=record.error or "",
            idempotency_key=executor.keys.get(index, ""),
        )
        (updates if step.pk else creates).append(step)
    if creates:
        StepExecution.objects.bulk_create(creates)
    fields = ["attempt", "status", "started_at", "finished_at", "output", "error"]
    keyed = [step for step in updates if step.index in executor.keys]
    plain = [step for step in updates if step.index not in executor.keys]
    if keyed:
        StepExecution.objects.bulk_update(keyed, [*fields, "input", "idempotency_key"])
    if plain:
        StepExecution.objects.bulk_update(plain, fields)


def _jsonable(value: Any) -> Any:
    if value is None:
        return {}
    return value
