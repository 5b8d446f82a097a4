from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from flowcrm.accounts.models import Role, User
from flowcrm.core.models import CustomFieldDefinition, Event
from flowcrm.sales.models import Deal
from flowcrm.sales.tests.factories import (
    make_company,
    make_contact,
    make_deal,
    pipeline_with_stages,
    stages_of,
)

pytestmark = pytest.mark.django_db


def _fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


@pytest.fixture
def rep(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.SALES_REP)


def test_a_rep_creates_moves_and_reads_a_deal(api_for: Callable[..., Any], rep: User) -> None:
    # given a pipeline
    pipeline = pipeline_with_stages()
    stages = stages_of(pipeline)
    api = api_for(rep)
    # when a rep creates a deal and moves it to won
    created = api.post("deals", {"title": "Roof", "pipeline_id": pipeline.pk, "amount": "5000.00"})
    assert created.status_code == 201, created.content
    deal_id = created.json()["id"]
    moved = api.post(f"deals/{deal_id}/move", {"stage_id": stages["Won"].pk})
    # then the deal is won, owned by the rep, and two events tell the story
    assert moved.status_code == 200, moved.content
    body = moved.json()
    assert body["status"] == "won" and body["stage_id"] == stages["Won"].pk
    assert body["owner_id"] == rep.pk and body["closed_at"] is not None
    assert Decimal(body["amount"]) == Decimal("5000.00")
    types = list(
        Event.objects.filter(subject_type="deal", subject_id=deal_id)
        .order_by("id")
        .values_list("type", "actor_kind")
    )
    assert types == [("deal.created", "token"), ("deal.stage_changed", "token")]
    history = api.get(f"deals/{deal_id}/stage-history").json()
    assert [visit["stage"] for visit in history] == ["Lead in", "Won"]
    assert history[0]["left_at"] == history[1]["entered_at"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "X", "amount": "-1"}, "amount"),
        ({"title": "X", "amount": "lots"}, "amount"),
        ({"title": "", "amount": "1"}, "title"),
        ({"title": "X", "stage_id": 999999}, "stage_id"),
        ({"title": "X", "pipeline_id": 999999}, "pipeline_id"),
        ({"title": "X", "company_id": 999999}, "company_id"),
        ({"title": "X", "contact_ids": [999999]}, "contact_ids.0"),
        ({"title": "X", "owner_id": 999999}, "owner_id"),
        ({"title": "X", "custom": {"unknown": 1}}, "custom.unknown"),
        ({"title": "X", "expected_close_date": "31/12/2026"}, "expected_close_date"),
        ({"amount": "1"}, "title"),
    ],
)
def test_bad_deal_input_is_a_422_naming_the_field_and_writes_nothing(
    api_for: Callable[..., Any], rep: User, body: dict[str, Any], field: str
) -> None:
    pipeline = pipeline_with_stages()
    body = {"pipeline_id": pipeline.pk, **body}
    api = api_for(rep)
    events_before = Event.objects.count()
    response = api.post("deals", body)
    assert response.status_code == 422, response.content
    assert field in _fields(response)
    assert Deal.objects.count() == 0
    assert Event.objects.count() == events_before


def test_a_stage_of_another_pipeline_is_rejected_on_create_and_move(
    api_for: Callable[..., Any], rep: User
) -> None:
    pipeline, other = pipeline_with_stages("Main"), pipeline_with_stages("Other")
    api = api_for(rep)
    response = api.post(
        "deals",
        {"title": "X", "pipeline_id": pipeline.pk, "stage_id": stages_of(other)["Won"].pk},
    )
    assert response.status_code == 422 and _fields(response) == ["stage_id"]
    deal = make_deal(pipeline=pipeline, owner=rep)
    events_before = Event.objects.count()
    moved = api.post(f"deals/{deal.pk}/move", {"stage_id": stages_of(other)["Won"].pk})
    assert moved.status_code == 422 and _fields(moved) == ["stage_id"]
    unknown = api.post(f"deals/{deal.pk}/move", {"stage_id": 987654})
    assert unknown.status_code == 422 and _fields(unknown) == ["stage_id"]
    deal.refresh_from_db()
    assert deal.stage.name == "Lead in"
    assert Event.objects.count() == events_before


def test_patch_changes_fields_but_not_the_stage(api_for: Callable[..., Any], rep: User) -> None:
    deal = make_deal(owner=rep, amount=Decimal("10.00"))
    api = api_for(rep)
    events_before = Event.objects.count()
    refused = api.patch(f"deals/{deal.pk}", {"stage_id": stages_of(deal.pipeline)["Won"].pk})
    assert refused.status_code == 422 and _fields(refused) == ["stage_id"]
    negative = api.patch(f"deals/{deal.pk}", {"amount": "-3"})
    assert negative.status_code == 422 and _fields(negative) == ["amount"]
    assert Event.objects.count() == events_before
    changed = api.patch(f"deals/{deal.pk}", {"amount": "20.5", "title": "Renamed"})
    assert changed.status_code == 200
    assert changed.json()["title"] == "Renamed"
    event = Event.objects.get(type="deal.updated", subject_id=deal.pk)
    assert event.changes == {
        "amount": {"before": "10.00", "after": "20.50"},
        "title": {"before": deal.title, "after": "Renamed"},
    }


def test_rep_a_cannot_read_update_move_or_delete_rep_b_deal(
    api_for: Callable[..., Any], make_user: Callable[..., User], make_team: Callable[..., Any]
) -> None:
    # given two reps in different teams, and a deal of rep B
    rep_a = make_user(team=make_team("East"))
    rep_b = make_user(team=make_team("West"))
    deal = make_deal(owner=rep_b)
    won = stages_of(deal.pipeline)["Won"]
    api = api_for(rep_a)
    events_before = Event.objects.count()
    # when rep A tries every operation, then every one is a 404 and nothing changes
    assert api.get(f"deals/{deal.pk}").status_code == 404
    assert api.patch(f"deals/{deal.pk}", {"title": "Mine"}).status_code == 404
    assert api.post(f"deals/{deal.pk}/move", {"stage_id": won.pk}).status_code == 404
    assert api.delete(f"deals/{deal.pk}").status_code == 404
    assert api.get("deals").json()["items"] == []
    deal.refresh_from_db()
    assert deal.title != "Mine" and deal.status == "open"
    assert Event.objects.count() == events_before
    # and rep B (and a manager) see it
    assert api_for(rep_b).get(f"deals/{deal.pk}").status_code == 200


def test_read_only_users_cannot_write(
    api_for: Callable[..., Any], make_user: Callable[..., User]
) -> None:
    viewer = make_user(role=Role.READ_ONLY)
    deal = make_deal()
    api = api_for(viewer)
    events_before = Event.objects.count()
    assert api.get(f"deals/{deal.pk}").status_code == 200
    assert api.patch(f"deals/{deal.pk}", {"title": "x"}).status_code == 403
    response = api.post("deals", {"title": "x", "pipeline_id": deal.pipeline_id})
    assert response.status_code == 403
    assert Deal.objects.count() == 1
    assert Event.objects.count() == events_before


def test_deal_list_filters(api_for: Callable[..., Any], admin_user: User) -> None:
    pipeline = pipeline_with_stages()
    stages = stages_of(pipeline)
    company = make_company()
    CustomFieldDefinition.objects.create(
        record_type="deal", key="region", label="Region", field_type="choice", choices=["eu", "us"]
    )
    CustomFieldDefinition.objects.create(
        record_type="deal", key="seats", label="Seats", field_type="number"
    )
    small = make_deal(pipeline=pipeline, amount=Decimal("100"), custom={"region": "eu", "seats": 5})
    big = make_deal(
        pipeline=pipeline,
        amount=Decimal("9000"),
        company=company,
        custom={"region": "us", "seats": 50},
    )
    won = make_deal(stage=stages["Won"], amount=Decimal("500"))
    api = api_for(admin_user)

    def ids(**params: Any) -> list[int]:
        response = api.get("deals", params)
        assert response.status_code == 200, response.content
        return sorted(item["id"] for item in response.json()["items"])

    assert ids(status="won") == [won.pk]
    assert ids(amount_min="500", amount_max="9000") == sorted([big.pk, won.pk])
    assert ids(company_id=company.pk) == [big.pk]
    assert ids(stage_id=stages["Lead in"].pk) == sorted([small.pk, big.pk])
    assert ids(**{"custom.region": "eu"}) == [small.pk]
    assert ids(**{"custom.seats__gte": "10"}) == [big.pk]
    bad = api.get("deals", {"custom.colour": "red"})
    assert bad.status_code == 422 and _fields(bad) == ["custom.colour"]
    bad_sort = api.get("deals", {"sort": "owner"})
    assert bad_sort.status_code == 422 and _fields(bad_sort) == ["sort"]
    bad_status = api.get("deals", {"status": "maybe"})
    assert bad_status.status_code == 422 and _fields(bad_status) == ["status"]


def test_keyset_pages_of_deals_are_stable_when_deals_are_added(
    api_for: Callable[..., Any], admin_user: User
) -> None:
    # given five deals with distinct amounts
    pipeline = pipeline_with_stages()
    deals = [make_deal(pipeline=pipeline, amount=Decimal(amount)) for amount in (5, 4, 3, 2, 1)]
    api = api_for(admin_user)
    first = api.get("deals", {"sort": "-amount", "limit": 2}).json()
    assert [d["id"] for d in first["items"]] == [deals[0].pk, deals[1].pk]
    # when deals are added before and after the cursor position
    make_deal(pipeline=pipeline, amount=Decimal(10))
    make_deal(pipeline=pipeline, amount=Decimal("0.5"))
    # then the next pages continue exactly where the first ended
    second = api.get("deals", {"sort": "-amount", "limit": 2, "cursor": first["next_cursor"]})
    assert [d["id"] for d in second.json()["items"]] == [deals[2].pk, deals[3].pk]
    third = api.get(
        "deals", {"sort": "-amount", "limit": 2, "cursor": second.json()["next_cursor"]}
    ).json()
    assert Decimal(third["items"][0]["amount"]) == Decimal(1)
    assert Decimal(third["items"][1]["amount"]) == Decimal("0.5")


def test_the_deal_list_costs_the_same_queries_for_many_deals(
    api_for: Callable[..., Any], admin_user: User, django_assert_num_queries: Any
) -> None:
    pipeline = pipeline_with_stages()
    contact = make_contact()
    for _ in range(30):
        make_deal(pipeline=pipeline).contacts.add(contact)
    api = api_for(admin_user)
    api.get("deals", {"limit": 1})  # the token's last-used time is now fresh
    # the token (with its user), the deals with their stages, their contacts
    with django_assert_num_queries(3):
        response = api.get("deals", {"limit": 25})
    assert len(response.json()["items"]) == 25
    assert response.json()["items"][0]["contact_ids"] == [contact.pk]


def test_contacts_link_and_unlink_via_the_api(api_for: Callable[..., Any], rep: User) -> None:
    deal = make_deal(owner=rep)
    contact = make_contact(owner=rep)
    api = api_for(rep)
    linked = api.post(f"deals/{deal.pk}/contacts", {"contact_id": contact.pk})
    assert linked.status_code == 200 and linked.json()["contact_ids"] == [contact.pk]
    unknown = api.post(f"deals/{deal.pk}/contacts", {"contact_id": 424242})
    assert unknown.status_code == 422 and _fields(unknown) == ["contact_id"]
    unlinked = api.delete(f"deals/{deal.pk}/contacts/{contact.pk}")
    assert unlinked.status_code == 200 and unlinked.json()["contact_ids"] == []


def test_deleting_a_deal_via_the_api(api_for: Callable[..., Any], rep: User) -> None:
    deal = make_deal(owner=rep)
    assert api_for(rep).delete(f"deals/{deal.pk}").status_code == 204
    assert not Deal.objects.filter(pk=deal.pk).exists()
    assert Event.objects.filter(type="deal.deleted", subject_id=deal.pk).count() == 1
