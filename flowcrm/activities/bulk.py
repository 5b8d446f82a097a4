"""Bulk creation of activities and tasks, with one event per record.

``activity_bulk_create`` writes one ``activity.logged`` per activity at the activity's own
``occurred_at`` (so a history logged in bulk lands where it happened on timelines);
``task_bulk_create`` writes one ``task.created`` per task at its ``created_at``. Changes and data
are those of docs/events.md.

Transactions: rows are consumed in batches of ``batch_size``; each batch is validated completely
and then written with its events in one transaction. A bad row raises ValidationFailed (keys
``rows.<index>.<field>``) and writes nothing of its batch; earlier batches stay written. Wrap the
call in ``transaction.atomic()`` for all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from itertools import batched
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.activities.models import (
    Activity,
    ActivityKind,
    Direction,
    Task,
    TaskPriority,
    TaskStatus,
)
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.actors import Actor
from flowcrm.core.bulk_insert import append_events, creation_changes, event_row, insert_rows
from flowcrm.core.errors import ValidationFailed
from flowcrm.sales.models import Deal

DEFAULT_BATCH_SIZE = 5000
MAX_REPORTED_ERRORS = 50
ACTIVITY_BULK_FIELDS = frozenset(
    {
        "kind",
        "direction",
        "subject",
        "body",
        "duration_seconds",
        "outcome",
        "occurred_at",
        "contact_id",
        "company_id",
        "deal_id",
        "owner_id",
        "participant_ids",
        "created_at",
    }
)
TASK_BULK_FIELDS = frozenset(
    {
        "title",
        "description",
        "due_at",
        "assignee_id",
        "status",
        "priority",
        "contact_id",
        "company_id",
        "deal_id",
        "completed_at",
        "created_at",
    }
)
ACTIVITY_COLUMNS = (
    "kind",
    "direction",
    "subject",
    "body",
    "duration_seconds",
    "outcome",
    "occurred_at",
    "contact_id",
    "company_id",
    "deal_id",
    "owner_id",
    "custom",
    "created_at",
    "updated_at",
)
TASK_COLUMNS = (
    "title",
    "description",
    "due_at",
    "assignee_id",
    "status",
    "priority",
    "contact_id",
    "company_id",
    "deal_id",
    "completed_at",
    "custom",
    "created_at",
    "updated_at",
)
# Choice lists computed once: the enums rebuild them on every access.
_KINDS = list(ActivityKind.values)
_DIRECTIONS = ["", *Direction.values]
_STATUSES = list(TaskStatus.values)
_PRIORITIES = list(TaskPriority.values)
_LINKS: tuple[tuple[str, type[models.Model]], ...] = (
    ("contact_id", Contact),
    ("company_id", Company),
    ("deal_id", Deal),
)


class _Checker:
    """Per-row errors of one batch and the relation ids to check in one query per model."""

    def __init__(self, allowed: frozenset[str], user_ids: set[int]) -> None:
        self.allowed = allowed
        self.user_ids = user_ids
        self.errors: dict[str, str] = {}
        self.linked: dict[str, dict[int, int]] = {field: {} for field, _ in _LINKS}

    def add(self, index: int, field: str, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors[f"rows.{index}.{field}"] = message

    def start(self, index: int, row: Mapping[str, Any]) -> None:
        for field in row.keys() - self.allowed:
            self.add(index, field, "Unknown field.")
        for field, _ in _LINKS:
            value = row.get(field)
            if value is not None:
                self.linked[field].setdefault(value, index)

    def text(self, index: int, row: Mapping[str, Any], field: str, limit: int | None) -> str:
        value = row.get(field)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.add(index, field, "Expected text.")
            return ""
        text = value.strip()
        if limit is not None and len(text) > limit:
            self.add(index, field, f"At most {limit} characters.")
        return text

    def choice(self, index: int, field: str, value: Any, allowed: list[str]) -> str:
        if value not in allowed:
            self.add(index, field, f"{value!r} is not one of {', '.join(a for a in allowed if a)}.")
            return allowed[0]
        return str(value)

    def moment(
        self, index: int, row: Mapping[str, Any], field: str, default: dt.datetime | None
    ) -> dt.datetime | None:
        value = row.get(field)
        if value is None:
            return default
        if not isinstance(value, dt.datetime) or timezone.is_naive(value):
            self.add(index, field, "Expected a time-zone aware datetime.")
            return default
        return value

    def user(self, index: int, row: Mapping[str, Any], field: str) -> int | None:
        value = row.get(field)
        if value is not None and value not in self.user_ids:
            self.add(index, field, f"User {value} does not exist.")
        return value

    def finish(self) -> None:
        """Check the linked records exist; raise ValidationFailed if any row is bad."""
        for field, model in _LINKS:
            rows_of_id = self.linked[field]
            found = set(
                model._default_manager.filter(pk__in=list(rows_of_id)).values_list("pk", flat=True)
            )
            for missing in sorted(rows_of_id.keys() - found):
                noun = field.removesuffix("_id").capitalize()
                self.add(rows_of_id[missing], field, f"{noun} {missing} does not exist.")
        if self.errors:
            raise ValidationFailed(self.errors)


def _activity_from_row(
    checker: _Checker, index: int, row: Mapping[str, Any], now: dt.datetime
) -> tuple[dict[str, Any], list[int]]:
    checker.start(index, row)
    duration = row.get("duration_seconds")
    if duration is not None and (not isinstance(duration, int) or duration < 0):
        checker.add(index, "duration_seconds", "Expected a whole number of seconds, 0 or more.")
        duration = None
    occurred_at = checker.moment(index, row, "occurred_at", now) or now
    created_at = checker.moment(index, row, "created_at", occurred_at) or occurred_at
    activity: dict[str, Any] = {
        "kind": checker.choice(index, "kind", row.get("kind"), _KINDS),
        "direction": checker.choice(index, "direction", row.get("direction") or "", _DIRECTIONS),
        "subject": checker.text(index, row, "subject", 200),
        "body": checker.text(index, row, "body", None),
        "duration_seconds": duration,
        "outcome": checker.text(index, row, "outcome", 100),
        "occurred_at": occurred_at,
        "contact_id": row.get("contact_id"),
        "company_id": row.get("company_id"),
        "deal_id": row.get("deal_id"),
        "owner_id": checker.user(index, row, "owner_id"),
        "custom": {},
        "created_at": created_at,
        "updated_at": created_at,
    }
    participants = sorted({int(p) for p in row.get("participant_ids") or []})
    for contact_id in participants:
        checker.linked["contact_id"].setdefault(contact_id, index)
    return activity, participants


def _activity_values(activity: Mapping[str, Any], participants: list[int]) -> dict[str, Any]:
    return {
        "kind": activity["kind"],
        "direction": activity["direction"],
        "subject": activity["subject"],
        "body": activity["body"],
        "duration_seconds": activity["duration_seconds"],
        "outcome": activity["outcome"],
        "occurred_at": activity["occurred_at"],
        "contact": activity["contact_id"],
        "company": activity["company_id"],
        "deal": activity["deal_id"],
        "owner": activity["owner_id"],
        "participants": participants,
        "custom": activity["custom"],
    }


def activity_bulk_create(
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: Actor,
    notify: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[int]:
    """Log activities from ``rows``; one ``activity.logged`` each. Returns the new ids.

    Row keys: see ``ACTIVITY_BULK_FIELDS`` (``kind`` required; ``*_id`` are ids,
    ``participant_ids`` contact ids). The event happens at the row's ``occurred_at`` (default:
    now) with data ``kind``, ``direction``, ``contact_id``, ``company_id``, ``deal_id``.
    ``notify=False`` keeps event subscribers (flows) from seeing the events.
    Raises ValidationFailed (see the module docstring).
    """
    user_ids = set(User.objects.values_list("pk", flat=True))
    created: list[int] = []
    offset = 0
    for batch in batched(rows, batch_size):
        now = timezone.now()
        checker = _Checker(ACTIVITY_BULK_FIELDS, user_ids)
        parsed = [
            _activity_from_row(checker, index, row, now)
            for index, row in enumerate(batch, start=offset)
        ]
        offset += len(batch)
        checker.finish()
        with transaction.atomic():
            ids = insert_rows(Activity, ACTIVITY_COLUMNS, [a for a, _ in parsed])
            links = [
                Activity.participants.through(activity_id=pk, contact_id=contact_id)
                for pk, (_, participants) in zip(ids, parsed, strict=True)
                for contact_id in participants
            ]
            if links:
                Activity.participants.through.objects.bulk_create(links, batch_size=batch_size)
            append_events(
                [
                    event_row(
                        type="activity.logged",
                        subject_type="activity",
                        subject_id=pk,
                        actor=actor,
                        changes=creation_changes(_activity_values(activity, participants)),
                        data={
                            "kind": activity["kind"],
                            "direction": activity["direction"],
                            "contact_id": activity["contact_id"],
                            "company_id": activity["company_id"],
                            "deal_id": activity["deal_id"],
                        },
                        occurred_at=activity["occurred_at"],
                    )
                    for pk, (activity, participants) in zip(ids, parsed, strict=True)
                ],
                notify=notify,
            )
        created.extend(ids)
    return created


def _task_from_row(
    checker: _Checker, index: int, row: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    checker.start(index, row)
    title = checker.text(index, row, "title", 200)
    if not title:
        checker.add(index, "title", "A task needs a title.")
    status = checker.choice(index, "status", row.get("status", TaskStatus.OPEN), _STATUSES)
    completed_at = checker.moment(index, row, "completed_at", None)
    if status == TaskStatus.DONE and completed_at is None:
        checker.add(index, "completed_at", "A done task needs the time it was completed.")
    if status != TaskStatus.DONE and completed_at is not None:
        checker.add(index, "completed_at", "Only a done task has a completion time.")
    created_at = checker.moment(index, row, "created_at", now) or now
    return {
        "title": title,
        "description": checker.text(index, row, "description", None),
        "due_at": checker.moment(index, row, "due_at", None),
        "assignee_id": checker.user(index, row, "assignee_id"),
        "status": status,
        "priority": checker.choice(
            index, "priority", row.get("priority", TaskPriority.NORMAL), _PRIORITIES
        ),
        "contact_id": row.get("contact_id"),
        "company_id": row.get("company_id"),
        "deal_id": row.get("deal_id"),
        "completed_at": completed_at,
        "custom": {},
        "created_at": created_at,
        "updated_at": completed_at or created_at,
    }


def _task_values(task: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "title": task["title"],
        "description": task["description"],
        "due_at": task["due_at"],
        "assignee": task["assignee_id"],
        "status": task["status"],
        "priority": task["priority"],
        "contact": task["contact_id"],
        "company": task["company_id"],
        "deal": task["deal_id"],
        "completed_at": task["completed_at"],
        "custom": task["custom"],
    }


def task_bulk_create(
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: Actor,
    notify: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[int]:
    """Create tasks from ``rows``; one ``task.created`` each (at ``created_at``). Returns ids.

    Row keys: see ``TASK_BULK_FIELDS`` (``title`` required). A task may be created already done
    (``status="done"`` with ``completed_at``); its one event is still ``task.created``, whose
    changes carry the status and completion time. ``notify=False`` keeps event subscribers
    (flows) from seeing the events. Raises ValidationFailed (see the module docstring).
    """
    user_ids = set(User.objects.values_list("pk", flat=True))
    created: list[int] = []
    offset = 0
    for batch in batched(rows, batch_size):
        now = timezone.now()
        checker = _Checker(TASK_BULK_FIELDS, user_ids)
        tasks = [
            _task_from_row(checker, index, row, now)
            for index, row in enumerate(batch, start=offset)
        ]
        offset += len(batch)
        checker.finish()
        with transaction.atomic():
            ids = insert_rows(Task, TASK_COLUMNS, tasks)
            append_events(
                [
                    event_row(
                        type="task.created",
                        subject_type="task",
                        subject_id=pk,
                        actor=actor,
                        changes=creation_changes(_task_values(task)),
                        data={
                            "contact_id": task["contact_id"],
                            "company_id": task["company_id"],
                            "deal_id": task["deal_id"],
                        },
                        occurred_at=task["created_at"],
                    )
                    for pk, task in zip(ids, tasks, strict=True)
                ],
                notify=notify,
            )
        created.extend(ids)
    return created
