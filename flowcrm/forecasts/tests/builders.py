"""Deals with a back-dated stage history written the way the services write it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.events import build_event, record_events_bulk
from flowcrm.sales.models import Deal, Pipeline, Stage

ACTOR = Actor.system("tests")


def pipeline_with_stages() -> tuple[Pipeline, dict[str, Stage]]:
    pipeline = Pipeline.objects.create(name="New business")
    stages = {}
    for position, (name, probability, won, lost) in enumerate(
        [
            ("Qualify", 20, False, False),
            ("Proposal", 60, False, False),
            ("Won", 100, True, False),
            ("Lost", 0, False, True),
        ]
    ):
        stages[name] = Stage.objects.create(
            pipeline=pipeline,
            name=name,
            position=position,
            probability=probability,
            is_won=won,
            is_lost=lost,
        )
    return pipeline, stages


def deal_with_path(
    pipeline: Pipeline,
    path: list[tuple[Stage, dt.datetime]],
    *,
    amount: str = "1000",
    close_date: dt.date | None = None,
    owner: User | None = None,
    close_date_changes: list[tuple[dt.datetime, dt.date]] = (),  # type: ignore[assignment]
) -> Deal:
    last_stage, last_at = path[-1]
    status = "won" if last_stage.is_won else "lost" if last_stage.is_lost else "open"
    deal = Deal.objects.create(
        title=f"Deal {Deal.objects.count() + 1}",
        amount=Decimal(amount),
        pipeline=pipeline,
        stage=last_stage,
        status=status,
        stage_entered_at=last_at,
        owner=owner,
        expected_close_date=close_date_changes[-1][1] if close_date_changes else close_date,
        closed_at=last_at if status != "open" else None,
        created_at=path[0][1],
    )
    first_stage, first_at = path[0]
    events = [
        build_event(
            type="deal.created",
            subject=deal,
            actor=ACTOR,
            occurred_at=first_at,
            changes={
                "expected_close_date": {
                    "before": None,
                    "after": close_date.isoformat() if close_date else None,
                }
            },
            data={
                "pipeline_id": pipeline.pk,
                "stage_id": first_stage.pk,
                "stage": first_stage.name,
            },
        )
    ]
    previous = first_stage
    for stage, at in path[1:]:
        events.append(
            build_event(
                type="deal.stage_changed",
                subject=deal,
                actor=ACTOR,
                occurred_at=at,
                changes={"stage": {"before": previous.pk, "after": stage.pk}},
                data={
                    "pipeline_id": pipeline.pk,
                    "from_stage_id": previous.pk,
                    "to_stage_id": stage.pk,
                    "from_stage": previous.name,
                    "to_stage": stage.name,
                },
            )
        )
        previous = stage
    for at, new_date in close_date_changes:
        events.append(
            build_event(
                type="deal.updated",
                subject=deal,
                actor=ACTOR,
                occurred_at=at,
                changes={"expected_close_date": {"before": None, "after": new_date.isoformat()}},
            )
        )
    record_events_bulk(events, notify=False)
    return deal
