"""Grouped duration statistics computed in one vectorised pass.

Definitions (the same as numpy's defaults, which PM4Py uses too): ``mean`` is the arithmetic mean,
``median`` the middle value (the mean of the two middle values for an even count), ``p90`` the
90th percentile with linear interpolation between closest ranks (``numpy.percentile`` default).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class DurationStats:
    count: int
    mean_seconds: float
    median_seconds: float
    p90_seconds: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "mean_seconds": self.mean_seconds,
            "median_seconds": self.median_seconds,
            "p90_seconds": self.p90_seconds,
        }


def grouped_stats(
    keys: npt.NDArray[np.integer], values: npt.NDArray[np.float64]
) -> dict[int, DurationStats]:
    """Statistics of ``values`` per distinct ``keys`` value (both arrays of the same length)."""
    if len(keys) == 0:
        return {}
    order = np.lexsort((values, keys))
    sorted_keys = keys[order]
    sorted_values = values[order]
    starts = np.concatenate(([0], np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1))
    counts = np.diff(np.concatenate((starts, [len(sorted_keys)])))
    sums = np.add.reduceat(sorted_values, starts)
    lower_mid = sorted_values[starts + (counts - 1) // 2]
    upper_mid = sorted_values[starts + counts // 2]
    medians = (lower_mid + upper_mid) / 2.0
    rank = 0.9 * (counts - 1)
    below = np.floor(rank).astype(np.int64)
    above = np.ceil(rank).astype(np.int64)
    low_values = sorted_values[starts + below]
    p90 = low_values + (rank - below) * (sorted_values[starts + above] - low_values)
    return {
        int(sorted_keys[start]): DurationStats(
            count=int(count),
            mean_seconds=float(total / count),
            median_seconds=float(median),
            p90_seconds=float(percentile),
        )
        for start, count, total, median, percentile in zip(
            starts, counts, sums, medians, p90, strict=True
        )
    }


def single_stats(values: npt.NDArray[np.float64]) -> DurationStats | None:
    """Statistics of all ``values``; None when there are none."""
    if len(values) == 0:
        return None
    return grouped_stats(np.zeros(len(values), dtype=np.int64), values)[0]
