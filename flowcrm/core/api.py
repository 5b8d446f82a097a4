"""Event log endpoints: the events feed, a record's timeline events and field history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from flowcrm.core import selectors

router = Router(tags=["events"])


class EventOut(Schema):
    id: int
    type: str
    subject_type: str
    subject_id: int
    actor_kind: str
    actor_label: str
    actor_user_id: int | None
    flow_id: int | None
    flow_version_id: int | None
    flow_run_id: int | None
    flow_step_id: int | None
    changes: dict[str, Any]
    data: dict[str, Any]
    occurred_at: dt.datetime


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: int | None


class EventFeedQuery(Schema):
    after: int = Field(0, ge=0, description="Return events with an id greater than this.")
    type: list[str] | None = Field(None, description="Only these event types (repeatable).")
    limit: int = Field(100, ge=1, le=1000)


@router.get("/events", response=EventPage, summary="Events after a cursor, oldest first")
def events_feed(request: HttpRequest, filters: Query[EventFeedQuery]) -> dict[str, Any]:
    from flowcrm.api import request_user
    from flowcrm.core.permissions import ensure_admin

    # The raw feed spans every record, so it is for admins and their integration tokens.
    ensure_admin(request_user(request))
    events = selectors.events_after(filters.after, types=filters.type, limit=filters.limit)
    return {
        "items": events,
        "next_cursor": events[-1].id if len(events) == filters.limit else None,
    }
