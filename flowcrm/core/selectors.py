"""Reads of the event log: the cursor feed, a record's events and its field history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flowcrm.core.models import Event


def events_after(
    cursor: int = 0, *, types: Iterable[str] | None = None, limit: int = 500
) -> list[Event]:
    """Events with ``id > cursor`` in id order (an index range scan on the primary key).

    The last returned id is the next cursor. Ids become visible in order (see
    ``core.events.EVENT_APPEND_LOCK_KEY``), so a reader that keeps its cursor never misses one.
    """
    queryset = Event.objects.filter(id__gt=cursor)
    if types:
        queryset = queryset.filter(type__in=list(types))
    return list(queryset.order_by("id")[:limit])


def record_events(
    subject_type: str, subject_id: int, *, before: int | None = None, limit: int = 50
) -> list[Event]:
    """A record's events, newest first; ``before`` is the id cursor of the previous page."""
    queryset = Event.objects.filter(subject_type=subject_type, subject_id=subject_id)
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    return list(queryset.select_related("actor_user").order_by("-id")[:limit])


@dataclass(frozen=True)
class FieldChange:
    event_id: int
    event_type: str
    occurred_at: dt.datetime
    actor_kind: str
    actor_label: str
    field: str
    before: Any
    after: Any


def field_history(
    subject_type: str, subject_id: int, *, field: str | None = None, limit: int = 500
) -> list[FieldChange]:
    """Every recorded change of a record's fields (optionally one field), newest first."""
    changes: list[FieldChange] = []
    for event in record_events(subject_type, subject_id, limit=limit):
        for name, change in sorted(event.changes.items()):
            if field is not None and name != field:
                continue
            changes.append(
                FieldChange(
                    event_id=event.id,
                    event_type=event.type,
                    occurred_at=event.occurred_at,
                    actor_kind=event.actor_kind,
                    actor_label=event.actor_label,
                    field=name,
                    before=change.get("before"),
                    after=change.get("after"),
                )
            )
    return changes
