"""Win probabilities per stage: configured by admins, learned from history, and time-aware.

- *configured*: the stage's ``probability`` field.
- *learned*: of the deals that reached the stage and have since closed (within the window),
  the share that was won.
- *time-aware*: for an open deal that has sat ``a`` days in its stage, the share won among the
  closed deals that also stayed at least ``a`` days in that stage — an empirical survival
  estimate, shrunk towards the learned value when few deals stayed that long. A deal idle far
  longer than won deals usually were gets a lower probability, and the explanation says why.
"""

from __future__ import annotations

import bisect
import datetime as dt
import statistics
from dataclasses import dataclass, field

from flowcrm.forecasts.history import DealHistory

# Weight of the learned probability, in "pseudo-deals", when few closed deals stayed as long.
SHRINKAGE_DEALS = 5


@dataclass
class StageLearning:
    stage_id: int
    stage_name: str
    configured: float
    reached: int = 0
    won: int = 0
    won_days: list[float] = field(default_factory=list)
    lost_days: list[float] = field(default_factory=list)

    @property
    def learned(self) -> float | None:
        return self.won / self.reached if self.reached else None

    @property
    def base(self) -> float:
        learned = self.learned
        return self.configured if learned is None else learned

    @property
    def median_won_days(self) -> float | None:
        return statistics.median(self.won_days) if self.won_days else None


@dataclass(frozen=True)
class DealProbability:
    configured: float
    learned: float
    time_aware: float
    days_in_stage: float
    explanation: str


def learn(
    *,
    stages: list[tuple[int, str, float]],
    closed: list[tuple[DealHistory, bool]],
    now: dt.datetime,
) -> dict[int, StageLearning]:
    """Per-stage learning from closed deals' histories.

    ``stages`` are (id, name, configured probability 0..1) of the pipeline's open stages;
    ``closed`` pairs each closed deal's history with whether it was won.
    """
    learning = {sid: StageLearning(sid, name, configured) for sid, name, configured in stages}
    for history, was_won in closed:
        for stage_id in history.stages_reached():
            stats = learning.get(stage_id)
            if stats is None:
                continue  # the won/lost stages themselves
            stats.reached += 1
            days = history.days_in_stage(stage_id, now=now)
            if was_won:
                stats.won += 1
                stats.won_days.append(days)
            else:
                stats.lost_days.append(days)
    for stats in learning.values():
        stats.won_days.sort()
        stats.lost_days.sort()
    return learning


def _at_least(sorted_days: list[float], threshold: float) -> int:
    return len(sorted_days) - bisect.bisect_left(sorted_days, threshold)


def deal_probability(stats: StageLearning, *, days_in_stage: float) -> DealProbability:
    """The three probabilities of an open deal in ``stats``' stage, with a plain explanation."""
    base = stats.base
    won_longer = _at_least(stats.won_days, days_in_stage)
    lost_longer = _at_least(stats.lost_days, days_in_stage)
    stayed = won_longer + lost_longer
    time_aware = (won_longer + SHRINKAGE_DEALS * base) / (stayed + SHRINKAGE_DEALS)
    median_won = stats.median_won_days
    if stats.reached == 0:
        explanation = (
            f"No closed deals have passed through {stats.stage_name} yet: "
            f"using the configured {stats.configured:.0%}."
        )
        time_aware = stats.configured
    elif median_won is None or days_in_stage <= median_won:
        explanation = (
            f"{days_in_stage:.0f} days in {stats.stage_name}, within the usual time of won deals"
            + (f" (median {median_won:.0f} days)" if median_won is not None else "")
            + f"; {stats.won} of {stats.reached} deals that reached it were won."
        )
    else:
        explanation = (
            f"{days_in_stage:.0f} days in {stats.stage_name}; won deals left it after a median of "
            f"{median_won:.0f} days. Of {stayed} closed deals that stayed at least this long, "
            f"{won_longer} were won, so {time_aware:.0%} instead of {base:.0%}."
        )
    return DealProbability(
        configured=stats.configured,
        learned=base,
        time_aware=time_aware,
        days_in_stage=days_in_stage,
        explanation=explanation,
    )
