"""Deterministic, realistic deal stage histories: the one generator for demo data and benchmarks.

A deal enters the pipeline's first stage and moves forward stage by stage; at each step it may
skip a stage, loop back one stage, be lost, or stay open (the case is not finished). Time in a
stage is lognormal; one stage (``bottleneck``) holds deals about three times longer than the
others, so analytics have a real bottleneck to find.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

DEFAULT_STAGES: tuple[str, ...] = ("Lead in", "Qualified", "Demo", "Proposal", "Negotiation")
WON, LOST = "Won", "Lost"


@dataclass(frozen=True)
class DealPath:
    """One deal's stage history: ``steps`` are (stage name, entered at), oldest first."""

    index: int
    steps: tuple[tuple[str, dt.datetime], ...]

    @property
    def outcome(self) -> str:
        last = self.steps[-1][0]
        return last if last in (WON, LOST) else "open"


def deal_paths(
    count: int,
    *,
    seed: int = 42,
    stages: Sequence[str] = DEFAULT_STAGES,
    bottleneck: str = "Negotiation",
    start: dt.datetime | None = None,
    span_days: int = 540,
    median_stage_days: float = 4.0,
) -> Iterator[DealPath]:
    """``count`` deal paths created uniformly over ``span_days`` before ``start`` (default now).

    Steps never lie in the future of ``start``: a deal whose next move would is left open there.
    """
    rng = random.Random(seed)
    end = start or dt.datetime.now(dt.UTC).replace(microsecond=0)
    origin = end - dt.timedelta(days=span_days)
    mu = math.log(median_stage_days * 86400)
    last_index = len(stages) - 1
    for index in range(count):
        entered = origin + dt.timedelta(seconds=rng.randrange(span_days * 86400))
        position = 0
        steps: list[tuple[str, dt.datetime]] = [(stages[0], entered)]
        for _ in range(4 * len(stages)):
            stage = stages[position]
            factor = 3.0 if stage == bottleneck else 1.0
            seconds = rng.lognormvariate(mu, 0.8) * factor
            entered = entered + dt.timedelta(seconds=int(seconds))
            if entered > end:
                break
            roll = rng.random()
            lose_chance = 0.30 if stage == bottleneck else 0.10 + 0.02 * position
            if roll < 0.06:
                break  # stays open here
            if roll < 0.06 + lose_chance:
                steps.append((LOST, entered))
                break
            if position == last_index:
                if rng.random() < 0.12 and position > 0:
                    position -= 1  # a loop back: the customer reopens the proposal
                    steps.append((stages[position], entered))
                    continue
                steps.append((WON, entered))
                break
            if rng.random() < 0.08 and position > 0:
                position -= 1
            elif rng.random() < 0.07 and position + 2 <= last_index:
                position += 2
            else:
                position += 1
            steps.append((stages[position], entered))
        yield DealPath(index=index, steps=tuple(steps))


def stage_events(count: int, *, seed: int = 42) -> Iterator[tuple[int, str, dt.datetime]]:
    """The flattened log of :func:`deal_paths`: (case index, stage, entered at) per step."""
    for path in deal_paths(count, seed=seed):
        for stage, entered in path.steps:
            yield path.index, stage, entered
