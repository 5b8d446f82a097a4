"""Writes of the activities app: logged activities and tasks. Each service records one event.

Linked records (contact, company, deal) and users arrive as model instances: callers resolve
ids with the visibility of the acting user (``activities.selectors.resolve_links``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from flowcrm.activities.models import (
    Activity,
    ActivityKind,
    Direction,
    Task,
    TaskPriority,
    TaskStatus,
)
from flowcrm.core.actors import Actor
from flowcrm.core.custom_fields import validate_custom_values
from flowcrm.core.errors import Conflict, ValidationFailed
from flowcrm.core.events import created_changes, diff, record_event

if TYPE_CHECKING:
    from flowcrm.accounts.models import User
    from flowcrm.contacts.models import Company, Contact
    from flowcrm.sales.models import Deal

ACTIVITY_UPDATABLE_FIELDS = frozenset(
    {
        "kind",
        "direction",
        "subject",
        "body",
        "duration_seconds",
        "outcome",
        "occurred_at",
        "contact",
        "company",
        "deal",
        "owner",
        "custom",
    }
)
TASK_UPDATABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "due_at",
        "assignee",
        "priority",
        "status",
        "contact",
        "company",
        "deal",
        "custom",
    }
)
LINK_FIELDS = ("contact", "company", "deal")
# Activities can be logged ahead (a scheduled meeting), but not absurdly far ahead.
MAX_ACTIVITY_FUTURE = dt.timedelta(days=366)


def _activity_snapshot(activity: Activity) -> dict[str, Any]:
    return {
        "kind": activity.kind,
        "direction": activity.direction,
        "subject": activity.subject,
        "body": activity.body,
        "duration_seconds": activity.duration_seconds,
        "outcome": activity.outcome,
        "occurred_at": activity.occurred_at,
        "contact": activity.contact_id,
        "company": activity.company_id,
        "deal": activity.deal_id,
        "owner": activity.owner_id,
        "custom": activity.custom,
    }


def _task_snapshot(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "description": task.description,
        "due_at": task.due_at,
        "assignee": task.assignee_id,
        "status": task.status,
        "priority": task.priority,
        "contact": task.contact_id,
        "company": task.company_id,
        "deal": task.deal_id,
        "completed_at": task.completed_at,
        "custom": task.custom,
    }


def _links_data(record: Activity | Task) -> dict[str, int | None]:
    return {
        "contact_id": record.contact_id,
        "company_id": record.company_id,
        "deal_id": record.deal_id,
    }


def _clean_activity(
    values: Mapping[str, Any], *, existing_custom: dict[str, Any]
) -> dict[str, Any]:
    cleaned = dict(values)
    errors: dict[str, str] = {}
    if "kind" in cleaned and cleaned["kind"] not in ActivityKind.values:
        errors["kind"] = f"One of {', '.join(ActivityKind.values)}."
    if "direction" in cleaned:
        cleaned["direction"] = cleaned["direction"] or ""
        if cleaned["direction"] not in ("", *Direction.values):
            errors["direction"] = f"One of {', '.join(Direction.values)} (or empty)."
    for text_field, limit in (("subject", 200), ("outcome", 100)):
        if text_field in cleaned:
            cleaned[text_field] = str(cleaned[text_field] or "").strip()
            if len(cleaned[text_field]) > limit:
                errors[text_field] = f"At most {limit} characters."
    if "body" in cleaned:
        cleaned["body"] = str(cleaned["body"] or "")
    duration = cleaned.get("duration_seconds")
    if duration is not None and (not isinstance(duration, int) or duration < 0):
        errors["duration_seconds"] = "Must be a whole number of seconds, not negative."
    if "occurred_at" in cleaned:
        occurred_at = cleaned["occurred_at"] or timezone.now()
        if timezone.is_naive(occurred_at):
            errors["occurred_at"] = "Give a time zone (e.g. 2026-05-01T10:00:00Z)."
        elif occurred_at > timezone.now() + MAX_ACTIVITY_FUTURE:
            errors["occurred_at"] = "Must not be more than a year ahead."
        cleaned["occurred_at"] = occurred_at
    owner = cleaned.get("owner")
    if owner is not None and not owner.is_active:
        errors["owner_id"] = "The owner must be an active user."
    if "custom" in cleaned:
        try:
            cleaned["custom"] = validate_custom_values(
                "activity", cleaned["custom"] or {}, existing=existing_custom
            )
        except ValidationFailed as error:
            errors.update(error.errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def activity_log(
    *,
    kind: str,
    actor: Actor,
    owner: User | None = None,
    direction: str = "",
    subject: str = "",
    body: str = "",
    duration_seconds: int | None = None,
    outcome: str = "",
    occurred_at: dt.datetime | None = None,
    contact: Contact | None = None,
    company: Company | None = None,
    deal: Deal | None = None,
    participants: Iterable[Contact] = (),
    custom: Mapping[str, Any] | None = None,
) -> Activity:
    """Log a call, e-mail, meeting or note linked to at least one record; one ``activity.logged``.

    Event ``data``: ``kind``, ``direction``, ``contact_id``, ``company_id``, ``deal_id``.
    Raises ValidationFailed: ``kind``, ``direction``, ``duration_seconds``, ``occurred_at``,
    ``contact_id`` (no linked record at all), ``owner_id``, ``custom.<key>``.
    """
    if contact is None and company is None and deal is None:
        raise ValidationFailed(
            {"contact_id": "Link the activity to a contact, a company or a deal."}
        )
    cleaned = _clean_activity(
        {
            "kind": kind,
            "direction": direction,
            "subject": subject,
            "body": body,
            "duration_seconds": duration_seconds,
            "outcome": outcome,
            "occurred_at": occurred_at,
            "owner": owner,
            "custom": dict(custom or {}),
        },
        existing_custom={},
    )
    participant_list = list(participants)
    with transaction.atomic():
        activity = Activity.objects.create(contact=contact, company=company, deal=deal, **cleaned)
        if participant_list:
            activity.participants.add(*participant_list)
        changes = created_changes(_activity_snapshot(activity))
        if participant_list:
            changes["participants"] = {
                "before": None,
                "after": sorted(p.pk for p in participant_list),
            }
        record_event(
            type="activity.logged",
            subject=activity,
            actor=actor,
            changes=changes,
            data={"kind": activity.kind, "direction": activity.direction, **_links_data(activity)},
        )
    return activity


def activity_update(*, activity: Activity, data: Mapping[str, Any], actor: Actor) -> Activity:
    """Change an activity's fields; one ``activity.updated`` (nothing recorded if unchanged).

    ``data`` keys: ``ACTIVITY_UPDATABLE_FIELDS``. The activity must stay linked to a record.
    """
    unknown = set(data) - ACTIVITY_UPDATABLE_FIELDS
    if unknown:
        raise ValidationFailed(dict.fromkeys(sorted(unknown), "Unknown or read-only field."))
    cleaned = _clean_activity(data, existing_custom=dict(activity.custom))
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        before = _activity_snapshot(locked)
        for field, value in cleaned.items():
            setattr(locked, field, value)
        if all(getattr(locked, f"{link}_id") is None for link in LINK_FIELDS):
            raise ValidationFailed(
                {"contact_id": "Link the activity to a contact, a company or a deal."}
            )
        changes = diff(before, _activity_snapshot(locked))
        if not changes:
            return locked
        locked.updated_at = timezone.now()
        locked.save()
        record_event(
            type="activity.updated",
            subject=locked,
            actor=actor,
            changes=changes,
            data={"kind": locked.kind, **_links_data(locked)},
        )
    return locked


def activity_delete(*, activity: Activity, actor: Actor) -> None:
    """Delete an activity; one ``activity.deleted`` (``data``: subject, kind, links)."""
    with transaction.atomic():
        activity_id = activity.pk
        data = {"subject": activity.subject, "kind": activity.kind, **_links_data(activity)}
        activity.delete()
        record_event(
            type="activity.deleted",
            subject_type="activity",
            subject_id=activity_id,
            actor=actor,
            data=data,
        )


def _start_of_today() -> dt.datetime:
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def _clean_task(
    values: Mapping[str, Any], *, existing_custom: dict[str, Any], due_changed: bool
) -> dict[str, Any]:
    cleaned = dict(values)
    errors: dict[str, str] = {}
    if "title" in cleaned:
        cleaned["title"] = str(cleaned["title"] or "").strip()
        if not cleaned["title"]:
            errors["title"] = "A task needs a title."
        elif len(cleaned["title"]) > 200:
            errors["title"] = "At most 200 characters."
    if "description" in cleaned:
        cleaned["description"] = str(cleaned["description"] or "")
    due_at = cleaned.get("due_at")
    if due_at is not None and due_changed:
        if timezone.is_naive(due_at):
            errors["due_at"] = "Give a time zone (e.g. 2026-05-01T10:00:00Z)."
        elif due_at < _start_of_today():
            errors["due_at"] = "Must not be before today."
    if "priority" in cleaned and cleaned["priority"] not in TaskPriority.values:
        errors["priority"] = f"One of {', '.join(TaskPriority.values)}."
    if "status" in cleaned and cleaned["status"] not in (
        TaskStatus.OPEN,
        TaskStatus.IN_PROGRESS,
        TaskStatus.CANCELLED,
    ):
        errors["status"] = "Use open, in_progress or cancelled; complete a task with /complete."
    assignee = cleaned.get("assignee")
    if assignee is not None and not assignee.is_active:
        errors["assignee_id"] = "The assignee must be an active user."
    if "custom" in cleaned:
        try:
            cleaned["custom"] = validate_custom_values(
                "task", cleaned["custom"] or {}, existing=existing_custom
            )
        except ValidationFailed as error:
            errors.update(error.errors)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def task_create(
    *,
    title: str,
    actor: Actor,
    assignee: User | None = None,
    due_at: dt.datetime | None = None,
    description: str = "",
    priority: str = TaskPriority.NORMAL,
    contact: Contact | None = None,
    company: Company | None = None,
    deal: Deal | None = None,
    custom: Mapping[str, Any] | None = None,
) -> Task:
    """Create an open task; one ``task.created`` (``data``: the linked record ids).

    Raises ValidationFailed: ``title``, ``due_at`` (before today, or without a time zone),
    ``assignee_id`` (inactive user), ``priority``, ``custom.<key>``.
    """
    cleaned = _clean_task(
        {
            "title": title,
            "description": description,
            "due_at": due_at,
            "assignee": assignee,
            "priority": priority,
            "custom": dict(custom or {}),
        },
        existing_custom={},
        due_changed=True,
    )
    with transaction.atomic():
        task = Task.objects.create(contact=contact, company=company, deal=deal, **cleaned)
        record_event(
            type="task.created",
            subject=task,
            actor=actor,
            changes=created_changes(_task_snapshot(task)),
            data=_links_data(task),
        )
    return task


def task_update(*, task: Task, data: Mapping[str, Any], actor: Actor) -> Task:
    """Change a task's fields; one ``task.updated`` (nothing recorded if unchanged).

    A due date is checked only when it changes (an overdue task can still be renamed).
    """
    unknown = set(data) - TASK_UPDATABLE_FIELDS
    if unknown:
        raise ValidationFailed(dict.fromkeys(sorted(unknown), "Unknown or read-only field."))
    due_changed = "due_at" in data and data["due_at"] != task.due_at
    cleaned = _clean_task(data, existing_custom=dict(task.custom), due_changed=due_changed)
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status == TaskStatus.DONE and "status" in cleaned:
            raise ValidationFailed({"status": "Reopen a done task before changing its status."})
        before = _task_snapshot(locked)
        for field, value in cleaned.items():
            setattr(locked, field, value)
        changes = diff(before, _task_snapshot(locked))
        if not changes:
            return locked
        locked.updated_at = timezone.now()
        locked.save()
        record_event(
            type="task.updated",
            subject=locked,
            actor=actor,
            changes=changes,
            data=_links_data(locked),
        )
    return locked


def task_complete(*, task: Task, actor: Actor) -> Task:
    """Mark a task done now; one ``task.completed`` (changes ``status``, ``completed_at``).

    Raises Conflict if the task is already done.
    """
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status == TaskStatus.DONE:
            raise Conflict("The task is already done.")
        before = _task_snapshot(locked)
        now = timezone.now()
        locked.status = TaskStatus.DONE
        locked.completed_at = now
        locked.updated_at = now
        locked.save(update_fields=["status", "completed_at", "updated_at"])
        record_event(
            type="task.completed",
            subject=locked,
            actor=actor,
            changes=diff(
                {k: before[k] for k in ("status", "completed_at")},
                {"status": locked.status, "completed_at": now},
            ),
            data=_links_data(locked),
            occurred_at=now,
        )
    return locked


def task_reopen(*, task: Task, actor: Actor) -> Task:
    """Set a done or cancelled task back to open; one ``task.reopened``.

    Raises Conflict if the task is not done or cancelled.
    """
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
            raise Conflict("Only a done or cancelled task can be reopened.")
        before = {"status": locked.status, "completed_at": locked.completed_at}
        locked.status = TaskStatus.OPEN
        locked.completed_at = None
        locked.updated_at = timezone.now()
        locked.save(update_fields=["status", "completed_at", "updated_at"])
        record_event(
            type="task.reopened",
            subject=locked,
            actor=actor,
            changes=diff(before, {"status": locked.status, "completed_at": None}),
            data=_links_data(locked),
        )
    return locked


def task_delete(*, task: Task, actor: Actor) -> None:
    """Delete a task; one ``task.deleted`` (``data``: title and linked record ids)."""
    with transaction.atomic():
        task_id = task.pk
        data = {"title": task.title, **_links_data(task)}
        task.delete()
        record_event(
            type="task.deleted", subject_type="task", subject_id=task_id, actor=actor, data=data
        )
