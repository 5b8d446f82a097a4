"""Bottleneck ranking and the plain-language findings shown above the process view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flowcrm.insights.process.analysis import Edge
from flowcrm.insights.process.log import EventLog
from flowcrm.insights.process.stats import DurationStats


@dataclass(frozen=True)
class Bottleneck:
    activity: str
    median_seconds: float
    total_seconds: float
    share_of_time_pct: float  # of all time cases spent in stages
    reached: int  # cases with at least one event of the activity
    lost_after: int  # cases whose next event after it is a lost activity
    lost_pct: float

    def as_dict(self) -> dict[str, object]:
        return {
            "activity": self.activity,
            "median_seconds": self.median_seconds,
            "total_seconds": self.total_seconds,
            "share_of_time_pct": self.share_of_time_pct,
            "reached": self.reached,
            "lost_after": self.lost_after,
            "lost_pct": self.lost_pct,
        }


def rank_bottlenecks(
    log: EventLog,
    sojourn: dict[str, DurationStats],
    edges: Sequence[Edge],
    lost_activities: frozenset[str],
) -> list[Bottleneck]:
    """Activities ordered by their share of total time in stage (then by loss rate)."""
    total = sum(s.mean_seconds * s.count for s in sojourn.values()) or 1.0
    reached = _cases_reaching_each(log)
    lost_after: dict[str, int] = {}
    for edge in edges:
        if edge.target in lost_activities:
            lost_after[edge.source] = lost_after.get(edge.source, 0) + edge.stats.count
    ranking = []
    for activity, stats in sojourn.items():
        if activity in lost_activities:
            continue
        held = stats.mean_seconds * stats.count
        cases = reached.get(activity, 0)
        lost = lost_after.get(activity, 0)
        ranking.append(
            Bottleneck(
                activity=activity,
                median_seconds=stats.median_seconds,
                total_seconds=held,
                share_of_time_pct=round(100.0 * held / total, 1),
                reached=cases,
                lost_after=lost,
                lost_pct=round(100.0 * lost / cases, 1) if cases else 0.0,
            )
        )
    ranking.sort(key=lambda b: (-b.total_seconds, -b.lost_pct, b.activity))
    return ranking


def _cases_reaching_each(log: EventLog) -> dict[str, int]:
    if log.event_count == 0:
        return {}
    # One (case, activity) pair per case that has the activity at least once.
    width = len(log.activity_names)
    pairs = np.unique(log.case_keys * width + log.activities)
    counts = np.bincount(pairs % width, minlength=width)
    return {name: int(counts[code]) for code, name in enumerate(log.activity_names)}


def describe_duration(seconds: float) -> str:
    """A duration for people: "12 days", "1.5 days", "5 hours", "20 minutes"."""
    if seconds >= 86400:
        days = seconds / 86400
        return f"{days:.0f} days" if days >= 10 else f"{days:.1f} days".replace(".0 ", " ")
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours".replace(".0 ", " ")
    if seconds >= 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds:.0f} seconds"


def findings(ranking: Sequence[Bottleneck], case_label: str = "deal") -> list[str]:
    """Sentences naming the slowest stage and the stage that loses the most cases."""
    if not ranking:
        return []
    plural = f"{case_label}s"
    sentences: list[str] = []
    slowest = max(ranking, key=lambda b: (b.median_seconds, b.activity))
    others = [b.median_seconds for b in ranking if b is not slowest]
    text = (
        f"{slowest.activity} holds {plural} a median of {describe_duration(slowest.median_seconds)}"
    )
    longest_other = max(others, default=0.0)
    if longest_other > 0 and slowest.median_seconds >= 1.2 * longest_other:
        text += f", {slowest.median_seconds / longest_other:.1f}\u00d7 longer than any other stage"
    elif others:
        text += ", the longest of any stage"
    if slowest.lost_pct > 0:
        text += f"; {slowest.lost_pct:.0f}% of {plural} that reach it are lost there"
    sentences.append(text + ".")
    leaky = max(ranking, key=lambda b: (b.lost_pct, b.activity))
    if leaky is not slowest and leaky.lost_pct > 0:
        sentences.append(
            f"{leaky.activity} loses the most: {leaky.lost_pct:.0f}% of {plural} that reach it "
            f"({leaky.lost_after} of {leaky.reached}) are lost there."
        )
    top = ranking[0]
    sentences.append(
        f"{top.activity} accounts for {top.share_of_time_pct:.0f}% of all time "
        f"{plural} spend in stages."
    )
    return sentences
