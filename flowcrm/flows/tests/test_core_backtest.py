"""Back-test: a flow replayed over past events with set-based enrollment and no side effects."""

from __future__ import annotations

from typing import Any

import pytest

from flowcrm.contacts.models import Contact
from flowcrm.contacts.services import contact_create
from flowcrm.core.actors import Actor
from flowcrm.core.models import Event
from flowcrm.flows.backtest import backtest, backtest_trace
from flowcrm.flows.core.definition import parse_definition


def lead_routing() -> dict[str, Any]:
    return {
        "name": "Route new leads",
        "trigger": {"type": "record_event", "event": "contact.created"},
        "enrollment": {"field": "contact.email", "op": "is_not_empty"},
        "nodes": [
            {
                "id": "score",
                "kind": "branch",
                "config": {
                    "cases": [
                        {
                            "name": "hot",
                            "condition": {"field": "contact.score", "op": "gte", "value": 50},
                        }
                    ]
                },
            },
            {
                "id": "qualify",
                "kind": "action",
                "action": "update_record",
                "config": {"fields": {"lead_status": "qualified"}},
            },
            {"id": "nurture", "kind": "action", "action": "add_tag", "config": {"tag": "nurture"}},
            {"id": "done", "kind": "end"},
        ],
        "edges": [
            {"from": "score", "to": "qualify", "label": "hot"},
            {"from": "score", "to": "nurture", "label": "default"},
            {"from": "qualify", "to": "done"},
            {"from": "nurture", "to": "done"},
        ],
    }


@pytest.fixture
def leads(system_actor: Actor) -> list[Contact]:
    values: list[dict[str, Any]] = [
        {"email": "a@example.com", "score": 80},
        {"email": "b@example.com", "score": 20},
        {"first_name": "No e-mail", "score": 95},
        {"email": "c@example.com", "score": 50},
        {"email": "d@example.com"},
    ]
    return [contact_create(values=v, actor=system_actor) for v in values]


@pytest.mark.django_db
def test_a_backtest_counts_enrollments_paths_and_actions_without_writing(
    leads: list[Contact], django_assert_num_queries: Any
) -> None:
    definition = parse_definition(lead_routing())
    events_before = Event.objects.count()

    # per chunk of 200: events, custom fields, records, tags; plus parsing the conditions once
    with django_assert_num_queries(9):
        result = backtest(definition, limit=100)

    assert result.as_dict() == {
        "considered": 5,
        "enrolled": 4,
        "statuses": {"completed": 4},
        "paths": [
            {
                "path": ["score", "nurture", "done"],
                "count": 2,
                "sample_record_ids": [leads[4].pk, leads[1].pk],
            },
            {
                "path": ["score", "qualify", "done"],
                "count": 2,
                "sample_record_ids": [leads[3].pk, leads[0].pk],
            },
        ],
        "nodes": {"score": 4, "nurture": 2, "done": 4, "qualify": 2},
        "actions": {"add_tag": 2, "update_record": 2},
        "errors": {},
    }
    assert Event.objects.count() == events_before
    assert Contact.objects.filter(lead_status="qualified").count() == 0


@pytest.mark.django_db
def test_a_backtest_limit_takes_the_most_recent_events(leads: list[Contact]) -> None:
    result = backtest(parse_definition(lead_routing()), limit=2)

    assert (result.considered, result.enrolled) == (2, 2)
    assert sorted(result.samples.values()) == [[leads[3].pk], [leads[4].pk]]


@pytest.mark.django_db
def test_a_per_record_trace_shows_the_branch_values_and_the_previewed_action(
    leads: list[Contact],
) -> None:
    trace = backtest_trace(parse_definition(lead_routing()), record_id=leads[0].pk)

    assert trace.trigger_matched is True
    assert trace.path == ["score", "qualify", "done"]
    assert trace.steps[0].detail["cases"][0]["explanation"]["seen"] == 80
    assert trace.steps[1].notes == ["output previewed, not executed"]
    assert Contact.objects.get(pk=leads[0].pk).lead_status != "qualified"
