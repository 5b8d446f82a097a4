from __future__ import annotations

from decimal import Decimal

import pytest

from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event
from flowcrm.sales.models import Deal, DealStatus
from flowcrm.sales.services import (
    deal_contact_link,
    deal_contact_unlink,
    deal_create,
    deal_delete,
    deal_move_stage,
    deal_update,
)
from flowcrm.sales.tests.factories import (
    make_company,
    make_contact,
    make_deal,
    pipeline_with_stages,
    stages_of,
)

pytestmark = pytest.mark.django_db


def _events_since(before_id: int) -> list[Event]:
    return list(Event.objects.filter(id__gt=before_id).order_by("id"))


def _last_event_id() -> int:
    last = Event.objects.order_by("-id").first()
    return last.id if last else 0


def test_creating_a_deal_writes_the_row_and_one_created_event(system_actor: Actor) -> None:
    # given a pipeline, a company and a contact
    pipeline = pipeline_with_stages()
    company, contact = make_company(), make_contact()
    before = _last_event_id()
    # when a deal is created without a stage
    deal = deal_create(
        title="  Big deal ",
        pipeline=pipeline,
        amount="1234.50",
        company=company,
        contacts=[contact],
        actor=system_actor,
    )
    # then it sits in the first stage, open, and exactly one event describes it
    first = stages_of(pipeline)["Lead in"]
    assert (deal.title, deal.stage_id, deal.status) == ("Big deal", first.pk, "open")
    assert deal.amount == Decimal("1234.50") and deal.currency == "EUR"
    assert list(deal.contacts.all()) == [contact]
    events = _events_since(before)
    assert [e.type for e in events] == ["deal.created"]
    event = events[0]
    assert (event.subject_type, event.subject_id) == ("deal", deal.pk)
    assert event.data == {
        "pipeline_id": pipeline.pk,
        "stage_id": first.pk,
        "stage": "Lead in",
        "status": "open",
    }
    assert event.changes["title"] == {"before": None, "after": "Big deal"}
    assert event.changes["amount"] == {"before": None, "after": "1234.50"}
    assert event.changes["company"] == {"before": None, "after": company.pk}
    assert event.changes["contacts"] == {"before": None, "after": [contact.pk]}


@pytest.mark.parametrize(
    ("amount", "field"),
    [("-1", "amount"), ("abc", "amount"), ("1.234", "amount")],
)
def test_a_bad_amount_is_rejected_and_nothing_is_written(
    system_actor: Actor, amount: str, field: str
) -> None:
    pipeline = pipeline_with_stages()
    before = _last_event_id()
    with pytest.raises(ValidationFailed) as error:
        deal_create(title="Deal", pipeline=pipeline, amount=amount, actor=system_actor)
    assert list(error.value.errors) == [field]
    assert Deal.objects.count() == 0
    assert _events_since(before) == []


def test_creating_a_deal_in_a_stage_of_another_pipeline_is_rejected(system_actor: Actor) -> None:
    pipeline, other = pipeline_with_stages("A"), pipeline_with_stages("B")
    before = _last_event_id()
    with pytest.raises(ValidationFailed) as error:
        deal_create(
            title="Deal",
            pipeline=pipeline,
            stage=stages_of(other)["Qualified"],
            actor=system_actor,
        )
    assert list(error.value.errors) == ["stage_id"]
    assert Deal.objects.count() == 0 and _events_since(before) == []


def test_creating_a_deal_in_a_won_stage_closes_it(system_actor: Actor) -> None:
    pipeline = pipeline_with_stages()
    deal = deal_create(
        title="Signed", pipeline=pipeline, stage=stages_of(pipeline)["Won"], actor=system_actor
    )
    assert deal.status == DealStatus.WON and deal.closed_at is not None
    assert Event.objects.get(subject_id=deal.pk).data["status"] == "won"


def test_moving_a_deal_records_one_stage_changed_event_with_the_documented_data(
    system_actor: Actor,
) -> None:
    # given an open deal in the first stage
    deal = make_deal()
    stages = stages_of(deal.pipeline)
    entered_before = deal.stage_entered_at
    before = _last_event_id()
    # when it moves to the second stage
    moved = deal_move_stage(deal=deal, stage=stages["Qualified"], actor=system_actor)
    # then the row and exactly one event say so
    assert moved.stage_id == stages["Qualified"].pk and moved.status == "open"
    assert moved.stage_entered_at > entered_before
    (event,) = _events_since(before)
    assert event.type == "deal.stage_changed"
    assert event.data == {
        "pipeline_id": deal.pipeline_id,
        "from_stage_id": stages["Lead in"].pk,
        "to_stage_id": stages["Qualified"].pk,
        "from_stage": "Lead in",
        "to_stage": "Qualified",
        "from_status": "open",
        "to_status": "open",
    }
    assert set(event.changes) == {"stage", "stage_entered_at"}
    assert event.changes["stage"] == {
        "before": stages["Lead in"].pk,
        "after": stages["Qualified"].pk,
    }


def test_moving_to_lost_closes_the_deal_and_moving_back_reopens_it(system_actor: Actor) -> None:
    deal = make_deal()
    stages = stages_of(deal.pipeline)
    lost = deal_move_stage(
        deal=deal, stage=stages["Lost"], lost_reason="Too expensive", actor=system_actor
    )
    assert (lost.status, lost.lost_reason) == ("lost", "Too expensive")
    assert lost.closed_at is not None
    lost_event = Event.objects.filter(type="deal.stage_changed").latest("id")
    assert lost_event.data["to_status"] == "lost"
    assert set(lost_event.changes) == {
        "stage",
        "status",
        "closed_at",
        "stage_entered_at",
        "lost_reason",
    }
    reopened = deal_move_stage(deal=lost, stage=stages["Proposal"], actor=system_actor)
    assert (reopened.status, reopened.closed_at, reopened.lost_reason) == ("open", None, "")
    reopen_event = Event.objects.filter(type="deal.stage_changed").latest("id")
    assert (reopen_event.data["from_status"], reopen_event.data["to_status"]) == ("lost", "open")
    assert reopen_event.changes["closed_at"]["after"] is None


def test_moving_to_a_stage_of_another_pipeline_is_rejected_without_an_event(
    system_actor: Actor,
) -> None:
    deal = make_deal()
    other = pipeline_with_stages("Other")
    before = _last_event_id()
    with pytest.raises(ValidationFailed) as error:
        deal_move_stage(deal=deal, stage=stages_of(other)["Won"], actor=system_actor)
    assert list(error.value.errors) == ["stage_id"]
    deal.refresh_from_db()
    assert deal.stage.name == "Lead in" and deal.status == "open"
    assert _events_since(before) == []


def test_moving_to_the_current_stage_is_rejected(system_actor: Actor) -> None:
    deal = make_deal()
    before = _last_event_id()
    with pytest.raises(ValidationFailed):
        deal_move_stage(deal=deal, stage=deal.stage, actor=system_actor)
    assert _events_since(before) == []


def test_updating_a_deal_records_only_changed_fields(system_actor: Actor) -> None:
    deal = make_deal(amount=Decimal("10.00"))
    before = _last_event_id()
    updated = deal_update(deal=deal, data={"amount": "25", "title": deal.title}, actor=system_actor)
    assert updated.amount == Decimal("25.00")
    (event,) = _events_since(before)
    assert event.type == "deal.updated"
    assert event.changes == {"amount": {"before": "10.00", "after": "25.00"}}


def test_an_update_that_changes_nothing_records_nothing(system_actor: Actor) -> None:
    deal = make_deal()
    before = _last_event_id()
    deal_update(deal=deal, data={"title": deal.title}, actor=system_actor)
    assert _events_since(before) == []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"stage": 1}, "stage_id"),
        ({"amount": "-5"}, "amount"),
        ({"title": "  "}, "title"),
        ({"currency": "EURO"}, "currency"),
        ({"forecast_category": "maybe"}, "forecast_category"),
        ({"custom": {"nope": 1}}, "custom.nope"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_update_is_rejected_and_nothing_is_written(
    system_actor: Actor, data: dict[str, object], field: str
) -> None:
    deal = make_deal(amount=Decimal("10.00"))
    before = _last_event_id()
    with pytest.raises(ValidationFailed) as error:
        deal_update(deal=deal, data=data, actor=system_actor)
    assert field in error.value.errors
    deal.refresh_from_db()
    assert deal.amount == Decimal("10.00")
    assert _events_since(before) == []


def test_linking_and_unlinking_a_contact_records_one_event_each(system_actor: Actor) -> None:
    deal, contact = make_deal(), make_contact()
    before = _last_event_id()
    deal_contact_link(deal=deal, contact=contact, actor=system_actor)
    deal_contact_unlink(deal=deal, contact=contact, actor=system_actor)
    link, unlink = _events_since(before)
    assert link.changes == {"contacts": {"before": [], "after": [contact.pk]}}
    assert unlink.changes == {"contacts": {"before": [contact.pk], "after": []}}
    assert deal.contacts.count() == 0
    with pytest.raises(ValidationFailed) as error:
        deal_contact_unlink(deal=deal, contact=contact, actor=system_actor)
    assert list(error.value.errors) == ["contact_id"]


def test_deleting_a_deal_records_its_title(system_actor: Actor) -> None:
    deal = make_deal(title="Gone")
    deal_id = deal.pk
    before = _last_event_id()
    deal_delete(deal=deal, actor=system_actor)
    (event,) = _events_since(before)
    assert (event.type, event.subject_id, event.data["title"]) == ("deal.deleted", deal_id, "Gone")
    assert not Deal.objects.filter(pk=deal_id).exists()
