"""REST endpoints of the activities app (mounted by flowcrm.api).

Activities (visible by owner), tasks (visible by assignee), and for any record the user can see:
its timeline (events and activities, newest first) and its field history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from flowcrm.activities import selectors, services
from flowcrm.activities.models import Activity, Task
from flowcrm.activities.schemas import (
    ActivityIn,
    ActivityOut,
    ActivityPage,
    ActivityPatch,
    ActivityQuery,
    FieldChangeOut,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatch,
    TaskQuery,
    TimelineOut,
    TimelineQuery,
)
from flowcrm.contacts.models import Contact
from flowcrm.core.permissions import ensure_can_write
from flowcrm.core.selectors import FieldChange, field_history
from flowcrm.sales.selectors import active_user_for_input, visible_or_invalid

if TYPE_CHECKING:
    from flowcrm.accounts.models import User
    from flowcrm.core.actors import Actor

router = Router(tags=["activities"])

_LINK_IDS = ("contact_id", "company_id", "deal_id")


def _caller(request: HttpRequest) -> tuple[User, Actor]:
    from flowcrm.api import request_actor, request_user

    return request_user(request), request_actor(request)


def _writer(request: HttpRequest) -> tuple[User, Actor]:
    user, actor = _caller(request)
    ensure_can_write(user)
    return user, actor


def _resolve_patch(user: User, data: dict[str, Any], *, user_field: str) -> dict[str, Any]:
    """Replace ``*_id`` keys of a patch by the records (None unlinks); 422 for invisible ones."""
    ids = {key: data.pop(key) for key in _LINK_IDS if key in data}
    links = selectors.resolve_links(user, **{k: v for k, v in ids.items() if v is not None})
    for key in ids:
        data[key.removesuffix("_id")] = getattr(links, key.removesuffix("_id"))
    user_id_field = f"{user_field}_id"
    if user_id_field in data:
        user_id = data.pop(user_id_field)
        data[user_field] = (
            active_user_for_input(user_id, field=user_id_field) if user_id is not None else None
        )
    return data


# -- activities -------------------------------------------------------------------------------


@router.get("/activities", response=ActivityPage, summary="Activities (filters, cursor pages)")
def activity_list(request: HttpRequest, query: Query[ActivityQuery]) -> dict[str, Any]:
    user, _actor = _caller(request)
    filters = selectors.ActivityFilters(**query.model_dump(exclude={"sort", "cursor", "limit"}))
    page = selectors.activity_list(
        user, filters, sort=query.sort, cursor=query.cursor, limit=query.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/activities", response={201: ActivityOut}, summary="Log an activity")
def activity_log(request: HttpRequest, payload: ActivityIn) -> Status[Activity]:
    user, actor = _writer(request)
    links = selectors.resolve_links(
        user, contact_id=payload.contact_id, company_id=payload.company_id, deal_id=payload.deal_id
    )
    participants = [
        visible_or_invalid(Contact.objects.all(), user, pk, field=f"participant_ids.{index}")
        for index, pk in enumerate(payload.participant_ids)
    ]
    owner = (
        active_user_for_input(payload.owner_id, field="owner_id")
        if payload.owner_id is not None
        else user
    )
    activity = services.activity_log(
        kind=payload.kind,
        direction=payload.direction,
        subject=payload.subject,
        body=payload.body,
        duration_seconds=payload.duration_seconds,
        outcome=payload.outcome,
        occurred_at=payload.occurred_at,
        contact=links.contact,
        company=links.company,
        deal=links.deal,
        participants=participants,
        owner=owner,
        custom=payload.custom,
        actor=actor,
    )
    return Status(201, selectors.activity_get(user, activity.pk))


@router.get("/activities/{activity_id}", response=ActivityOut)
def activity_detail(request: HttpRequest, activity_id: int) -> Activity:
    user, _actor = _caller(request)
    return selectors.activity_get(user, activity_id)


@router.patch("/activities/{activity_id}", response=ActivityOut, summary="Change an activity")
def activity_update(request: HttpRequest, activity_id: int, payload: ActivityPatch) -> Activity:
    user, actor = _writer(request)
    activity = selectors.activity_get(user, activity_id)
    data = _resolve_patch(user, payload.model_dump(exclude_unset=True), user_field="owner")
    services.activity_update(activity=activity, data=data, actor=actor)
    return selectors.activity_get(user, activity_id)


@router.delete("/activities/{activity_id}", response={204: None}, summary="Delete an activity")
def activity_delete(request: HttpRequest, activity_id: int) -> Status[None]:
    user, actor = _writer(request)
    services.activity_delete(activity=selectors.activity_get(user, activity_id), actor=actor)
    return Status(204, None)


# -- tasks ------------------------------------------------------------------------------------


@router.get("/tasks", response=TaskPage, summary="Tasks (filters, cursor pages)")
def task_list(request: HttpRequest, query: Query[TaskQuery]) -> dict[str, Any]:
    user, _actor = _caller(request)
    filters = selectors.TaskFilters(**query.model_dump(exclude={"sort", "cursor", "limit"}))
    page = selectors.task_list(
        user, filters, sort=query.sort, cursor=query.cursor, limit=query.limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/tasks", response={201: TaskOut}, summary="Create a task")
def task_create(request: HttpRequest, payload: TaskIn) -> Status[Task]:
    user, actor = _writer(request)
    links = selectors.resolve_links(
        user, contact_id=payload.contact_id, company_id=payload.company_id, deal_id=payload.deal_id
    )
    assignee = (
        active_user_for_input(payload.assignee_id, field="assignee_id")
        if payload.assignee_id is not None
        else user
    )
    task = services.task_create(
        title=payload.title,
        description=payload.description,
        due_at=payload.due_at,
        assignee=assignee,
        priority=payload.priority,
        contact=links.contact,
        company=links.company,
        deal=links.deal,
        custom=payload.custom,
        actor=actor,
    )
    return Status(201, task)


@router.get("/tasks/{task_id}", response=TaskOut)
def task_detail(request: HttpRequest, task_id: int) -> Task:
    user, _actor = _caller(request)
    return selectors.task_get(user, task_id)


@router.patch("/tasks/{task_id}", response=TaskOut, summary="Change a task")
def task_update(request: HttpRequest, task_id: int, payload: TaskPatch) -> Task:
    user, actor = _writer(request)
    task = selectors.task_get(user, task_id)
    data = _resolve_patch(user, payload.model_dump(exclude_unset=True), user_field="assignee")
    return services.task_update(task=task, data=data, actor=actor)


@router.post("/tasks/{task_id}/complete", response=TaskOut, summary="Mark a task done")
def task_complete(request: HttpRequest, task_id: int) -> Task:
    user, actor = _writer(request)
    return services.task_complete(task=selectors.task_get(user, task_id), actor=actor)


@router.post("/tasks/{task_id}/reopen", response=TaskOut, summary="Reopen a done task")
def task_reopen(request: HttpRequest, task_id: int) -> Task:
    user, actor = _writer(request)
    return services.task_reopen(task=selectors.task_get(user, task_id), actor=actor)


@router.delete("/tasks/{task_id}", response={204: None}, summary="Delete a task")
def task_delete(request: HttpRequest, task_id: int) -> Status[None]:
    user, actor = _writer(request)
    services.task_delete(task=selectors.task_get(user, task_id), actor=actor)
    return Status(204, None)


# -- timeline and field history of any record -------------------------------------------------


@router.get(
    "/timeline/{subject_type}/{subject_id}",
    response=TimelineOut,
    summary="A record's events and activities, newest first",
)
def timeline(
    request: HttpRequest, subject_type: str, subject_id: int, query: Query[TimelineQuery]
) -> dict[str, Any]:
    user, _actor = _caller(request)
    page = selectors.record_timeline(
        subject_type, subject_id, user, cursor=query.cursor, limit=query.limit
    )
    return {
        "items": [selectors.timeline_summary(entry) for entry in page.entries],
        "next_cursor": page.next_cursor,
    }


@router.get(
    "/history/{subject_type}/{subject_id}",
    response=list[FieldChangeOut],
    summary="Every change of a record's fields (or of one field), newest first",
)
def history(
    request: HttpRequest, subject_type: str, subject_id: int, field: str | None = None
) -> list[FieldChange]:
    user, _actor = _caller(request)
    selectors.subject_get(user, subject_type, subject_id)
    return field_history(subject_type, subject_id, field=field)
