"""The process view over the API: numbers, filters, refusals and query budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from flowcrm.accounts.models import Role
from flowcrm.insights.tests.process_fixtures import DAY, make_sales_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(admin_user: Any, make_user: Any) -> Any:
    return make_sales_log(owner=admin_user, other_owner=make_user())


def _edges(body: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["source"], e["target"]): e for e in body["dfg"]}


def test_pipeline_process_view_has_every_number(admin_api: Any, sales: Any) -> None:
    # when
    response = admin_api.get(f"insights/pipelines/{sales.pipeline.pk}/process")
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["cases"], body["events"]) == (5, 15)
    edges = _edges(body)
    assert edges[("Lead in", "Qualified")]["count"] == 3
    assert edges[("Lead in", "Qualified")]["median_seconds"] == 1 * DAY
    assert edges[("Demo", "Lost")]["mean_seconds"] == 30 * DAY
    assert body["sojourn"]["Demo"] == {
        "count": 3,
        "mean_seconds": 20 * DAY,
        "median_seconds": 18 * DAY,
        "p90_seconds": pytest.approx(27.6 * DAY),
    }
    funnel = [(s["stage"], s["count"], s["amount"], s["drop_off_pct"]) for s in body["funnel"]]
    assert funnel == [
        ("Lead in", 5, "1500.00", 20.0),
        ("Qualified", 4, "1000.00", 25.0),  # D skipped Qualified but got further: it counts
        ("Demo", 3, "700.00", 33.3),
        ("Won", 2, "500.00", None),
    ]
    assert body["bottlenecks"][0]["activity"] == "Demo"
    assert body["findings"][0] == (
        "Demo holds deals a median of 18 days, 12.0\u00d7 longer than any other stage; "
        "33% of deals that reach it are lost there."
    )
    # five paths of one deal each: equal counts are ordered by the path, shortest prefix first
    assert body["variants"]["top"][0] == {"activities": ["Lead in"], "count": 1, "share": 0.2}
    assert len(body["variants"]["top"]) == 5
    assert body["durations"]["closed_cases"] == 4 and body["durations"]["open_cases"] == 1
    assert sum(week["started"] for week in body["throughput"]) == 5


def test_owner_filter_keeps_only_that_owners_deals(
    admin_api: Any, sales: Any, admin_user: Any
) -> None:
    body = admin_api.get("insights/process/deals", {"owner": admin_user.pk}).json()
    assert body["cases"] == 4


def test_a_sales_rep_sees_only_visible_deals(api_for: Any, make_user: Any, sales: Any) -> None:
    rep = make_user(role=Role.SALES_REP)
    body = api_for(rep).get("insights/process/deals").json()
    assert body["cases"] == 0


def test_window_keeps_cases_that_started_in_it(admin_api: Any, sales: Any) -> None:
    body = admin_api.get(
        "insights/process/deals", {"since": "2026-01-06T09:00:00Z", "until": "2026-01-09"}
    ).json()
    assert body["cases"] == 3  # C, D and E started on days 1-3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
        ({"owner": "x"}, "owner"),
        ({"condition": "{not json"}, "condition"),
        ({"top": "0"}, "top"),
        ({"log": "3"}, "log"),
    ],
)
def test_bad_filters_are_422_naming_the_field(
    admin_api: Any, sales: Any, params: dict[str, str], field: str
) -> None:
    response = admin_api.get("insights/process/deals", params)
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}


def test_unknown_notion_is_404(admin_api: Any, sales: Any) -> None:
    response = admin_api.get("insights/process/tickets")
    assert response.status_code == 404
    assert "tickets" in response.json()["detail"]


def test_unknown_part_is_422(admin_api: Any, sales: Any) -> None:
    response = admin_api.get("insights/process/deals/everything")
    assert response.status_code == 422


def test_a_part_of_the_view(admin_api: Any, sales: Any) -> None:
    body = admin_api.get("insights/process/deals/variants", {"top": "2"}).json()
    assert [v["count"] for v in body["top"]] == [1, 1]
    assert body["other"] == {"count": 3, "variants": 3}


def test_funnel_bar_lists_its_cases(admin_api: Any, sales: Any) -> None:
    body = admin_api.get(
        "insights/process/deals/funnel/3/cases", {"pipeline": sales.pipeline.pk}
    ).json()
    assert body["stage"] == "Won"
    assert sorted(body["cases"]) == sorted([str(sales.deals["A"].pk), str(sales.deals["D"].pk)])


def test_empty_window_is_an_empty_view_not_an_error(admin_api: Any, sales: Any) -> None:
    body = admin_api.get("insights/process/deals", {"since": "2030-01-01"}).json()
    assert (body["cases"], body["dfg"], body["findings"]) == (0, [], [])


def test_process_view_query_budget(
    admin_api: Any, sales: Any, django_assert_num_queries: Any
) -> None:
    admin_api.get("insights/notions")  # warm the token's user
    with django_assert_num_queries(6):
        response = admin_api.get(f"insights/pipelines/{sales.pipeline.pk}/process")
    assert response.status_code == 200


def test_condition_tree_filters_the_deals(admin_api: Any, sales: Any) -> None:
    condition = '{"field": "deal.amount", "op": "gte", "value": 300}'
    body = admin_api.get("insights/process/deals", {"condition": condition}).json()
    assert body["cases"] == 3  # C, D and E


def test_a_bad_condition_is_422_under_condition(admin_api: Any, sales: Any) -> None:
    condition = '{"field": "deal.colour", "op": "eq", "value": "red"}'
    response = admin_api.get("insights/process/deals", {"condition": condition})
    assert response.status_code == 422
    assert all(e["field"].startswith("condition") for e in response.json()["errors"])


def test_contacts_move_through_lifecycle_stages(admin_api: Any) -> None:
    from flowcrm.core.models import Event
    from flowcrm.insights.tests.process_logs import T0

    def lifecycle(contact: int, kind: str, stage: str, day: int) -> Event:
        return Event(
            type=kind,
            subject_type="contact",
            subject_id=contact,
            actor_kind="system",
            changes={"lifecycle_stage": {"before": None, "after": stage}},
            occurred_at=T0 + dt.timedelta(days=day),
        )

    Event.objects.bulk_create(
        [
            lifecycle(1, "contact.created", "lead", 0),
            lifecycle(1, "contact.updated", "mql", 4),
            lifecycle(1, "contact.updated", "customer", 10),
            lifecycle(2, "contact.created", "lead", 1),
            lifecycle(2, "contact.updated", "mql", 3),
            Event(
                type="contact.updated",
                subject_type="contact",
                subject_id=2,
                actor_kind="system",
                changes={"email": {"before": None, "after": "a@b.test"}},
                occurred_at=T0,
            ),
        ]
    )
    body = admin_api.get("insights/process/contacts").json()
    assert [(e["source"], e["target"], e["count"]) for e in body["dfg"]] == [
        ("lead", "mql", 2),
        ("mql", "customer", 1),
    ]
    assert body["sojourn"]["lead"]["mean_seconds"] == 3 * DAY
    assert [(s["stage"], s["count"]) for s in body["funnel"]][:4] == [
        ("subscriber", 2),  # reached means passed or went beyond
        ("lead", 2),
        ("mql", 2),
        ("sql", 1),
    ]
