"""A pipeline with real deals and their stage events, for API and page tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from flowcrm.accounts.models import User
from flowcrm.insights.tests.process_logs import T0, write_cases
from flowcrm.sales.models import Deal, Pipeline, Stage

STAGES = (
    ("Lead in", False, False),
    ("Qualified", False, False),
    ("Demo", False, False),
    ("Won", True, False),
    ("Lost", False, True),
)

DAY = 86400
# deal title -> (amount, path of (stage, days after T0))
PATHS: dict[str, tuple[int, tuple[tuple[str, float], ...]]] = {
    "A": (100, (("Lead in", 0), ("Qualified", 1), ("Demo", 2), ("Won", 20))),
    "B": (200, (("Lead in", 0), ("Qualified", 2), ("Demo", 3), ("Lost", 33))),
    "C": (300, (("Lead in", 1), ("Qualified", 2), ("Lost", 3))),
    "D": (400, (("Lead in", 2), ("Demo", 4), ("Won", 16))),
    "E": (500, (("Lead in", 3),)),
}


@dataclass
class SalesLog:
    pipeline: Pipeline
    deals: dict[str, Deal]


def make_sales_log(owner: User | None = None, other_owner: User | None = None) -> SalesLog:
    """Pipeline "Sales" with deals A to E (E is owned by ``other_owner``) and their events."""
    pipeline = Pipeline.objects.create(name="Sales", is_default=True)
    stages = {
        name: Stage.objects.create(
            pipeline=pipeline, name=name, position=i, is_won=won, is_lost=lost
        )
        for i, (name, won, lost) in enumerate(STAGES)
    }
    deals: dict[str, Deal] = {}
    cases = []
    for title, (amount, path) in PATHS.items():
        deal = Deal.objects.create(
            title=title,
            amount=Decimal(amount),
            pipeline=pipeline,
            stage=stages[path[-1][0]],
            owner=other_owner if title == "E" else owner,
        )
        deals[title] = deal
        cases.append(
            (deal.pk, [(stage, T0 + dt.timedelta(seconds=days * DAY)) for stage, days in path])
        )
    write_cases(cases, pipeline_id=pipeline.pk)
    return SalesLog(pipeline=pipeline, deals=deals)
