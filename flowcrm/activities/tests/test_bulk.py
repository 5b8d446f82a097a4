"""Bulk activities and tasks: one event each, at the time the record says it happened."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from flowcrm.accounts.models import User
from flowcrm.activities.bulk import activity_bulk_create, task_bulk_create
from flowcrm.activities.models import Activity, Task
from flowcrm.contacts.tests.factories import ContactFactory
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event

pytestmark = pytest.mark.django_db

WHEN = dt.datetime(2025, 5, 2, 14, 0, tzinfo=dt.UTC)


def test_bulk_activities_get_one_logged_event_at_their_own_time(
    system_actor: Actor, make_user: Callable[..., User]
) -> None:
    # given a contact, a participant and an owner
    contact, participant = ContactFactory.create(), ContactFactory.create()
    owner = make_user()
    # when a call is logged in bulk for a past moment
    [activity_id] = activity_bulk_create(
        [
            {
                "kind": "call",
                "direction": "outbound",
                "subject": "Discovery call",
                "duration_seconds": 600,
                "occurred_at": WHEN,
                "contact_id": contact.pk,
                "owner_id": owner.pk,
                "participant_ids": [participant.pk],
            }
        ],
        actor=system_actor,
    )
    # then the activity exists with its participant
    activity = Activity.objects.get(pk=activity_id)
    assert list(activity.participants.values_list("pk", flat=True)) == [participant.pk]
    # and one activity.logged event at its time, with every non-empty field and the links
    [event] = Event.objects.filter(subject_type="activity", subject_id=activity_id)
    assert (event.type, event.occurred_at) == ("activity.logged", WHEN)
    assert event.data == {
        "kind": "call",
        "direction": "outbound",
        "contact_id": contact.pk,
        "company_id": None,
        "deal_id": None,
    }
    assert event.changes == {
        "kind": {"before": None, "after": "call"},
        "direction": {"before": None, "after": "outbound"},
        "subject": {"before": None, "after": "Discovery call"},
        "duration_seconds": {"before": None, "after": 600},
        "occurred_at": {"before": None, "after": WHEN.isoformat()},
        "contact": {"before": None, "after": contact.pk},
        "owner": {"before": None, "after": owner.pk},
        "participants": {"before": None, "after": [participant.pk]},
    }


def test_bulk_tasks_may_be_created_done_with_one_created_event(system_actor: Actor) -> None:
    # given a contact
    contact = ContactFactory.create()
    done_at = WHEN + dt.timedelta(days=1)
    # when an open and a done task are created in bulk
    ids = task_bulk_create(
        [
            {"title": "Call back", "contact_id": contact.pk, "created_at": WHEN},
            {
                "title": "Send proposal",
                "status": "done",
                "completed_at": done_at,
                "created_at": WHEN,
            },
        ],
        actor=system_actor,
    )
    # then each has exactly one task.created event at its creation time
    events = {e.subject_id: e for e in Event.objects.filter(subject_type="task")}
    assert sorted(events) == sorted(ids)
    assert {(e.type, e.occurred_at) for e in events.values()} == {("task.created", WHEN)}
    assert events[ids[0]].data == {"contact_id": contact.pk, "company_id": None, "deal_id": None}
    assert events[ids[1]].changes["status"] == {"before": None, "after": "done"}
    assert events[ids[1]].changes["completed_at"] == {"before": None, "after": done_at.isoformat()}
    assert Task.objects.get(pk=ids[1]).updated_at == done_at


def test_bad_rows_reject_the_batch_and_nothing_is_written(system_actor: Actor) -> None:
    # given rows with an unknown kind, a missing contact and a done task without a time
    events_before = Event.objects.count()
    # when created in bulk
    with pytest.raises(ValidationFailed) as activity_failure:
        activity_bulk_create(
            [{"kind": "fax"}, {"kind": "note", "contact_id": 999999}], actor=system_actor
        )
    with pytest.raises(ValidationFailed) as task_failure:
        task_bulk_create([{"title": "Done?", "status": "done"}], actor=system_actor)
    # then the rows and fields are named, and nothing was written
    assert set(activity_failure.value.errors) == {"rows.0.kind", "rows.1.contact_id"}
    assert set(task_failure.value.errors) == {"rows.0.completed_at"}
    assert (Activity.objects.count(), Task.objects.count()) == (0, 0)
    assert Event.objects.count() == events_before
