from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from flowcrm.accounts.models import Role, User
from flowcrm.activities.models import Activity, Task
from flowcrm.activities.tests.factories import make_activity, make_task
from flowcrm.core.models import Event
from flowcrm.sales.tests.factories import make_company, make_contact, make_deal

pytestmark = pytest.mark.django_db


def _fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


@pytest.fixture
def rep(make_user: Callable[..., User], make_team: Callable[..., Any]) -> User:
    return make_user(team=make_team("East"))


@pytest.fixture
def other_rep(make_user: Callable[..., User], make_team: Callable[..., Any]) -> User:
    return make_user(team=make_team("West"))


def test_logging_a_call_writes_one_activity_logged_event(
    api_for: Callable[..., Any], rep: User
) -> None:
    contact, deal = make_contact(owner=rep), make_deal(owner=rep)
    participant = make_contact(owner=rep)
    api = api_for(rep)
    last_id = Event.objects.order_by("-id").values_list("id", flat=True).first()
    response = api.post(
        "activities",
        {
            "kind": "call",
            "direction": "outbound",
            "subject": "Intro",
            "duration_seconds": 300,
            "contact_id": contact.pk,
            "deal_id": deal.pk,
            "participant_ids": [participant.pk],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner_id"] == rep.pk and body["participant_ids"] == [participant.pk]
    (event,) = Event.objects.filter(id__gt=last_id)
    assert event.type == "activity.logged"
    assert event.data == {
        "kind": "call",
        "direction": "outbound",
        "contact_id": contact.pk,
        "company_id": None,
        "deal_id": deal.pk,
    }
    assert event.changes["duration_seconds"] == {"before": None, "after": 300}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "fax"}, "kind"),
        ({"kind": "call", "direction": "sideways"}, "direction"),
        ({"kind": "call", "duration_seconds": -1}, "duration_seconds"),
        ({"kind": "note", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"kind": "note", "occurred_at": "yesterday"}, "occurred_at"),
        ({"kind": "note", "contact_id": None}, "contact_id"),
        ({"kind": "note", "deal_id": 987654}, "deal_id"),
        ({"kind": "note", "company_id": 987654}, "company_id"),
        ({"kind": "note", "owner_id": 987654}, "owner_id"),
        ({"kind": "note", "participant_ids": [987654]}, "participant_ids.0"),
    ],
)
def test_bad_activity_input_is_rejected_and_nothing_is_written(
    api_for: Callable[..., Any], rep: User, body: dict[str, Any], field: str
) -> None:
    contact = make_contact(owner=rep)
    api = api_for(rep)
    events_before = Event.objects.count()
    response = api.post("activities", {"contact_id": contact.pk, **body})
    assert response.status_code == 422, response.content
    assert field in _fields(response)
    assert Activity.objects.count() == 0 and Event.objects.count() == events_before


def test_an_activity_cannot_link_a_record_the_user_cannot_see(
    api_for: Callable[..., Any], rep: User, other_rep: User
) -> None:
    hidden_deal = make_deal(owner=other_rep)
    api = api_for(rep)
    events_before = Event.objects.count()
    response = api.post("activities", {"kind": "note", "deal_id": hidden_deal.pk})
    assert response.status_code == 422 and _fields(response) == ["deal_id"]
    task = api.post("tasks", {"title": "Follow up", "deal_id": hidden_deal.pk})
    assert task.status_code == 422 and _fields(task) == ["deal_id"]
    assert Activity.objects.count() == 0 and Task.objects.count() == 0
    assert Event.objects.count() == events_before


def test_activities_are_visible_by_owner(
    api_for: Callable[..., Any], rep: User, other_rep: User
) -> None:
    mine = make_activity(owner=rep, contact=make_contact())
    theirs = make_activity(owner=other_rep, contact=make_contact())
    api = api_for(rep)
    assert [a["id"] for a in api.get("activities").json()["items"]] == [mine.pk]
    assert api.get(f"activities/{theirs.pk}").status_code == 404
    assert api.patch(f"activities/{theirs.pk}", {"subject": "x"}).status_code == 404
    assert api.delete(f"activities/{theirs.pk}").status_code == 404
    assert Activity.objects.get(pk=theirs.pk).subject != "x"


def test_updating_and_deleting_an_activity(api_for: Callable[..., Any], rep: User) -> None:
    activity = make_activity(owner=rep, contact=make_contact(owner=rep), subject="Old")
    api = api_for(rep)
    unlinked = api.patch(f"activities/{activity.pk}", {"contact_id": None})
    assert unlinked.status_code == 422 and _fields(unlinked) == ["contact_id"]
    changed = api.patch(f"activities/{activity.pk}", {"subject": "New", "outcome": "Booked"})
    assert changed.status_code == 200 and changed.json()["subject"] == "New"
    event = Event.objects.get(type="activity.updated")
    assert event.changes == {
        "subject": {"before": "Old", "after": "New"},
        "outcome": {"before": "", "after": "Booked"},
    }
    assert api.delete(f"activities/{activity.pk}").status_code == 204
    assert Event.objects.get(type="activity.deleted").data["subject"] == "New"


def test_the_activity_list_query_count(
    api_for: Callable[..., Any], admin_user: User, django_assert_num_queries: Any
) -> None:
    contact = make_contact()
    for _ in range(20):
        make_activity(contact=contact).participants.add(contact)
    api = api_for(admin_user)
    api.get("activities", {"limit": 1})
    with django_assert_num_queries(3):  # token, activities, participants
        response = api.get("activities", {"limit": 15, "contact_id": contact.pk})
    assert len(response.json()["items"]) == 15


def test_creating_completing_and_reopening_a_task(
    api_for: Callable[..., Any], rep: User, make_user: Callable[..., User]
) -> None:
    colleague = make_user(team=rep.team)
    deal = make_deal(owner=rep)
    api = api_for(rep)
    due = (timezone.now() + dt.timedelta(days=2)).isoformat()
    created = api.post(
        "tasks",
        {"title": "Send offer", "due_at": due, "assignee_id": colleague.pk, "deal_id": deal.pk},
    )
    assert created.status_code == 201, created.content
    task_id = created.json()["id"]
    last_id = Event.objects.order_by("-id").values_list("id", flat=True).first()
    completed = api.post(f"tasks/{task_id}/complete")
    assert completed.status_code == 200 and completed.json()["status"] == "done"
    (event,) = Event.objects.filter(id__gt=last_id)
    assert event.type == "task.completed"
    assert event.changes["status"] == {"before": "open", "after": "done"}
    assert event.changes["completed_at"]["before"] is None
    assert event.data == {"contact_id": None, "company_id": None, "deal_id": deal.pk}
    again = api.post(f"tasks/{task_id}/complete")
    assert again.status_code == 409
    reopened = api.post(f"tasks/{task_id}/reopen")
    assert reopened.json()["status"] == "open" and reopened.json()["completed_at"] is None
    assert Event.objects.filter(subject_type="task", subject_id=task_id).count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "T", "due_at": "2001-01-01T09:00:00Z"}, "due_at"),
        ({"title": "T", "due_at": "soon"}, "due_at"),
        ({"title": "T", "priority": "whenever"}, "priority"),
        ({"title": "T", "assignee_id": 987654}, "assignee_id"),
        ({"title": "T", "contact_id": 987654}, "contact_id"),
        ({"title": "T", "custom": {"nope": 1}}, "custom.nope"),
    ],
)
def test_bad_task_input_is_rejected_and_nothing_is_written(
    api_for: Callable[..., Any], rep: User, body: dict[str, Any], field: str
) -> None:
    api = api_for(rep)
    events_before = Event.objects.count()
    response = api.post("tasks", body)
    assert response.status_code == 422, response.content
    assert field in _fields(response)
    assert Task.objects.count() == 0 and Event.objects.count() == events_before


def test_an_inactive_user_cannot_be_assigned(
    api_for: Callable[..., Any], rep: User, make_user: Callable[..., User]
) -> None:
    gone = make_user()
    gone.is_active = False
    gone.save()
    task = make_task(assignee=rep)
    api = api_for(rep)
    response = api.patch(f"tasks/{task.pk}", {"assignee_id": gone.pk})
    assert response.status_code == 422 and _fields(response) == ["assignee_id"]
    assert Task.objects.get(pk=task.pk).assignee_id == rep.pk


def test_tasks_are_visible_by_assignee_and_filtered(
    api_for: Callable[..., Any], rep: User, other_rep: User
) -> None:
    deal = make_deal(owner=rep)
    soon = make_task(assignee=rep, deal=deal, due_at=timezone.now() + dt.timedelta(days=1))
    later = make_task(assignee=rep, due_at=timezone.now() + dt.timedelta(days=9))
    done = make_task(assignee=rep, status="done")
    hidden = make_task(assignee=other_rep)
    api = api_for(rep)

    def ids(**params: Any) -> list[int]:
        return sorted(t["id"] for t in api.get("tasks", params).json()["items"])

    assert ids() == sorted([soon.pk, later.pk, done.pk])
    assert ids(status="done") == [done.pk]
    assert ids(deal_id=deal.pk) == [soon.pk]
    until = (timezone.now() + dt.timedelta(days=3)).isoformat()
    assert ids(due_to=until) == [soon.pk]
    assert ids(assignee_id=other_rep.pk) == []
    assert api.get(f"tasks/{hidden.pk}").status_code == 404
    assert api.post(f"tasks/{hidden.pk}/complete").status_code == 404
    assert Task.objects.get(pk=hidden.pk).status == "open"


def test_the_task_list_query_count(
    api_for: Callable[..., Any], admin_user: User, django_assert_num_queries: Any
) -> None:
    for _ in range(20):
        make_task(assignee=admin_user, company=make_company())
    api = api_for(admin_user)
    api.get("tasks", {"limit": 1})
    with django_assert_num_queries(2):  # token, tasks
        response = api.get("tasks", {"limit": 10})
    assert len(response.json()["items"]) == 10


def test_read_only_users_cannot_complete_tasks(
    api_for: Callable[..., Any], make_user: Callable[..., User]
) -> None:
    viewer = make_user(role=Role.READ_ONLY)
    task = make_task(assignee=viewer)
    assert api_for(viewer).post(f"tasks/{task.pk}/complete").status_code == 403
    assert Task.objects.get(pk=task.pk).status == "open"
