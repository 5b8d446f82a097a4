"""Reads of the activities app: activities, tasks, and the timeline of any record.

Activities are visible by their owner, tasks by their assignee (``core.permissions``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from flowcrm.activities.models import Activity, Task, TaskStatus
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event
from flowcrm.core.pagination import Page, decode_cursor, encode_cursor, paginate
from flowcrm.core.permissions import get_visible, scope
from flowcrm.sales.models import Deal
from flowcrm.sales.selectors import visible_or_invalid

if TYPE_CHECKING:
    from flowcrm.accounts.models import User

ACTIVITY_SORTS = frozenset({"id", "occurred_at", "created_at"})
TASK_SORTS = frozenset({"id", "created_at", "updated_at", "title"})
OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)

# subject type -> (model, the field that decides who sees it)
SUBJECTS: dict[str, tuple[type[models.Model], str]] = {
    "contact": (Contact, "owner"),
    "company": (Company, "owner"),
    "deal": (Deal, "owner"),
    "task": (Task, "assignee"),
    "activity": (Activity, "owner"),
}


def subject_get(user: User, subject_type: str, subject_id: int) -> models.Model:
    """The record behind a timeline/history URL if ``user`` may see it.

    Raises ValidationFailed ``subject_type`` for an unknown type, NotFound for a record that
    does not exist or that the user may not see.
    """
    if subject_type not in SUBJECTS:
        raise ValidationFailed({"subject_type": f"One of {', '.join(sorted(SUBJECTS))}."})
    model, owner_field = SUBJECTS[subject_type]
    return get_visible(model._default_manager.all(), user, subject_id, owner_field)


@dataclass(frozen=True)
class Links:
    contact: Contact | None = None
    company: Company | None = None
    deal: Deal | None = None


def resolve_links(
    user: User,
    *,
    contact_id: int | None = None,
    company_id: int | None = None,
    deal_id: int | None = None,
) -> Links:
    """The linked records named by id, each one that ``user`` can see (else 422 naming it)."""
    return Links(
        contact=visible_or_invalid(Contact.objects.all(), user, contact_id, field="contact_id")
        if contact_id is not None
        else None,
        company=visible_or_invalid(Company.objects.all(), user, company_id, field="company_id")
        if company_id is not None
        else None,
        deal=visible_or_invalid(Deal.objects.all(), user, deal_id, field="deal_id")
        if deal_id is not None
        else None,
    )


def activity_get(user: User, pk: int) -> Activity:
    return get_visible(Activity.objects.select_related("owner"), user, pk)


def task_get(user: User, pk: int) -> Task:
    return get_visible(Task.objects.select_related("assignee"), user, pk, "assignee")


@dataclass(frozen=True)
class ActivityFilters:
    kind: str | None = None
    owner_id: int | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None


def activity_list(
    user: User,
    filters: ActivityFilters,
    *,
    sort: str = "-occurred_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Activity]:
    """One keyset page of the activities ``user`` may see (two queries with participants)."""
    conditions = {
        "kind": filters.kind,
        "owner_id": filters.owner_id,
        "contact_id": filters.contact_id,
        "company_id": filters.company_id,
        "deal_id": filters.deal_id,
        "occurred_at__gte": filters.occurred_from,
        "occurred_at__lte": filters.occurred_to,
    }
    queryset = (
        scope(Activity.objects.all(), user)
        .filter(**{k: v for k, v in conditions.items() if v is not None})
        .prefetch_related(models.Prefetch("participants", queryset=Contact.objects.only("id")))
    )
    return paginate(queryset, sort=sort, allowed_sorts=ACTIVITY_SORTS, cursor=cursor, limit=limit)


@dataclass(frozen=True)
class TaskFilters:
    assignee_id: int | None = None
    status: str | None = None
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None


def task_list(
    user: User,
    filters: TaskFilters,
    *,
    sort: str = "-created_at",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[Task]:
    """One keyset page of the tasks ``user`` may see (one query)."""
    conditions = {
        "assignee_id": filters.assignee_id,
        "status": filters.status,
        "due_at__gte": filters.due_from,
        "due_at__lte": filters.due_to,
        "contact_id": filters.contact_id,
        "company_id": filters.company_id,
        "deal_id": filters.deal_id,
    }
    queryset = scope(Task.objects.all(), user, "assignee").filter(
        **{k: v for k, v in conditions.items() if v is not None}
    )
    return paginate(queryset, sort=sort, allowed_sorts=TASK_SORTS, cursor=cursor, limit=limit)


@dataclass(frozen=True)
class MyTasks:
    overdue: list[Task]
    today: list[Task]
    upcoming: list[Task]
    undated: list[Task]


def my_tasks(user: User, *, per_group: int = 100, now: dt.datetime | None = None) -> MyTasks:
    """The user's open tasks: overdue, due today, upcoming and undated (four small queries)."""
    now = timezone.localtime(now or timezone.now())
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1)
    mine = Task.objects.filter(assignee=user, status__in=OPEN_STATUSES).select_related(
        "contact", "company", "deal"
    )
    return MyTasks(
        overdue=list(mine.filter(due_at__lt=now).order_by("due_at", "id")[:per_group]),
        today=list(
            mine.filter(due_at__gte=now, due_at__lt=end).order_by("due_at", "id")[:per_group]
        ),
        upcoming=list(mine.filter(due_at__gte=end).order_by("due_at", "id")[:per_group]),
        undated=list(mine.filter(due_at__isnull=True).order_by("-created_at", "-id")[:per_group]),
    )


# -- the timeline ---------------------------------------------------------------------------

# At the same instant events sort before activities (newest first); the rank breaks the tie
# between the two streams so the cursor is a total order.
_RANK = {"event": 1, "activity": 0}


@dataclass(frozen=True)
class TimelineEntry:
    kind: Literal["event", "activity"]
    occurred_at: dt.datetime
    id: int
    event: Event | None = None
    activity: Activity | None = None


@dataclass(frozen=True)
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None


def _timeline_activities(subject_type: str, subject_id: int) -> models.QuerySet[Activity] | None:
    if subject_type == "deal":
        return Activity.objects.filter(deal_id=subject_id)
    if subject_type == "contact":
        participated = Activity.participants.through.objects.filter(contact_id=subject_id).values(
            "activity_id"
        )
        return Activity.objects.filter(Q(contact_id=subject_id) | Q(pk__in=participated))
    if subject_type == "company":
        # Its people's activities too: one indexed sub-select on contact.company_id.
        people = Contact.objects.filter(company_id=subject_id).values("pk")
        return Activity.objects.filter(Q(company_id=subject_id) | Q(contact_id__in=people))
    return None


def _decode_timeline_cursor(cursor: str) -> tuple[dt.datetime, int, int]:
    raw_time, raw_key = decode_cursor(cursor)
    try:
        kind, _, raw_id = str(raw_key).partition(":")
        at = dt.datetime.fromisoformat(str(raw_time))
        return at, _RANK[kind], int(raw_id)
    except (KeyError, ValueError) as error:
        raise ValidationFailed({"cursor": "Malformed cursor."}) from error


def _after[ModelT: models.Model](
    queryset: models.QuerySet[ModelT],
    rank: int,
    cursor: tuple[dt.datetime, int, int] | None,
    time_field: str,
) -> models.QuerySet[ModelT]:
    if cursor is None:
        return queryset
    at, cursor_rank, cursor_id = cursor
    if rank > cursor_rank:  # this stream's entries at ``at`` came before the cursor
        return queryset.filter(**{f"{time_field}__lt": at})
    if rank < cursor_rank:
        return queryset.filter(**{f"{time_field}__lte": at})
    return queryset.filter(
        Q(**{f"{time_field}__lt": at}) | Q(**{time_field: at, "id__lt": cursor_id})
    )


def record_timeline(
    subject_type: str, subject_id: int, user: User, cursor: str | None = None, limit: int = 30
) -> TimelinePage:
    """A record's events and linked activities, newest first, keyset-paginated.

    Each stream is read with ``(time, id) < cursor`` and ``limit + 1`` rows, then merged, so a
    page costs three queries (visibility, events, activities) however long the history is.
    Activities: a deal's own; a contact's own and those it took part in; a company's own and
    its contacts'. Raises NotFound if ``user`` may not see the record, ValidationFailed for an
    unknown subject type, a bad limit or a malformed cursor.
    """
    if not 1 <= limit <= 200:
        raise ValidationFailed({"limit": "Must be between 1 and 200."})
    subject_get(user, subject_type, subject_id)
    position = _decode_timeline_cursor(cursor) if cursor else None
    events = _after(
        Event.objects.filter(subject_type=subject_type, subject_id=subject_id),
        _RANK["event"],
        position,
        "occurred_at",
    ).order_by("-occurred_at", "-id")[: limit + 1]
    entries = [
        TimelineEntry(kind="event", occurred_at=e.occurred_at, id=e.pk, event=e) for e in events
    ]
    activities = _timeline_activities(subject_type, subject_id)
    if activities is not None:
        rows = _after(activities, _RANK["activity"], position, "occurred_at")
        entries += [
            TimelineEntry(kind="activity", occurred_at=a.occurred_at, id=a.pk, activity=a)
            for a in rows.select_related("owner").order_by("-occurred_at", "-id")[: limit + 1]
        ]
    entries.sort(key=lambda e: (e.occurred_at, _RANK[e.kind], e.id), reverse=True)
    next_cursor = None
    if len(entries) > limit:
        entries = entries[:limit]
        last = entries[-1]
        next_cursor = encode_cursor([last.occurred_at.isoformat(), f"{last.kind}:{last.id}"])
    return TimelinePage(entries=entries, next_cursor=next_cursor)


def timeline_summary(entry: TimelineEntry) -> dict[str, Any]:
    """A JSON-ready view of one entry (the API and the fragment render the same facts)."""
    if entry.event is not None:
        event = entry.event
        return {
            "kind": "event",
            "id": event.pk,
            "occurred_at": event.occurred_at,
            "type": event.type,
            "actor_kind": event.actor_kind,
            "actor_label": event.actor_label,
            "changes": event.changes,
            "data": event.data,
        }
    assert entry.activity is not None
    activity = entry.activity
    return {
        "kind": "activity",
        "id": activity.pk,
        "occurred_at": activity.occurred_at,
        "type": f"activity.{activity.kind}",
        "actor_kind": "user" if activity.owner_id else "system",
        "actor_label": activity.owner.email if activity.owner else "",
        "changes": {},
        "data": {
            "kind": activity.kind,
            "direction": activity.direction,
            "subject": activity.subject,
            "body": activity.body[:500],
            "outcome": activity.outcome,
            "contact_id": activity.contact_id,
            "company_id": activity.company_id,
            "deal_id": activity.deal_id,
        },
    }
