from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.activities.models import Task
from flowcrm.activities.tests.factories import make_activity, make_task
from flowcrm.core.actors import Actor
from flowcrm.core.events import record_event
from flowcrm.core.models import Event
from flowcrm.sales.tests.factories import make_contact, make_deal

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _section(html: str, key: str) -> str:
    match = re.search(rf'<section class="card" id="tasks-{key}">.*?</section>', html, re.S)
    assert match
    return match.group(0)


def test_my_tasks_groups_overdue_today_and_upcoming(
    make_user: Callable[..., User], django_assert_num_queries: Any
) -> None:
    me, someone = make_user(), make_user()
    now = timezone.localtime()
    overdue = make_task(assignee=me, title="Call back", due_at=now - dt.timedelta(days=2))
    end_of_today = now.replace(hour=23, minute=59, second=0, microsecond=0)
    today = make_task(assignee=me, title="Send quote", due_at=end_of_today, deal=make_deal())
    upcoming = make_task(assignee=me, title="Renewal", due_at=now + dt.timedelta(days=5))
    for index in range(10):
        make_task(
            assignee=me,
            title=f"Later {index}",
            due_at=now + dt.timedelta(days=6),
            contact=make_contact(),
        )
    make_task(assignee=me, title="Finished", status="done", due_at=now)
    make_task(assignee=someone, title="Not mine", due_at=now)
    client = _client(me)
    with django_assert_num_queries(6):  # session, user, the four groups
        html = client.get("/activities/tasks/").content.decode()
    assert overdue.title in _section(html, "overdue")
    assert today.title in _section(html, "today")
    assert upcoming.title in _section(html, "upcoming") and "Later 9" in _section(html, "upcoming")
    assert "Finished" not in html and "Not mine" not in html


def test_completing_a_task_with_one_click(make_user: Callable[..., User]) -> None:
    me = make_user()
    task = make_task(assignee=me, due_at=timezone.now())
    client = _client(me)
    response = client.post(f"/activities/tasks/{task.pk}/complete/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Done" in response.content.decode()
    assert Task.objects.get(pk=task.pk).status == "done"
    assert Event.objects.filter(type="task.completed", subject_id=task.pk).count() == 1
    again = client.post(f"/activities/tasks/{task.pk}/complete/")
    assert again.status_code == 409
    assert Event.objects.filter(type="task.completed", subject_id=task.pk).count() == 1


def test_nobody_completes_a_task_they_cannot_see(
    make_user: Callable[..., User], make_team: Callable[..., Any]
) -> None:
    me, other = make_user(team=make_team("East")), make_user(team=make_team("West"))
    task = make_task(assignee=other)
    response = _client(me).post(f"/activities/tasks/{task.pk}/complete/")
    assert response.status_code == 404
    assert Task.objects.get(pk=task.pk).status == "open"


def test_the_timeline_fragment_pages_with_load_more(
    admin_user: User, system_actor: Actor, django_assert_num_queries: Any
) -> None:
    deal = make_deal()
    base = timezone.now() - dt.timedelta(days=1)
    for minute in range(20):
        record_event(
            type="deal.updated",
            subject=deal,
            actor=system_actor,
            changes={"amount": {"before": str(minute), "after": str(minute + 1)}},
            occurred_at=base + dt.timedelta(minutes=2 * minute),
        )
        make_activity(
            deal=deal,
            subject=f"Call {minute}",
            occurred_at=base + dt.timedelta(minutes=2 * minute + 1),
        )
    client = _client(admin_user)
    # session, user, the record, events, activities (with owners)
    with django_assert_num_queries(5):
        first = client.get(f"/activities/timeline/deal/{deal.pk}/").content.decode()
    assert first.startswith('<ul class="timeline"')
    assert first.count('<li class="entry') == 30
    assert first.index("Call 19") < first.index("Call 18")
    more = re.search(r'hx-get="([^"]+cursor=[^"]+)"', first)
    assert more is not None
    rest = client.get(more.group(1).replace("&amp;", "&")).content.decode()
    assert rest.count('<li class="entry') == 10 and "Load more" not in rest
    assert "<ul" not in rest.split('<ul class="changes">')[0]


def test_the_timeline_fragment_of_an_invisible_record_is_404(
    make_user: Callable[..., User], make_team: Callable[..., Any]
) -> None:
    owner, stranger = make_user(team=make_team("East")), make_user(team=make_team("West"))
    deal = make_deal(owner=owner)
    assert _client(stranger).get(f"/activities/timeline/deal/{deal.pk}/").status_code == 404
    assert _client(owner).get(f"/activities/timeline/deal/{deal.pk}/").status_code == 200
    assert _client(owner).get("/activities/timeline/planet/1/").status_code == 404
