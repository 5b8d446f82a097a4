"""Enrollment: starting runs in the transaction of the change that triggers them.

:func:`on_events` is subscribed to the event log (``apps.py``). For each new event it finds
the active flows whose trigger listens to that event type (a cached index: an event type no
flow listens to costs nothing), checks the trigger, the cascade guard, the enrollment condition
and the re-enrollment policy, and inserts the run, due at once. It also resumes runs waiting
for that event on that record. The subscriber runs in a savepoint of the writer's transaction:
a run exists if and only if its triggering change committed, and a failure here never fails
the user's write.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.db.models import F
from django.utils import timezone

from flowcrm.core.models import Event
from flowcrm.flows.actions.records import flow_record, load_record_for_flow
from flowcrm.flows.core.language import evaluate_condition
from flowcrm.flows.core.triggers import RecordEventTrigger
from flowcrm.flows.definitions import (
    ActiveFlow,
    active_index,
    definition_of,
    event_dict,
    record_paths_of,
    waited_event_types,
)
from flowcrm.flows.models import EnrollmentLog, Flow, FlowRun, RunStatus

logger = logging.getLogger(__name__)

# A chain of flows triggering each other this long is stopped: A → B → A → B … would never end.
MAX_CASCADE_DEPTH = 5


def on_events(events: Sequence[Event]) -> None:
    """The event-log subscriber: enroll matching records, resume waiting runs."""
    index = active_index()
    waited = waited_event_types()
    for event in events:
        listeners = index.by_event.get(event.type)
        if listeners:
            as_dict = event_dict(event)
            for active in listeners:
                _enroll_from_event(active, event, as_dict)
        if event.type in waited:
            resume_waiting(event)


def _cascade_chain(event: Event) -> list[int]:
    """The flows that led to ``event``: the writing run's chain plus its flow."""
    if event.flow_run_id is None:
        return []
    parent = FlowRun.objects.filter(pk=event.flow_run_id).values("flow_id", "cascade_chain").first()
    if parent is None:
        return []
    return [*parent["cascade_chain"], parent["flow_id"]]


def _enroll_from_event(active: ActiveFlow, event: Event, as_dict: dict[str, Any]) -> None:
    trigger = active.definition.trigger
    if not trigger.matches(as_dict):
        return
    record_id = (
        trigger.record_id_for(as_dict)
        if isinstance(trigger, RecordEventTrigger)
        else event.subject_id
    )
    if record_id is None:
        return
    enroll_record(
        flow=active.flow,
        record_type=trigger.record_type_name() or event.subject_type,
        record_id=int(record_id),
        trigger=as_dict,
        cascade_chain=_cascade_chain(event),
        now=event.occurred_at if event.flow_run_id is None else timezone.now(),
        trigger_event_id=event.pk,
    )


def cascade_error(chain: list[int], flow_id: int) -> str:
    names = dict(Flow.objects.filter(pk__in={*chain, flow_id}).values_list("pk", "name"))
    path = " → ".join(names.get(pk, f"flow {pk}") for pk in [*chain, flow_id])
    return f"cascade depth limit {MAX_CASCADE_DEPTH} reached: {path}"


def enroll_record(
    *,
    flow: Flow,
    record_type: str,
    record_id: int,
    now: dt.datetime | None = None,
    trigger: dict[str, Any] | None = None,
    cascade_chain: list[int] | None = None,
    trigger_event_id: int | None = None,
    respect_policy: bool = True,
    check_condition: bool = True,
) -> FlowRun | None:
    """Start a run of ``flow``'s active version on one record; None when it does not enroll.

    Checks the enrollment condition and the re-enrollment policy (unless told not to). A chain
    deeper than ``MAX_CASCADE_DEPTH`` creates a *failed* run naming the chain, so the loop is
    visible in the run history instead of silently dropped.
    """
    now = now or timezone.now()
    version = flow.active_version
    if version is None:
        return None
    definition = definition_of(version)
    chain = list(cascade_chain or [])
    if check_condition and definition.enrollment is not None:
        record = load_record_for_flow(record_type, record_id)
        if record is None:
            return None
        holds, _ = evaluate_condition(
            definition.enrollment,
            flow_record(record, record_type, extra_paths=record_paths_of(version)),
            record_type=record_type,
            context={"trigger": trigger or {}},
            changes=(trigger or {}).get("changes"),
        )
        if not holds:
            return None
    if respect_policy and not _policy_allows(flow, definition, record_type, record_id, now):
        return None
    run = FlowRun(
        flow=flow,
        version=version,
        record_type=record_type,
        record_id=record_id,
        status=RunStatus.RUNNING,
        # The engine state is built on the run's first turn (it needs the run's id).
        state={"trigger": trigger or {}},
        current_node=definition.start,
        due_at=now,
        trigger_event_id=trigger_event_id,
        cascade_chain=chain,
        enrolled_at=now,
        updated_at=now,
    )
    if len(chain) >= MAX_CASCADE_DEPTH:
        run.status, run.due_at, run.finished_at = RunStatus.FAILED, None, now
        run.error = cascade_error(chain, flow.pk)
    run.save()
    return run


def _policy_allows(
    flow: Flow, definition: Any, record_type: str, record_id: int, now: dt.datetime
) -> bool:
    log = EnrollmentLog.objects.filter(
        flow=flow, record_type=record_type, record_id=record_id
    ).first()
    if log is None:
        EnrollmentLog.objects.create(
            flow=flow, record_type=record_type, record_id=record_id, last_enrolled_at=now
        )
        return True
    if not definition.reenrollment.allows(log.last_enrolled_at, now):
        return False
    EnrollmentLog.objects.filter(pk=log.pk).update(
        last_enrolled_at=now, enrollments=F("enrollments") + 1
    )
    return True


def resume_waiting(event: Event) -> int:
    """Hand ``event`` to the runs waiting for its type on its record; the stepper decides on
    the run's next turn whether it meets the wait (field, from/to, condition). Returns how many
    runs were made due."""
    now = timezone.now()
    return FlowRun.objects.filter(
        waiting_event=event.type,
        record_type=event.subject_type,
        record_id=event.subject_id,
        status=RunStatus.WAITING,
    ).update(pending_event=event_dict(event), due_at=now, updated_at=now)
