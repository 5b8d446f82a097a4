"""Parsed definitions of published versions, and the index of active triggers.

A version is immutable, so its parsed :class:`FlowDefinition` is cached by version id for the
life of the process. The trigger index (which active flow listens to which event type) is
cached too: rebuilt at once in the process that activates or pauses a flow
(:func:`invalidate_active_index`), and at most ``ACTIVE_INDEX_TTL`` seconds late in other
processes. Looking up an event type no active flow listens to costs no query.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from flowcrm.flows.actions.records import condition_paths
from flowcrm.flows.core.definition import FlowDefinition, parse_definition
from flowcrm.flows.core.nodes import WaitEventNode
from flowcrm.flows.models import Flow, FlowRun, FlowStatus, FlowVersion, RunStatus

ACTIVE_INDEX_TTL = 5.0

_parsed: dict[int, FlowDefinition] = {}
_paths: dict[int, set[str]] = {}
_lock = threading.Lock()


def definition_of(version: FlowVersion) -> FlowDefinition:
    """The parsed definition of a published version (cached; versions never change)."""
    cached = _parsed.get(version.pk)
    if cached is None:
        cached = parse_definition(version.definition)
        _parsed[version.pk] = cached
    return cached


def record_paths_of(version: FlowVersion) -> set[str]:
    """Field paths the version's conditions name (cached), so a run's record snapshot holds
    the related values they need and nothing more."""
    cached = _paths.get(version.pk)
    if cached is None:
        cached = condition_paths(version.definition)
        _paths[version.pk] = cached
    return cached


@dataclass(frozen=True)
class ActiveFlow:
    flow: Flow
    version: FlowVersion
    definition: FlowDefinition


@dataclass
class ActiveIndex:
    by_event: dict[str, list[ActiveFlow]] = field(default_factory=dict)
    waited_events: frozenset[str] = frozenset()
    by_flow: dict[int, ActiveFlow] = field(default_factory=dict)
    built_at: float = 0.0


_index = ActiveIndex()


def invalidate_active_index() -> None:
    global _index
    with _lock:
        _index = ActiveIndex()


def active_index() -> ActiveIndex:
    """Active flows by the event types their triggers listen to (rebuilt when stale)."""
    global _index
    current = _index
    if current.built_at and time.monotonic() - current.built_at < ACTIVE_INDEX_TTL:
        return current
    with _lock:
        _index = _build_index()
        return _index


def _build_index() -> ActiveIndex:
    by_event: dict[str, list[ActiveFlow]] = defaultdict(list)
    by_flow: dict[int, ActiveFlow] = {}
    flows = Flow.objects.filter(
        status=FlowStatus.ACTIVE, active_version__isnull=False
    ).select_related("active_version")
    for flow in flows:
        version = flow.active_version
        assert version is not None
        active = ActiveFlow(flow=flow, version=version, definition=definition_of(version))
        by_flow[flow.pk] = active
        for event_type in active.definition.trigger.event_types():
            by_event[event_type].append(active)
    return ActiveIndex(
        by_event=dict(by_event),
        waited_events=_waited_event_types(),
        by_flow=by_flow,
        built_at=time.monotonic(),
    )


def _waited_event_types() -> frozenset[str]:
    """Event types some unfinished run may wait for (any version with runs in flight)."""
    in_flight = FlowRun.objects.filter(status__in=[RunStatus.RUNNING, RunStatus.WAITING])
    versions = FlowVersion.objects.filter(
        Q(pk__in=in_flight.values("version_id")) | Q(flow__status=FlowStatus.ACTIVE)
    )
    types: set[str] = set()
    for version in versions:
        for node in definition_of(version).nodes:
            if isinstance(node, WaitEventNode):
                types.add(node.config.event)
    return frozenset(types)


def waited_event_types() -> frozenset[str]:
    return active_index().waited_events


def note_waiting(event_type: str) -> None:
    """A run started waiting for ``event_type``: make sure this process routes it."""
    current = _index
    if event_type not in current.waited_events:
        current.waited_events = current.waited_events | {event_type}


def event_dict(event: Any) -> dict[str, Any]:
    """An Event row as the plain dict the engine core's triggers and waits match against."""
    return {
        "id": event.pk,
        "type": event.type,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "changes": event.changes,
        "data": event.data,
        "occurred_at": event.occurred_at.isoformat(),
    }


def clear_caches() -> None:
    """Forget parsed versions and the trigger index (tests: ids are reused after rollback)."""
    _parsed.clear()
    _paths.clear()
    invalidate_active_index()
