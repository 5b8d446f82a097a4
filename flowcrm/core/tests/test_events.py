from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.db import transaction

from flowcrm.accounts.models import Team
from flowcrm.core.actors import Actor
from flowcrm.core.events import (
    build_event,
    diff,
    record_event,
    record_events_bulk,
    subscribe,
    unsubscribe,
)
from flowcrm.core.models import Event
from flowcrm.core.selectors import events_after, field_history

pytestmark = pytest.mark.django_db


def test_recording_an_event_stores_actor_changes_and_a_growing_id(system_actor: Actor) -> None:
    # given a team
    team = Team.objects.create(name="Sales")
    # when two events are recorded for it
    first = record_event(
        type="team.created",
        subject=team,
        actor=system_actor,
        changes={"name": {"before": None, "after": "Sales"}},
    )
    second = record_event(
        type="team.updated",
        subject=team,
        actor=system_actor,
        changes=diff({"name": "Sales"}, {"name": "Sales EMEA"}),
    )
    # then both are stored, in order, with the subject and the before/after values
    assert second.id > first.id
    stored = Event.objects.get(pk=second.id)
    assert (stored.subject_type, stored.subject_id) == ("team", team.pk)
    assert stored.actor_kind == "system" and stored.actor_label == "tests"
    assert stored.changes == {"name": {"before": "Sales", "after": "Sales EMEA"}}


def test_events_after_a_cursor_are_ordered_and_filtered_by_type(system_actor: Actor) -> None:
    team = Team.objects.create(name="Sales")
    events = record_events_bulk(
        [
            build_event(type="a.happened", subject=team, actor=system_actor),
            build_event(type="b.happened", subject=team, actor=system_actor),
            build_event(type="a.happened", subject=team, actor=system_actor),
        ]
    )
    after_first = events_after(events[0].id)
    assert [e.id for e in after_first] == [events[1].id, events[2].id]
    assert [e.id for e in events_after(0, types=["a.happened"])] == [events[0].id, events[2].id]


def test_a_failing_subscriber_does_not_fail_the_write(system_actor: Actor) -> None:
    seen: list[str] = []

    def broken(events: Sequence[Event]) -> None:
        seen.extend(e.type for e in events)
        raise RuntimeError("automation bug")

    subscribe(broken, types=["team.created"])
    try:
        with transaction.atomic():
            team = Team.objects.create(name="Sales")
            record_event(type="team.created", subject=team, actor=system_actor)
    finally:
        unsubscribe(broken)
    assert seen == ["team.created"]
    assert Event.objects.filter(type="team.created", subject_id=team.pk).count() == 1


def test_a_rolled_back_write_leaves_no_event(system_actor: Actor) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        team = Team.objects.create(name="Sales")
        record_event(type="team.created", subject=team, actor=system_actor)
        raise RuntimeError("the write fails after the event")
    assert Event.objects.count() == 0


def test_field_history_lists_each_changed_field_newest_first(system_actor: Actor) -> None:
    team = Team.objects.create(name="Sales")
    record_event(
        type="team.updated",
        subject=team,
        actor=system_actor,
        changes={"name": {"before": "A", "after": "B"}},
    )
    record_event(
        type="team.updated",
        subject=team,
        actor=Actor(kind="user", label="ann@x.io"),
        changes={
            "name": {"before": "B", "after": "C"},
            "description": {"before": "", "after": "d"},
        },
    )
    history = field_history("team", team.pk, field="name")
    assert [(h.before, h.after, h.actor_label) for h in history] == [
        ("B", "C", "ann@x.io"),
        ("A", "B", "tests"),
    ]
