"""Acceptance: the REST API used end to end the way a new user would, with a CLI-made token.

Given an admin and a token printed by ``flowcrm token create``, the API builds a company, a
contact, a pipeline and a deal, moves the deal through every stage to Won, and the timeline,
field history and events feed tell that story exactly. Bad input through the same API is
refused with a problem document naming the field, and leaves neither a row nor an event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Model
from django.test import Client, override_settings

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.models import CustomFieldDefinition, Event
from flowcrm.sales.models import Deal, Pipeline, Stage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # The users here log in by session or token, never by password; hashing need not be slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


STAGES = [
    {"name": "Qualify", "probability": 10},
    {"name": "Propose", "probability": 40},
    {"name": "Negotiate", "probability": 70},
    {"name": "Won", "probability": 100, "is_won": True},
    {"name": "Lost", "probability": 0, "is_lost": True},
]


class TokenClient:
    """JSON over /api/v1 with the bearer token the CLI printed."""

    def __init__(self, raw_token: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_token}")

    def get(self, path: str) -> Any:
        return self.client.get(f"/api/v1/{path}")

    def post(self, path: str, body: Any) -> Any:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(f"/api/v1/{path}", data=data, content_type="application/json")


def cli_token(user: User, name: str) -> str:
    out = StringIO()
    call_command("token", "create", "--user", user.email.upper(), "--name", name, stdout=out)
    return out.getvalue().strip()


def last_event_id() -> int:
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.fixture
def admin_api_cli(admin_user: User) -> TokenClient:
    return TokenClient(cli_token(admin_user, "acceptance"))


def test_new_user_builds_a_deal_and_wins_it_and_the_log_tells_every_step(
    admin_user: User, admin_api_cli: TokenClient, django_assert_max_num_queries: Any
) -> None:
    # Given an admin whose only credential is the token the CLI printed
    api = admin_api_cli
    cursor = last_event_id()
    actor_label = "admin@example.com (token acceptance)"

    # When they create a company, a contact there, a pipeline and a deal
    company = api.post("companies", {"name": "Acme GmbH", "domain": "https://WWW.Acme.example/"})
    assert company.status_code == 201, company.content
    company_id = company.json()["id"]
    assert company.json()["domain"] == "acme.example"
    contact = api.post(
        "contacts",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "  Ada@Acme.Example ",
            "company_id": company_id,
        },
    )
    assert contact.status_code == 201, contact.content
    contact_id = contact.json()["id"]
    assert contact.json()["email"] == "ada@acme.example"
    assert contact.json()["company"]["id"] == company_id
    pipeline = api.post("pipelines", {"name": "Enterprise", "currency": "EUR", "stages": STAGES})
    assert pipeline.status_code == 201, pipeline.content
    pipeline_id = pipeline.json()["id"]
    stages = {stage["name"]: stage["id"] for stage in pipeline.json()["stages"]}
    assert [stage["name"] for stage in pipeline.json()["stages"]] == [s["name"] for s in STAGES]
    deal = api.post(
        "deals",
        {
            "title": "Acme rollout",
            "pipeline_id": pipeline_id,
            "amount": "12000.50",
            "company_id": company_id,
            "contact_ids": [contact_id],
        },
    )
    assert deal.status_code == 201, deal.content
    deal_id = deal.json()["id"]
    assert deal.json()["stage_id"] == stages["Qualify"]
    assert deal.json()["owner_id"] == admin_user.pk
    assert deal.json()["contact_ids"] == [contact_id]

    # ... and move the deal through every stage to Won
    path = ["Qualify", "Propose", "Negotiate", "Won"]
    for target in path[1:]:
        moved = api.post(f"deals/{deal_id}/move", {"stage_id": stages[target]})
        assert moved.status_code == 200, moved.content
        assert moved.json()["stage_id"] == stages[target]
    assert moved.json()["status"] == "won"
    assert moved.json()["closed_at"] is not None

    # Then the timeline shows every change, newest first, by the token's user
    with django_assert_max_num_queries(8):
        timeline = api.get(f"timeline/deal/{deal_id}")
    assert timeline.status_code == 200, timeline.content
    items = timeline.json()["items"]
    assert [item["type"] for item in items] == ["deal.stage_changed"] * 3 + ["deal.created"]
    assert {(item["kind"], item["actor_kind"], item["actor_label"]) for item in items} == {
        ("event", "token", actor_label)
    }
    moves = list(reversed(items[:3]))
    for (before, after), item in zip(pairwise(path), moves, strict=True):
        assert item["changes"]["stage"] == {"before": stages[before], "after": stages[after]}
        assert (item["data"]["from_stage_id"], item["data"]["to_stage_id"]) == (
            stages[before],
            stages[after],
        )
        assert (item["data"]["from_stage"], item["data"]["to_stage"]) == (before, after)
    assert moves[-1]["changes"]["status"] == {"before": "open", "after": "won"}
    assert "status" not in moves[0]["changes"]
    created = items[3]
    assert created["changes"]["title"] == {"before": None, "after": "Acme rollout"}
    assert created["changes"]["stage"] == {"before": None, "after": stages["Qualify"]}

    # ... and the field history of the stage lists each move with before/after and actor
    with django_assert_max_num_queries(6):
        history = api.get(f"history/deal/{deal_id}?field=stage")
    assert history.status_code == 200, history.content
    assert [
        (row["event_type"], row["before"], row["after"], row["actor_kind"], row["actor_label"])
        for row in history.json()
    ] == [
        ("deal.stage_changed", stages["Negotiate"], stages["Won"], "token", actor_label),
        ("deal.stage_changed", stages["Propose"], stages["Negotiate"], "token", actor_label),
        ("deal.stage_changed", stages["Qualify"], stages["Propose"], "token", actor_label),
        ("deal.created", None, stages["Qualify"], "token", actor_label),
    ]
    status_history = api.get(f"history/deal/{deal_id}?field=status").json()
    assert [(row["before"], row["after"]) for row in status_history] == [
        ("open", "won"),
        (None, "open"),
    ]

    # ... and the events feed lists all of it in id order, for the admin
    with django_assert_max_num_queries(5):
        feed = api.get(f"events?after={cursor}")
    assert feed.status_code == 200, feed.content
    events = feed.json()["items"]
    ids = [event["id"] for event in events]
    assert ids == sorted(ids)
    assert all(event_id > cursor for event_id in ids)
    ours = [
        (event["type"], event["subject_type"], event["subject_id"])
        for event in events
        if event["actor_kind"] == "token"
    ]
    assert ours == [
        ("company.created", "company", company_id),
        ("contact.created", "contact", contact_id),
        ("pipeline.created", "pipeline", pipeline_id),
        ("deal.created", "deal", deal_id),
        ("deal.stage_changed", "deal", deal_id),
        ("deal.stage_changed", "deal", deal_id),
        ("deal.stage_changed", "deal", deal_id),
    ]
    assert {event["actor_user_id"] for event in events if event["actor_kind"] == "token"} == {
        admin_user.pk
    }


def test_events_feed_is_refused_to_a_sales_rep_token(make_user: Callable[..., User]) -> None:
    # Given a sales rep with a CLI token
    rep = make_user()
    api = TokenClient(cli_token(rep, "rep"))
    # When they read the raw events feed
    response = api.get("events?after=0")
    # Then it is forbidden: the feed spans every record
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


# -- bad input leaves nothing -----------------------------------------------------------------


@pytest.fixture
def world(admin_user: User) -> dict[str, Any]:
    """Two pipelines, a company, a deal and a number custom field on deals and contacts."""
    from flowcrm.core.actors import Actor
    from flowcrm.sales import services

    actor = Actor.system("tests")
    main = services.pipeline_create(
        name="Main",
        currency="EUR",
        is_default=True,
        stages=[services.StageSpec(name="New"), services.StageSpec(name="Won", is_won=True)],
        actor=actor,
    )
    other = services.pipeline_create(
        name="Other",
        currency="EUR",
        is_default=False,
        stages=[services.StageSpec(name="Elsewhere")],
        actor=actor,
    )
    for record_type in ("deal", "contact"):
        CustomFieldDefinition.objects.create(
            record_type=record_type, key="seats", label="Seats", field_type="number"
        )
    company = Company.objects.create(name="Acme")
    main_stages = list(main.stages.order_by("position"))
    deal = services.deal_create(
        title="Existing", pipeline=main, stage=main_stages[0], owner=admin_user, actor=actor
    )
    return {
        "pipeline": main,
        "other_stage": other.stages.get(),
        "company": company,
        "deal": deal,
        "stages": main_stages,
    }


MODELS: list[type[Model]] = [Company, Contact, Deal, Pipeline, Stage, Event]


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in MODELS}


BAD_INPUTS: list[tuple[str, str, Callable[[dict[str, Any]], Any], str]] = [
    ("invalid email", "contacts", lambda w: {"first_name": "A", "email": "not-an-email"}, "email"),
    (
        "unknown stage on create",
        "deals",
        lambda w: {"title": "X", "stage_id": 999_999},
        "stage_id",
    ),
    (
        "stage of another pipeline on create",
        "deals",
        lambda w: {"title": "X", "pipeline_id": w["pipeline"].pk, "stage_id": w["other_stage"].pk},
        "stage_id",
    ),
    ("negative amount", "deals", lambda w: {"title": "X", "amount": "-1"}, "amount"),
    (
        "unknown custom field on a deal",
        "deals",
        lambda w: {"title": "X", "custom": {"no_such_field": 1}},
        "custom.no_such_field",
    ),
    (
        "unknown custom field on a contact",
        "contacts",
        lambda w: {"first_name": "A", "custom": {"no_such_field": 1}},
        "custom.no_such_field",
    ),
    (
        "wrong custom field type on a deal",
        "deals",
        lambda w: {"title": "X", "custom": {"seats": "many"}},
        "custom.seats",
    ),
    (
        "wrong custom field type on a contact",
        "contacts",
        lambda w: {"first_name": "A", "custom": {"seats": "many"}},
        "custom.seats",
    ),
    ("malformed JSON", "contacts", lambda w: '{"first_name": "A",', "body"),
    ("malformed JSON on a deal", "deals", lambda w: "{title: 1}", "body"),
    (
        "unknown company",
        "contacts",
        lambda w: {"first_name": "A", "company_id": 999_999},
        "company_id",
    ),
]


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_create_is_refused_naming_the_field_and_writes_nothing(
    world: dict[str, Any],
    admin_api_cli: TokenClient,
    path: str,
    payload: Callable[[dict[str, Any]], Any],
    field: str,
) -> None:
    # Given a populated database
    before = counts()
    # When a create carries bad input
    response = admin_api_cli.post(path, payload(world))
    # Then it is a 4xx problem document naming the field, and nothing is written
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert field in [error["field"] for error in body["errors"]], body
    assert counts() == before


@pytest.mark.parametrize(
    ("stage_key", "field"),
    [("unknown", "stage_id"), ("other_pipeline", "stage_id")],
)
def test_bad_move_is_refused_and_the_deal_stays(
    world: dict[str, Any], admin_api_cli: TokenClient, stage_key: str, field: str
) -> None:
    # Given a deal in the first stage of its pipeline
    deal = world["deal"]
    stage_id = 999_999 if stage_key == "unknown" else world["other_stage"].pk
    before = counts()
    # When it is moved to an unknown stage or one of another pipeline
    response = admin_api_cli.post(f"deals/{deal.pk}/move", {"stage_id": stage_id})
    # Then 422 naming stage_id; the deal did not move and no event was recorded
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert counts() == before
    deal.refresh_from_db()
    assert deal.stage_id == world["stages"][0].pk


def test_negative_amount_on_update_leaves_the_deal_and_the_log(
    world: dict[str, Any], admin_user: User, admin_api_cli: TokenClient
) -> None:
    # Given an existing deal
    deal = world["deal"]
    before = counts()
    # When a PATCH sets a negative amount alongside a valid title
    response = admin_api_cli.client.patch(
        f"/api/v1/deals/{deal.pk}",
        data=json.dumps({"title": "Renamed", "amount": "-5"}),
        content_type="application/json",
    )
    # Then the whole change is refused: neither title nor amount changed, no event
    assert response.status_code == 422, response.content
    assert [error["field"] for error in response.json()["errors"]] == ["amount"]
    deal.refresh_from_db()
    assert (deal.title, str(deal.amount)) == ("Existing", "0.00")
    assert counts() == before


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=512)
@pytest.mark.parametrize("path", ["contacts", "deals", "companies"])
def test_oversized_body_is_refused_with_413_and_writes_nothing(
    world: dict[str, Any], admin_api_cli: TokenClient, path: str
) -> None:
    # Given a body limit of 512 bytes
    before = counts()
    payload = {"first_name": "A", "title": "X", "name": "X", "job_title": "x" * 2000}
    if path != "contacts":
        payload = {("title" if path == "deals" else "name"): "x" * 2000}
    # When a larger body arrives
    response = admin_api_cli.post(path, payload)
    # Then 413 problem+json naming the body; nothing is written
    assert response.status_code == 413, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["body"]
    assert counts() == before
