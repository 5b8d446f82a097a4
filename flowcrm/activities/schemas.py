"""Input and output shapes of the activities API (activities, tasks, timeline, history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from flowcrm.activities.models import Activity


class ActivityIn(Schema):
    kind: str = Field(..., description="call, email, meeting or note")
    direction: str = ""
    subject: str = Field("", max_length=200)
    body: str = ""
    duration_seconds: int | None = Field(None, ge=0)
    outcome: str = Field("", max_length=100)
    occurred_at: dt.datetime | None = Field(None, description="Default: now.")
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    participant_ids: list[int] = Field(default_factory=list)
    owner_id: int | None = Field(None, description="Default: the caller.")
    custom: dict[str, Any] = Field(default_factory=dict)


class ActivityPatch(Schema):
    kind: str | None = None
    direction: str | None = None
    subject: str | None = Field(None, max_length=200)
    body: str | None = None
    duration_seconds: int | None = Field(None, ge=0)
    outcome: str | None = Field(None, max_length=100)
    occurred_at: dt.datetime | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    owner_id: int | None = None
    custom: dict[str, Any] | None = None


class ActivityOut(Schema):
    id: int
    kind: str
    direction: str
    subject: str
    body: str
    duration_seconds: int | None
    outcome: str
    occurred_at: dt.datetime
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    participant_ids: list[int]
    owner_id: int | None
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_participant_ids(obj: Activity) -> list[int]:
        return sorted(contact.pk for contact in obj.participants.all())


class ActivityPage(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


class ActivityQuery(Schema):
    kind: str | None = Field(None, pattern="^(call|email|meeting|note)$")
    owner_id: int | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None
    sort: str = "-occurred_at"
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class TaskIn(Schema):
    title: str = Field(..., max_length=200)
    description: str = ""
    due_at: dt.datetime | None = None
    assignee_id: int | None = Field(None, description="Default: the caller.")
    priority: str = "normal"
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    custom: dict[str, Any] = Field(default_factory=dict)


class TaskPatch(Schema):
    title: str | None = Field(None, max_length=200)
    description: str | None = None
    due_at: dt.datetime | None = None
    assignee_id: int | None = None
    priority: str | None = None
    status: str | None = Field(None, description="open, in_progress or cancelled")
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    custom: dict[str, Any] | None = None


class TaskOut(Schema):
    id: int
    title: str
    description: str
    due_at: dt.datetime | None
    assignee_id: int | None
    status: str
    priority: str
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    completed_at: dt.datetime | None
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class TaskQuery(Schema):
    assignee_id: int | None = None
    status: str | None = Field(None, pattern="^(open|in_progress|done|cancelled)$")
    due_from: dt.datetime | None = None
    due_to: dt.datetime | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    sort: str = "-created_at"
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class TimelineEntryOut(Schema):
    kind: str
    id: int
    occurred_at: dt.datetime
    type: str
    actor_kind: str
    actor_label: str
    changes: dict[str, Any]
    data: dict[str, Any]


class TimelineOut(Schema):
    items: list[TimelineEntryOut]
    next_cursor: str | None


class TimelineQuery(Schema):
    cursor: str | None = None
    limit: int = Field(30, ge=1, le=200)


class FieldChangeOut(Schema):
    event_id: int
    event_type: str
    occurred_at: dt.datetime
    actor_kind: str
    actor_label: str
    field: str
    before: Any
    after: Any
