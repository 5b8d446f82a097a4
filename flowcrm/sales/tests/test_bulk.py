"""Bulk deals: the final row plus a back-dated history of events, as the services record it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event
from flowcrm.sales.bulk import PathStep, deal_bulk_create
from flowcrm.sales.models import Deal
from flowcrm.sales.services import deal_create, deal_move_stage
from flowcrm.sales.tests.factories import make_company, pipeline_with_stages, stages_of

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 1, 6, 9, 0, tzinfo=dt.UTC)


def _times_removed(changes: dict[str, Any]) -> dict[str, Any]:
    """Changes with datetime values replaced by a marker (the services stamp "now")."""
    timed = {"stage_entered_at", "closed_at"}
    return {
        field: {
            side: ("<time>" if field in timed and value is not None else value)
            for side, value in change.items()
        }
        for field, change in changes.items()
    }


def test_a_bulk_deal_history_is_what_the_services_would_have_recorded(
    system_actor: Actor,
) -> None:
    # given a pipeline and a company
    pipeline = pipeline_with_stages()
    stage = stages_of(pipeline)
    company = make_company()
    path = [
        PathStep(stage["Lead in"].pk, T0),
        PathStep(stage["Qualified"].pk, T0 + dt.timedelta(days=3)),
        PathStep(stage["Lost"].pk, T0 + dt.timedelta(days=9)),
        PathStep(stage["Proposal"].pk, T0 + dt.timedelta(days=20)),
        PathStep(stage["Won"].pk, T0 + dt.timedelta(days=30)),
    ]
    # when a deal is created in bulk with that path
    [deal_id] = deal_bulk_create(
        [
            {
                "title": "Pilot",
                "amount": "1200.50",
                "pipeline_id": pipeline.pk,
                "company_id": company.pk,
                "lost_reason": "No budget",
                "path": path,
            }
        ],
        actor=system_actor,
    )
    # and a twin is walked through the same stages by the services
    twin = deal_create(
        title="Pilot",
        pipeline=pipeline,
        amount=Decimal("1200.50"),
        company=company,
        actor=system_actor,
    )
    for step in path[1:]:
        twin = deal_move_stage(
            deal=twin,
            stage=stage_by_pk(pipeline, step.stage_id),
            lost_reason="No budget",
            actor=system_actor,
        )
    # then the row is in its final state, back-dated
    deal = Deal.objects.get(pk=deal_id)
    assert (deal.stage_id, deal.status, deal.lost_reason) == (stage["Won"].pk, "won", "")
    assert (deal.created_at, deal.stage_entered_at, deal.closed_at) == (
        T0,
        path[-1].entered_at,
        path[-1].entered_at,
    )
    # and the events tell the history at the path's times
    events = list(Event.objects.filter(subject_type="deal", subject_id=deal_id).order_by("id"))
    assert [(e.type, e.occurred_at) for e in events] == [
        ("deal.created", T0),
        *[("deal.stage_changed", step.entered_at) for step in path[1:]],
    ]
    assert events[2].changes["closed_at"] == {
        "before": None,
        "after": path[2].entered_at.isoformat(),
    }
    assert events[2].changes["lost_reason"] == {"before": "", "after": "No budget"}
    assert events[1].data == {
        "pipeline_id": pipeline.pk,
        "from_stage_id": stage["Lead in"].pk,
        "to_stage_id": stage["Qualified"].pk,
        "from_stage": "Lead in",
        "to_stage": "Qualified",
        "from_status": "open",
        "to_status": "open",
    }
    # and each event has the data and changes of the services' twin event (times aside)
    twin_events = list(Event.objects.filter(subject_type="deal", subject_id=twin.pk).order_by("id"))
    assert [e.type for e in events] == [e.type for e in twin_events]
    assert [e.data for e in events] == [e.data for e in twin_events]
    assert [_times_removed(e.changes) for e in events] == [
        _times_removed(e.changes) for e in twin_events
    ]


def stage_by_pk(pipeline: Any, pk: int) -> Any:
    return pipeline.stages.get(pk=pk)


def test_a_deal_without_a_path_starts_in_the_first_stage(system_actor: Actor) -> None:
    # given a pipeline
    pipeline = pipeline_with_stages()
    # when a deal is created in bulk without a path
    [deal_id] = deal_bulk_create(
        [{"title": "Simple", "pipeline_id": pipeline.pk, "created_at": T0}], actor=system_actor
    )
    # then it is open in the first stage with one created event
    deal = Deal.objects.get(pk=deal_id)
    assert (deal.stage.name, deal.status, deal.created_at) == ("Lead in", "open", T0)
    assert list(
        Event.objects.filter(subject_id=deal_id, subject_type="deal").values_list("type", flat=True)
    ) == ["deal.created"]


def test_a_stage_of_another_pipeline_rejects_the_batch(system_actor: Actor) -> None:
    # given two pipelines
    pipeline, other = pipeline_with_stages(), pipeline_with_stages()
    events_before = Event.objects.count()
    rows = [
        {"title": "Good", "pipeline_id": pipeline.pk},
        {
            "title": "Bad",
            "pipeline_id": pipeline.pk,
            "path": [(stages_of(pipeline)["Lead in"].pk, T0), (stages_of(other)["Won"].pk, T0)],
        },
        {"title": "", "pipeline_id": pipeline.pk, "amount": "-5"},
    ]
    # when created in bulk
    with pytest.raises(ValidationFailed) as failure:
        deal_bulk_create(rows, actor=system_actor)
    # then the bad rows are named and nothing was written
    assert set(failure.value.errors) == {"rows.1.path.1.stage_id", "rows.2.title", "rows.2.amount"}
    assert Deal.objects.count() == 0
    assert Event.objects.count() == events_before
