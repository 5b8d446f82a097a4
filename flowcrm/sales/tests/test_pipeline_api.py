from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowcrm.accounts.models import Role, User
from flowcrm.core.models import Event
from flowcrm.sales.models import Pipeline, Stage
from flowcrm.sales.tests.factories import make_deal, pipeline_with_stages, stages_of

pytestmark = pytest.mark.django_db


def _fields(response: Any) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


def test_an_admin_creates_a_pipeline_with_stages_in_one_event(admin_api: Any) -> None:
    events_before = Event.objects.count()
    response = admin_api.post(
        "pipelines",
        {
            "name": "Partners",
            "currency": "usd",
            "stages": [{"name": "New"}, {"name": "Signed", "is_won": True, "probability": 100}],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["currency"] == "USD"
    assert [(s["name"], s["position"], s["is_won"]) for s in body["stages"]] == [
        ("New", 0, False),
        ("Signed", 1, True),
    ]
    (event,) = Event.objects.order_by("id")[events_before:]
    assert event.type == "pipeline.created"
    assert [s["name"] for s in event.data["stages"]] == ["New", "Signed"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "P", "currency": "EURO"}, "currency"),
        ({"name": "P", "stages": [{"name": "A"}, {"name": "a"}]}, "stages.1.name"),
        (
            {"name": "P", "stages": [{"name": "A", "is_won": True, "is_lost": True}]},
            "stages.0.is_lost",
        ),
        ({"name": "P", "stages": [{"name": "A", "probability": 101}]}, "stages.0.probability"),
    ],
)
def test_bad_pipeline_input_is_rejected(admin_api: Any, body: dict[str, Any], field: str) -> None:
    events_before = Event.objects.count()
    response = admin_api.post("pipelines", body)
    assert response.status_code == 422, response.content
    assert field in _fields(response)
    assert Pipeline.objects.count() == 0 and Event.objects.count() == events_before


def test_only_admins_change_pipelines_and_stages(
    api_for: Callable[..., Any], make_user: Callable[..., User]
) -> None:
    pipeline = pipeline_with_stages()
    stage = stages_of(pipeline)["Qualified"]
    manager = api_for(make_user(role=Role.MANAGER))
    assert manager.get("pipelines").status_code == 200
    assert manager.post("pipelines", {"name": "X"}).status_code == 403
    assert manager.patch(f"stages/{stage.pk}", {"name": "Y"}).status_code == 403
    assert manager.post(f"pipelines/{pipeline.pk}/stages", {"name": "Z"}).status_code == 403
    assert Pipeline.objects.count() == 1 and pipeline.stages.count() == 5


def test_stages_are_added_updated_and_reordered(admin_api: Any) -> None:
    pipeline = pipeline_with_stages()
    stages = stages_of(pipeline)
    added = admin_api.post(
        f"pipelines/{pipeline.pk}/stages", {"name": "Contract", "rotting_days": 7}
    )
    assert added.status_code == 201 and added.json()["position"] == 5
    clash = admin_api.post(f"pipelines/{pipeline.pk}/stages", {"name": "won"})
    assert clash.status_code == 422 and _fields(clash) == ["name"]
    renamed = admin_api.patch(f"stages/{stages['Qualified'].pk}", {"name": "Qualified lead"})
    assert renamed.json()["name"] == "Qualified lead"
    event = Event.objects.filter(type="stage.updated").get()
    assert event.changes == {"name": {"before": "Qualified", "after": "Qualified lead"}}
    order = [added.json()["id"], *[s.pk for s in stages.values()]]
    reordered = admin_api.post(f"pipelines/{pipeline.pk}/stages/reorder", {"stage_ids": order})
    assert [s["id"] for s in reordered.json()] == order
    incomplete = admin_api.post(
        f"pipelines/{pipeline.pk}/stages/reorder", {"stage_ids": order[:-1]}
    )
    assert incomplete.status_code == 422 and _fields(incomplete) == ["stage_ids"]
    assert list(pipeline.stages.order_by("position").values_list("pk", flat=True)) == order


def test_a_stage_holding_deals_cannot_become_won(admin_api: Any) -> None:
    deal = make_deal()
    response = admin_api.patch(f"stages/{deal.stage_id}", {"is_won": True})
    assert response.status_code == 422 and _fields(response) == ["is_won"]
    assert Stage.objects.get(pk=deal.stage_id).is_won is False


def test_making_a_pipeline_the_default_clears_the_previous_one(admin_api: Any) -> None:
    first = pipeline_with_stages("First")
    Pipeline.objects.filter(pk=first.pk).update(is_default=True)
    second = pipeline_with_stages("Second")
    response = admin_api.patch(f"pipelines/{second.pk}", {"is_default": True})
    assert response.json()["is_default"] is True
    assert Pipeline.objects.get(pk=first.pk).is_default is False
    event = Event.objects.get(type="pipeline.updated")
    assert event.data == {"previous_default_id": first.pk}


def test_the_pipeline_list_costs_three_queries(
    admin_api: Any, django_assert_num_queries: Any
) -> None:
    for index in range(5):
        pipeline_with_stages(f"P{index}")
    admin_api.get("pipelines")
    with django_assert_num_queries(3):  # token, pipelines, stages
        response = admin_api.get("pipelines")
    assert len(response.json()) == 5 and all(len(p["stages"]) == 5 for p in response.json())
