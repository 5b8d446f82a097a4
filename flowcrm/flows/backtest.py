"""Back-test: run a flow version over past records or events with no side effects at all.

Enrollment is set-based (the enrollment condition compiled to a ``Q`` and applied to a chunk of
candidate ids in one query); each enrolled record then goes through the pure dry run. Records
are read in chunks of :data:`CHUNK_SIZE` and only counters (and a few sample ids per path) are
kept, so memory stays bounded however many records are examined. Per-record traces are
produced on demand with :func:`backtest_trace`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from flowcrm.core.conditions import (
    compile_q,
    fields_for,
    model_for,
    parse_condition,
    related_paths,
    snapshot,
)
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event
from flowcrm.flows.actions.records import record_values
from flowcrm.flows.core.definition import FlowDefinition
from flowcrm.flows.core.dryrun import DryRunTrace, dry_run
from flowcrm.flows.core.nodes import ActionNode
from flowcrm.flows.core.triggers import RecordEventTrigger
from flowcrm.flows.languages import install_languages

CHUNK_SIZE = 200
SAMPLES_PER_PATH = 5
MAX_LIMIT = 100_000


@dataclass
class BacktestResult:
    """Aggregates over every examined record (``considered``); ``paths`` maps a path (node ids
    joined by ``>``) to its count and ``samples`` to a few record ids that took it."""

    considered: int = 0
    enrolled: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    paths: Counter[str] = field(default_factory=Counter)
    nodes: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[Any]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "considered": self.considered,
            "enrolled": self.enrolled,
            "statuses": dict(self.statuses),
            "paths": [
                {"path": path.split(">"), "count": count, "sample_record_ids": self.samples[path]}
                for path, count in self.paths.most_common()
            ],
            "nodes": dict(self.nodes),
            "actions": dict(self.actions),
            "errors": dict(self.errors),
        }


def backtest(
    definition: FlowDefinition,
    *,
    limit: int = 1000,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> BacktestResult:
    """Replay the last ``limit`` triggering events (record-event triggers) or records (other
    triggers) in ``[since, until)`` through ``definition``. Reads only; writes nothing.

    Raises ValidationFailed for a flow whose trigger has no record type.
    """
    install_languages()
    record_type = definition.record_type
    if record_type is None:
        raise ValidationFailed({"trigger": "a back-test needs a trigger with a record type"})
    limit = max(1, min(limit, MAX_LIMIT))
    moment = now or timezone.now()
    enrollment_q = _enrollment_q(definition, record_type, moment)
    result = BacktestResult()
    for candidates in _candidates(definition, record_type, limit, since, until):
        records = _load(record_type, [record_id for record_id, _ in candidates], enrollment_q)
        for record_id, event in candidates:
            result.considered += 1
            record = records.get(record_id)
            if record is None:
                continue
            trace = dry_run(
                definition,
                record=record,
                now=moment,
                event=event,
                check_enrollment=enrollment_q is None,
            )
            _count(result, definition, record_id, trace)
    return result


def backtest_trace(
    definition: FlowDefinition, *, record_id: int, now: dt.datetime | None = None
) -> DryRunTrace:
    """The full dry-run trace of one record (with its latest triggering event, if any)."""
    install_languages()
    record_type = definition.record_type
    if record_type is None:
        raise ValidationFailed({"trigger": "a back-test needs a trigger with a record type"})
    records = _load(record_type, [record_id], None)
    if record_id not in records:
        raise ValidationFailed({"record_id": f"no {record_type} with id {record_id}"})
    event = None
    trigger = definition.trigger
    if isinstance(trigger, RecordEventTrigger):
        rows = Event.objects.filter(type=trigger.event, subject_id=record_id).order_by("-id")
        event = next((e for e in map(_event_dict, rows[:50]) if trigger.matches(e)), None)
    return dry_run(definition, record=records[record_id], now=now or timezone.now(), event=event)


def _enrollment_q(definition: FlowDefinition, record_type: str, now: dt.datetime) -> Q | None:
    """The enrollment condition as a ``Q``; ``None`` to evaluate it per record instead
    (conditions on the triggering change cannot be compiled)."""
    if definition.enrollment is None:
        return Q()
    try:
        tree = parse_condition(definition.enrollment, record_type=record_type, path="enrollment")
        return compile_q(tree, record_type=record_type, now=now)
    except ValidationFailed:
        return None


def _candidates(
    definition: FlowDefinition,
    record_type: str,
    limit: int,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Iterator[list[tuple[int, dict[str, Any] | None]]]:
    """Chunks of ``(record id, triggering event or None)``, newest first (keyset on ids)."""
    trigger = definition.trigger
    if isinstance(trigger, RecordEventTrigger):
        rows: Any = Event.objects.filter(type=trigger.event)
        window = ("occurred_at__gte", "occurred_at__lt")
    else:
        rows = model_for(record_type)._default_manager.all()
        window = ("created_at__gte", "created_at__lt")
    if since is not None:
        rows = rows.filter(**{window[0]: since})
    if until is not None:
        rows = rows.filter(**{window[1]: until})
    remaining, cursor = limit, None
    while remaining > 0:
        page = rows.order_by("-pk")
        if cursor is not None:
            page = page.filter(pk__lt=cursor)
        chunk = list(page[: min(CHUNK_SIZE, remaining)])
        if not chunk:
            return
        cursor = chunk[-1].pk
        batch: list[tuple[int, dict[str, Any] | None]]
        if isinstance(trigger, RecordEventTrigger):
            events = [_event_dict(row) for row in chunk]
            matching = [e for e in events if trigger.matches(e)]
            pairs = [(trigger.record_id_for(e), e) for e in matching]
            batch = [(int(rid), e) for rid, e in pairs if rid is not None]
        else:
            batch = [(int(row.pk), None) for row in chunk]
        remaining -= len(batch)
        yield batch


def _event_dict(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "changes": event.changes,
        "data": event.data,
        "occurred_at": event.occurred_at.isoformat(),
    }


def _load(record_type: str, ids: list[int], enrollment: Q | None) -> dict[int, dict[str, Any]]:
    """Flat record dicts (the runtime's values plus the condition tree's nested snapshot) of the
    records in ``ids`` that meet ``enrollment`` (``None``: no filter) — one query (plus tags)."""
    registry = fields_for(record_type)
    model = model_for(record_type)
    rows: models.QuerySet[models.Model] = model._default_manager.filter(pk__in=ids)
    if enrollment is not None:
        rows = rows.filter(enrollment)
    related = related_paths(record_type, registry)
    if related:
        rows = rows.select_related(*related)
    if f"{record_type}.tags" in registry:
        rows = rows.prefetch_related("tags")
    result: dict[int, dict[str, Any]] = {}
    for row in rows:
        nested = snapshot(row, record_type=record_type, fields=registry)[record_type]
        result[int(row.pk)] = {**record_values(row), **nested}
    return result


def _count(
    result: BacktestResult, definition: FlowDefinition, record_id: int, trace: DryRunTrace
) -> None:
    if trace.status in ("not_enrolled", "not_triggered"):
        return
    result.enrolled += 1
    result.statuses[trace.status] += 1
    path = ">".join(trace.path)
    result.paths[path] += 1
    samples = result.samples.setdefault(path, [])
    if len(samples) < SAMPLES_PER_PATH:
        samples.append(record_id)
    for step in trace.steps:
        result.nodes[step.node_id] += 1
        node = definition.node(step.node_id)
        if isinstance(node, ActionNode) and step.status == "finished":
            result.actions[node.action] += 1
    if trace.error:
        result.errors[trace.error] += 1
