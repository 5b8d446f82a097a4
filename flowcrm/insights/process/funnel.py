"""The stage funnel: how many cases reached each stage, and how many dropped off on the way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from flowcrm.insights.process.log import EventLog


@dataclass(frozen=True)
class FunnelStep:
    stage: str
    position: int
    count: int
    amount: Decimal
    drop_off_pct: float | None  # to the next step; None for the last step
    conversion_pct: float  # of the cases that entered the funnel

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "position": self.position,
            "count": self.count,
            "amount": str(self.amount),
            "drop_off_pct": self.drop_off_pct,
            "conversion_pct": self.conversion_pct,
        }


def furthest_positions(log: EventLog, stage_order: Sequence[str]) -> np.ndarray:
    """Per case (in case order), the furthest position in ``stage_order`` it reached; -1: none.

    "Reached" counts skips: a deal that jumps from Demo to Negotiation has reached Proposal too,
    as in every sales funnel. Activities outside ``stage_order`` (lost) do not move a case.
    """
    if log.case_count == 0:
        return np.zeros(0, dtype=np.int64)
    index = {name: position for position, name in enumerate(stage_order)}
    position_of_code = np.array([index.get(name, -1) for name in log.activity_names], np.int64)
    positions = position_of_code[log.activities]
    return np.maximum.reduceat(positions, log.case_bounds[:-1])


def funnel(
    log: EventLog, stage_order: Sequence[str], amounts: Mapping[str, Decimal] | None = None
) -> list[FunnelStep]:
    """One step per stage of ``stage_order``: cases that reached it (count and amount) and the
    drop-off to the next step, ``100 * (reached_i - reached_i+1) / reached_i``."""
    if not stage_order:
        return []
    furthest = furthest_positions(log, stage_order)
    labels = log.case_labels
    amounts = amounts or {}
    counts = [int(np.count_nonzero(furthest >= p)) for p in range(len(stage_order))]
    entered = counts[0]
    steps: list[FunnelStep] = []
    for position, stage in enumerate(stage_order):
        reached = np.flatnonzero(furthest >= position).tolist()
        amount = sum((amounts.get(labels[k], Decimal(0)) for k in reached), Decimal(0))
        count = counts[position]
        following = counts[position + 1] if position + 1 < len(counts) else None
        drop = None
        if following is not None:
            drop = round(100.0 * (count - following) / count, 1) if count else 0.0
        conversion = round(100.0 * count / entered, 1) if entered else 0.0
        steps.append(FunnelStep(stage, position, count, amount, drop, conversion))
    return steps


def cases_reaching(log: EventLog, stage_order: Sequence[str], position: int) -> list[str]:
    """The case ids that reached ``stage_order[position]`` (the records behind a funnel bar)."""
    furthest = furthest_positions(log, stage_order)
    return [log.case_labels[k] for k in np.flatnonzero(furthest >= position).tolist()]
