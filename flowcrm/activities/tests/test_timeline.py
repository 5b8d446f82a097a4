from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.activities.selectors import record_timeline
from flowcrm.activities.tests.factories import make_activity
from flowcrm.core.actors import Actor
from flowcrm.core.errors import NotFound, ValidationFailed
from flowcrm.core.events import record_event
from flowcrm.sales.services import deal_create, deal_move_stage, deal_update
from flowcrm.sales.tests.factories import (
    make_company,
    make_contact,
    make_deal,
    pipeline_with_stages,
    stages_of,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def _keys(page_entries: list[Any]) -> list[tuple[str, int]]:
    return [(entry.kind, entry.id) for entry in page_entries]


def test_a_deal_timeline_merges_events_and_activities_newest_first(
    admin_user: User, system_actor: Actor
) -> None:
    # given a deal with events and activities interleaved in time (and a tie at minute 2)
    deal = make_deal()
    events = [
        record_event(type="deal.updated", subject=deal, actor=system_actor, occurred_at=_at(m))
        for m in (0, 2, 4)
    ]
    activities = [make_activity(deal=deal, occurred_at=_at(m)) for m in (1, 2, 5)]
    make_activity(deal=make_deal(), occurred_at=_at(3))  # another deal's: not in this timeline
    # when the timeline is read in pages of two
    pages, cursor = [], None
    while True:
        page = record_timeline("deal", deal.pk, admin_user, cursor=cursor, limit=2)
        pages.append(_keys(page.entries))
        cursor = page.next_cursor
        if cursor is None:
            break
    # then every entry appears once, newest first, events before activities at the same instant
    assert pages == [
        [("activity", activities[2].pk), ("event", events[2].pk)],
        [("event", events[1].pk), ("activity", activities[1].pk)],
        [("activity", activities[0].pk), ("event", events[0].pk)],
    ]


def test_timeline_pages_are_stable_when_new_entries_arrive(
    admin_user: User, system_actor: Actor
) -> None:
    deal = make_deal()
    for minute in range(6):
        make_activity(deal=deal, occurred_at=_at(minute))
    first = record_timeline("deal", deal.pk, admin_user, limit=3)
    # new entries, newer than everything, arrive while the user reads
    record_event(type="deal.updated", subject=deal, actor=system_actor, occurred_at=_at(60))
    make_activity(deal=deal, occurred_at=_at(61))
    second = record_timeline("deal", deal.pk, admin_user, cursor=first.next_cursor, limit=3)
    minutes = [int((e.occurred_at - T0).total_seconds() // 60) for e in second.entries]
    assert minutes == [2, 1, 0] and second.next_cursor is None


def test_a_contact_timeline_includes_activities_it_took_part_in(
    admin_user: User, system_actor: Actor
) -> None:
    contact = make_contact()
    own = make_activity(contact=contact, occurred_at=_at(1))
    meeting = make_activity(kind="meeting", company=make_company(), occurred_at=_at(2))
    meeting.participants.add(contact)
    make_activity(contact=make_contact(), occurred_at=_at(3))
    page = record_timeline("contact", contact.pk, admin_user)
    assert _keys(page.entries) == [("activity", meeting.pk), ("activity", own.pk)]


def test_a_company_timeline_includes_its_contacts_activities(admin_user: User) -> None:
    company = make_company()
    person = make_contact(company=company)
    on_company = make_activity(company=company, occurred_at=_at(1))
    on_person = make_activity(contact=person, occurred_at=_at(2))
    make_activity(contact=make_contact(), occurred_at=_at(3))
    page = record_timeline("company", company.pk, admin_user)
    assert _keys(page.entries) == [("activity", on_person.pk), ("activity", on_company.pk)]


def test_the_timeline_of_an_invisible_record_is_not_found(
    make_user: Callable[..., User], make_team: Callable[..., Any]
) -> None:
    owner = make_user(team=make_team("East"))
    stranger = make_user(team=make_team("West"))
    deal = make_deal(owner=owner)
    with pytest.raises(NotFound):
        record_timeline("deal", deal.pk, stranger)
    with pytest.raises(ValidationFailed) as error:
        record_timeline("planet", 1, owner)
    assert list(error.value.errors) == ["subject_type"]
    with pytest.raises(ValidationFailed) as bad_cursor:
        record_timeline("deal", deal.pk, owner, cursor="not-a-cursor")
    assert list(bad_cursor.value.errors) == ["cursor"]


def test_timeline_and_history_endpoints_show_every_change_with_actor(
    api_for: Callable[..., Any],
    make_user: Callable[..., User],
    make_team: Callable[..., Any],
    django_assert_num_queries: Any,
) -> None:
    # given a deal created, updated and moved by its owner
    owner = make_user(team=make_team("East"))
    actor = Actor.for_user(owner)
    pipeline = pipeline_with_stages()
    deal = deal_create(title="Roof", pipeline=pipeline, owner=owner, amount=10, actor=actor)
    deal = deal_update(deal=deal, data={"amount": 20}, actor=actor)
    deal = deal_move_stage(deal=deal, stage=stages_of(pipeline)["Won"], actor=actor)
    make_activity(deal=deal, owner=owner, occurred_at=timezone.now() - dt.timedelta(days=1))
    api = api_for(owner)
    api.get(f"timeline/deal/{deal.pk}")
    # when the timeline is read, four queries suffice (token, record, events, activities)
    with django_assert_num_queries(4):
        timeline = api.get(f"timeline/deal/{deal.pk}").json()
    assert [item["type"] for item in timeline["items"]] == [
        "deal.stage_changed",
        "deal.updated",
        "deal.created",
        "activity.call",
    ]
    assert {item["actor_label"] for item in timeline["items"]} == {owner.email}
    # and the field history names before and after
    amount = api.get(f"history/deal/{deal.pk}", {"field": "amount"}).json()
    assert [(c["before"], c["after"]) for c in amount] == [("10.00", "20.00"), (None, "10.00")]
    # and someone outside the team sees neither
    stranger = api_for(make_user(team=make_team("West")))
    assert stranger.get(f"timeline/deal/{deal.pk}").status_code == 404
    assert stranger.get(f"history/deal/{deal.pk}").status_code == 404
    unknown = stranger.get("timeline/planet/1")
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["subject_type"]
