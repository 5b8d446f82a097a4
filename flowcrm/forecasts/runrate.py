"""Run-rate projection of won revenue from the monthly history, with an interval.

Three simple, documented methods are back-tested on the history (one month ahead, rolling
origin over the last 12 months) and the one with the lowest mean absolute percentage error is
used: the mean of the last three months, the seasonal naive (same month last year), and a
linear trend over the last twelve months. The interval comes from the chosen method's own
back-test errors (10th to 90th percentile of actual/forecast), widened with the square root of the
horizon. Simple methods are used on purpose: with a few dozen monthly points, they back-test as
well as heavier seasonal models and need no extra dependency.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Method = Callable[[Sequence[float], int], float]


def mean_of_last_three(history: Sequence[float], horizon: int) -> float:
    tail = history[-3:]
    return sum(tail) / len(tail) if tail else 0.0


def seasonal_naive(history: Sequence[float], horizon: int) -> float:
    back = 12 - ((horizon - 1) % 12)
    if len(history) < back:
        return mean_of_last_three(history, horizon)
    return history[-back]


def linear_trend(history: Sequence[float], horizon: int) -> float:
    tail = list(history[-12:])
    if len(tail) < 3:
        return mean_of_last_three(history, horizon)
    xs = list(range(len(tail)))
    slope, intercept = statistics.linear_regression(xs, tail)
    return max(intercept + slope * (len(tail) - 1 + horizon), 0.0)


METHODS: dict[str, Method] = {
    "mean_3_months": mean_of_last_three,
    "seasonal_naive": seasonal_naive,
    "linear_trend": linear_trend,
}


@dataclass(frozen=True)
class MethodScore:
    method: str
    mape: float | None
    tested_months: int


@dataclass(frozen=True)
class ProjectionPoint:
    horizon: int
    expected: float
    low: float
    high: float


@dataclass(frozen=True)
class Projection:
    method: str
    scores: list[MethodScore]
    points: list[ProjectionPoint]


def backtest(
    history: Sequence[float], method: Method, *, months: int = 12
) -> tuple[float | None, list[float]]:
    """One-step-ahead MAPE of ``method`` over the last ``months`` points, and actual/forecast
    ratios (for the interval). Months with no revenue are skipped in the MAPE."""
    errors: list[float] = []
    ratios: list[float] = []
    start = max(3, len(history) - months)
    for cut in range(start, len(history)):
        forecast = method(history[:cut], 1)
        actual = history[cut]
        if actual > 0:
            errors.append(abs(actual - forecast) / actual)
        if forecast > 0:
            ratios.append(actual / forecast)
    return (statistics.fmean(errors) if errors else None), ratios


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 1.0
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def project(history: Sequence[float], *, months: int = 3) -> Projection:
    """Project ``months`` ahead from complete monthly totals (oldest first)."""
    scores: list[MethodScore] = []
    ratios_by_method: dict[str, list[float]] = {}
    for name, method in METHODS.items():
        mape, ratios = backtest(history, method)
        scores.append(MethodScore(name, mape, len(ratios)))
        ratios_by_method[name] = ratios
    scored = [s for s in scores if s.mape is not None]
    best = min(scored, key=lambda s: s.mape or 0.0).method if scored else "mean_3_months"
    ratios = ratios_by_method[best]
    low_ratio, high_ratio = _quantile(ratios, 0.1), _quantile(ratios, 0.9)
    points = []
    for horizon in range(1, months + 1):
        expected = METHODS[best](history, horizon)
        widen = horizon**0.5
        low = max(expected * (1 - (1 - low_ratio) * widen), 0.0) if ratios else expected
        high = expected * (1 + (high_ratio - 1) * widen) if ratios else expected
        points.append(ProjectionPoint(horizon, expected, min(low, expected), max(high, expected)))
    return Projection(best, scores, points)
