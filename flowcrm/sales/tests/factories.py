"""Test factories for pipelines (with stages), deals, and the companies/contacts deals link to.

Rows are created directly (no events), so a test can count the events its own call writes.
Plain typed functions: each takes field overrides and returns a saved row.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from flowcrm.contacts.models import Company, Contact
from flowcrm.sales.models import Deal, DealStatus, Pipeline, Stage

DEFAULT_OPEN_STAGES = ("Lead in", "Qualified", "Proposal")
_numbers = itertools.count(1)


def make_company(**fields: Any) -> Company:
    fields.setdefault("name", f"Company {next(_numbers)}")
    return Company.objects.create(**fields)


def make_contact(**fields: Any) -> Contact:
    number = next(_numbers)
    fields.setdefault("first_name", f"Person{number}")
    fields.setdefault("last_name", "Example")
    fields.setdefault("email", f"person{number}@example.com")
    return Contact.objects.create(**fields)


def pipeline_with_stages(
    name: str | None = None,
    *,
    open_stages: Sequence[str] = DEFAULT_OPEN_STAGES,
    rotting_days: int | None = None,
) -> Pipeline:
    """A pipeline with ``open_stages`` then "Won" and "Lost" (read them via ``stages_of``)."""
    pipeline = Pipeline.objects.create(name=name or f"Pipeline {next(_numbers)}")
    stages = [
        Stage(
            pipeline=pipeline,
            name=stage_name,
            position=position,
            probability=min(90, 10 * (position + 1)),
            rotting_days=rotting_days,
        )
        for position, stage_name in enumerate(open_stages)
    ]
    stages.append(
        Stage(pipeline=pipeline, name="Won", position=len(stages), probability=100, is_won=True)
    )
    stages.append(Stage(pipeline=pipeline, name="Lost", position=len(stages), is_lost=True))
    Stage.objects.bulk_create(stages)
    return pipeline


def stages_of(pipeline: Pipeline) -> dict[str, Stage]:
    return {stage.name: stage for stage in pipeline.stages.order_by("position")}


def make_deal(**fields: Any) -> Deal:
    """A deal; defaults: a new pipeline, its first stage, amount 1000, status from the stage."""
    if "pipeline" not in fields:
        fields["pipeline"] = (
            fields["stage"].pipeline if "stage" in fields else pipeline_with_stages()
        )
    if "stage" not in fields:
        fields["stage"] = fields["pipeline"].stages.order_by("position").first()
    stage: Stage = fields["stage"]
    fields.setdefault("title", f"Deal {next(_numbers)}")
    fields.setdefault("amount", Decimal("1000.00"))
    if stage.is_won or stage.is_lost:
        fields.setdefault("status", DealStatus.WON if stage.is_won else DealStatus.LOST)
        fields.setdefault("closed_at", timezone.now())
    return Deal.objects.create(**fields)


def days_ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
