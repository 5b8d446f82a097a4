"""Appending to the event log, and subscribing to it.

Every service calls :func:`record_event` (or :func:`record_events_bulk`) inside the transaction
that writes the row, so a record and its event are committed together or not at all.

Subscribers registered with :func:`subscribe` are called with the new events *inside* that same
transaction (the flow engine enrolls runs this way, so a run can neither be lost nor start for a
change that rolled back). Each subscriber runs in a savepoint and its failure is logged, never
raised: an automation that fails must not fail the user's own write. Readers that work after the
fact (webhooks, analytics) use :func:`flowcrm.core.selectors.events_after` with a cursor instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from flowcrm.core.actors import Actor
from flowcrm.core.models import Event

logger = logging.getLogger(__name__)

# On PostgreSQL, ids from a sequence can commit out of order (a transaction that took id 7 may
# commit after one that took id 8), and a reader at cursor 8 would then never see 7. Appenders
# take this transaction-scoped advisory lock, so ids become visible in id order.
EVENT_APPEND_LOCK_KEY = 0x464C4F57  # "FLOW"

EventHandler = Callable[[Sequence[Event]], None]


@dataclass(frozen=True)
class _Subscription:
    handler: EventHandler
    types: frozenset[str] | None


_subscriptions: list[_Subscription] = []


def subscribe(handler: EventHandler, *, types: Iterable[str] | None = None) -> EventHandler:
    """Call ``handler(events)`` in the writing transaction whenever events are appended.

    ``types`` limits the call to those event types (``None``: all). Registering the same handler
    twice is a no-op. Returns the handler so it can be used as a decorator helper.
    """
    wanted = frozenset(types) if types is not None else None
    if not any(s.handler is handler for s in _subscriptions):
        _subscriptions.append(_Subscription(handler=handler, types=wanted))
    return handler


def unsubscribe(handler: EventHandler) -> None:
    _subscriptions[:] = [s for s in _subscriptions if s.handler is not handler]


def json_value(value: Any) -> Any:
    """A JSON-safe copy of a field value, as stored in ``Event.changes``."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_value(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Changes between two field snapshots, as ``{field: {"before": b, "after": a}}``."""
    changes: dict[str, dict[str, Any]] = {}
    for field in after:
        old, new = json_value(before.get(field)), json_value(after[field])
        if old != new:
            changes[field] = {"before": old, "after": new}
    return changes


def created_changes(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The changes of a newly created record: every non-empty field, from ``None``."""
    return {
        field: {"before": None, "after": json_value(value)}
        for field, value in values.items()
        if value not in (None, "", [], {})
    }


def subject_type_of(record: models.Model) -> str:
    return record._meta.model_name or type(record).__name__.lower()


def build_event(
    *,
    type: str,
    subject: models.Model | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    actor: Actor,
    changes: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> Event:
    """An unsaved Event (for :func:`record_events_bulk`)."""
    if subject is not None:
        subject_type, subject_id = subject_type_of(subject), subject.pk
    if subject_type is None or subject_id is None:
        raise ValueError("an event needs a subject (record, or subject_type and subject_id)")
    return Event(
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        changes=dict(changes or {}),
        data=json_value(dict(data or {})),
        occurred_at=occurred_at or timezone.now(),
        **actor.event_fields(),
    )


def record_event(
    *,
    type: str,
    subject: models.Model | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    actor: Actor,
    changes: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> Event:
    """Append one event in the current transaction and notify subscribers. Returns the event."""
    event = build_event(
        type=type,
        subject=subject,
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor,
        changes=changes,
        data=data,
        occurred_at=occurred_at,
    )
    return record_events_bulk([event])[0]


def record_events_bulk(events: Sequence[Event], *, notify: bool = True) -> list[Event]:
    """Append many events with one INSERT per batch; subscribers get them in one call.

    ``notify=False`` appends silently (e.g. an import that was asked not to trigger flows).
    """
    if not events:
        return []
    with transaction.atomic():
        _take_append_lock()
        saved = Event.objects.bulk_create(events, batch_size=2000)
        if notify:
            _notify(saved)
    return saved


def _take_append_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_APPEND_LOCK_KEY])


def _notify(events: Sequence[Event]) -> None:
    for subscription in list(_subscriptions):
        wanted = (
            list(events)
            if subscription.types is None
            else [e for e in events if e.type in subscription.types]
        )
        if not wanted:
            continue
        try:
            with transaction.atomic():
                subscription.handler(wanted)
        except Exception:
            # An automation's failure must never fail the write that triggered it.
            logger.exception("event subscriber %r failed", subscription.handler)
