"""Writes of the flows app: definitions, publishing, activation, operator actions on runs.

Each service validates first, then writes in one transaction with one event
(``flow.created``, ``flow.published``, ``flow.activated``, ``flow_run.retried``, …).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.conditions import compile_q, model_for, parse_condition
from flowcrm.core.errors import Conflict, ValidationFailed
from flowcrm.core.events import record_event
from flowcrm.flows.core.definition import parse_definition
from flowcrm.flows.core.errors import DefinitionInvalid, EngineError
from flowcrm.flows.core.stepper import cancel_run, retry_failed_step, skip_failed_step
from flowcrm.flows.definitions import definition_of, invalidate_active_index
from flowcrm.flows.engine import Operation, operate
from flowcrm.flows.enrollment import enroll_record
from flowcrm.flows.models import (
    FINISHED_RUN_STATUSES,
    Flow,
    FlowRun,
    FlowStatus,
    FlowVersion,
    RunStatus,
)


def _validated(definition: Any) -> dict[str, Any]:
    try:
        return parse_definition(definition).to_data()
    except DefinitionInvalid as error:
        raise ValidationFailed(
            {
                f"definition.{path}" if path != "$" else "definition": message
                for path, message in error.by_path().items()
            }
        ) from error


def flow_create(*, name: str, draft: dict[str, Any], actor: Actor, description: str = "") -> Flow:
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": "A flow needs a name."})
    if Flow.objects.filter(name=name).exists():
        raise ValidationFailed({"name": f"A flow named {name!r} already exists."})
    with transaction.atomic():
        flow = Flow.objects.create(
            name=name, description=description, draft=draft, created_by_id=actor.user_id
        )
        record_event(type="flow.created", subject=flow, actor=actor, data={"name": name})
    return flow


def flow_update_draft(*, flow: Flow, draft: dict[str, Any], actor: Actor) -> Flow:
    with transaction.atomic():
        flow.draft = draft
        flow.updated_at = timezone.now()
        flow.save(update_fields=["draft", "updated_at"])
        record_event(type="flow.draft_updated", subject=flow, actor=actor)
    return flow


def flow_publish(*, flow: Flow, actor: Actor, activate: bool = False) -> FlowVersion:
    """Validate the draft and freeze it as the next version. Raises ValidationFailed with
    JSON-path-precise errors (``definition.nodes[3].config.subject``); writes nothing then."""
    data = _validated(flow.draft)
    warnings = _static_check_warnings(flow, data)
    with transaction.atomic():
        number = (flow.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = FlowVersion.objects.create(
            flow=flow,
            number=number,
            definition=data,
            published_by_id=actor.user_id,
            checks=warnings,
        )
        record_event(type="flow.published", subject=flow, actor=actor, data={"version": number})
        if activate:
            flow_activate(flow=flow, version=version, actor=actor)
    return version


def _static_check_warnings(flow: Flow, data: dict[str, Any]) -> list[dict[str, str]]:
    """Static checks (flows.checks) when available: errors refuse, warnings are kept."""
    try:
        from flowcrm.flows.checks import check_publish
    except ImportError:
        return []
    result = check_publish(flow=flow, definition=data)
    if result.errors:
        raise ValidationFailed({e.path: e.message for e in result.errors})
    return [w.as_dict() for w in result.warnings]


def flow_activate(*, flow: Flow, actor: Actor, version: FlowVersion | None = None) -> Flow:
    """New enrollments use ``version`` (default: the latest). Runs in flight keep theirs."""
    version = version or flow.versions.order_by("-number").first()
    if version is None:
        raise ValidationFailed({"version": "Publish the flow before activating it."})
    with transaction.atomic():
        flow.active_version = version
        flow.status = FlowStatus.ACTIVE
        flow.updated_at = timezone.now()
        flow.save(update_fields=["active_version", "status", "updated_at"])
        record_event(
            type="flow.activated", subject=flow, actor=actor, data={"version": version.number}
        )
        transaction.on_commit(invalidate_active_index)
    invalidate_active_index()
    return flow


def flow_pause(*, flow: Flow, actor: Actor) -> Flow:
    with transaction.atomic():
        flow.status = FlowStatus.PAUSED
        flow.save(update_fields=["status"])
        record_event(type="flow.paused", subject=flow, actor=actor)
        transaction.on_commit(invalidate_active_index)
    return flow


def _operator_check(run: FlowRun, allowed: set[str], verb: str) -> None:
    if run.status not in allowed:
        raise Conflict(f"A {run.status} run cannot be {verb}.")


def _operate(run: FlowRun, operation: Operation, *, event: str, actor: Actor) -> FlowRun:
    with transaction.atomic():
        locked = (
            FlowRun.objects.select_for_update().select_related("flow", "version").get(pk=run.pk)
        )
        node = locked.current_node
        operate(locked, operation, now=timezone.now())
        record_event(type=event, subject=locked, actor=actor, data={"node": node})
    return locked


def run_retry(*, run: FlowRun, actor: Actor) -> FlowRun:
    """Run a failed run's failed step again (a new attempt with the same idempotency key).

    Raises Conflict unless the run failed on a step. One ``flowrun.retried`` event."""
    _operator_check(run, {RunStatus.FAILED}, "retried")

    def retry(definition: Any, state: Any, now: Any, record: Any) -> Any:
        return retry_failed_step(definition, state, now=now, record=record)

    return _operate(run, _guarded(retry), event="flowrun.retried", actor=actor)


def run_skip(*, run: FlowRun, actor: Actor, label: str | None = None) -> FlowRun:
    """Skip a failed run's failed step and continue along its ``label`` edge."""
    _operator_check(run, {RunStatus.FAILED}, "skipped")

    def skip(definition: Any, state: Any, now: Any, record: Any) -> Any:
        return skip_failed_step(definition, state, now=now, record=record, label=label)

    return _operate(run, _guarded(skip), event="flowrun.skipped", actor=actor)


def run_cancel(*, run: FlowRun, actor: Actor) -> FlowRun:
    """Cancel a run that has not finished (an open approval is closed)."""
    if run.status in FINISHED_RUN_STATUSES and run.status != RunStatus.FAILED:
        raise Conflict(f"A {run.status} run cannot be cancelled.")

    def cancel(definition: Any, state: Any, now: Any, record: Any) -> Any:
        return cancel_run(definition, state, now=now, reason=f"cancelled by {actor.label}")

    return _operate(run, cancel, event="flowrun.cancelled", actor=actor)


def _guarded(operation: Operation) -> Operation:
    def guarded(definition: Any, state: Any, now: Any, record: Any) -> Any:
        try:
            return operation(definition, state, now, record)
        except EngineError as error:
            raise Conflict(str(error)) from error

    return guarded


MAX_MANUAL_RUNS = 10_000


def flow_trigger_manually(
    *,
    flow: Flow,
    record_type: str,
    record_ids: list[int],
    actor: Actor,
    condition: dict[str, Any] | None = None,
) -> list[FlowRun]:
    """Start runs now on the listed records, or on every record matching ``condition``
    (compiled to a query; at most ``MAX_MANUAL_RUNS``). The enrollment condition and the
    re-enrollment policy still apply. One ``flow.triggered`` event."""
    if flow.active_version is None:
        raise ValidationFailed({"flow": "Activate the flow before starting runs."})
    expected = definition_of(flow.active_version).record_type
    if expected is not None and record_type != expected:
        raise ValidationFailed({"record_type": f"This flow runs on {expected} records."})
    if condition is not None:
        tree = parse_condition(condition, record_type=record_type, path="condition")
        query = compile_q(tree, record_type=record_type)
        record_ids = list(
            model_for(record_type)
            ._default_manager.filter(query)
            .order_by("pk")
            .values_list("pk", flat=True)[: MAX_MANUAL_RUNS + 1]
        )
    if len(record_ids) > MAX_MANUAL_RUNS:
        raise ValidationFailed({"record_ids": f"At most {MAX_MANUAL_RUNS} records at a time."})
    if not record_ids:
        raise ValidationFailed({"record_ids": "Name records, or a condition that matches some."})
    existing = set(
        model_for(record_type)
        ._default_manager.filter(pk__in=record_ids)
        .values_list("pk", flat=True)
    )
    missing = [pk for pk in record_ids if pk not in existing]
    if missing:
        raise ValidationFailed({"record_ids": f"No {record_type} with id {missing[0]}."})
    runs: list[FlowRun] = []
    with transaction.atomic():
        for record_id in record_ids:
            run = enroll_record(
                flow=flow,
                record_type=record_type,
                record_id=record_id,
                trigger={"type": "manual", "by": actor.label},
            )
            if run is not None:
                runs.append(run)
        record_event(type="flow.triggered", subject=flow, actor=actor, data={"runs": len(runs)})
    return runs


def user_label(user: User | None) -> str:
    return user.display_name if user else "system"
