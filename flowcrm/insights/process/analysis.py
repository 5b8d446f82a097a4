"""Process analytics on an :class:`EventLog`: directly-follows graph, variants, sojourn times,
case durations and weekly throughput.

Semantics (chosen to equal PM4Py on the same, identically ordered log):

- **directly-follows edge** A→B: two consecutive events of one case, A then B. Its duration is
  ``timestamp(B) - timestamp(A)`` (PM4Py's performance DFG on a log without start timestamps).
- **variant**: the sequence of activities of a case, in log order. Most frequent first; equal
  counts are ordered by the activity sequence (text order) so the listing is stable.
- **sojourn time** of activity A: for each event of A that has a following event in its case,
  the time until that next event — how long the case stayed in A. The last event of a case has
  no sojourn (an open deal is still in its stage; a won deal stays won). This equals PM4Py's
  ``sojourn_time.get`` on the interval log whose start is A's event and whose completion is the
  next event. For interval logs (flow steps with queued/started/finished times) ``waiting`` is
  started - queued and ``processing`` is finished - started, per step execution.
- **case duration**: last event - first event of the case (0 for a single-event case).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from dataclasses import dataclass

import numpy as np

from flowcrm.insights.process.log import EventLog
from flowcrm.insights.process.stats import DurationStats, grouped_stats, single_stats

WEEK_SECONDS = 7 * 86400
# The Unix epoch fell on a Thursday; shifting by three days puts week boundaries on Mondays.
MONDAY_OFFSET_SECONDS = 3 * 86400


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    stats: DurationStats

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "target": self.target, **self.stats.as_dict()}


@dataclass(frozen=True)
class Variant:
    activities: tuple[str, ...]
    count: int
    share: float

    def as_dict(self) -> dict[str, object]:
        return {"activities": list(self.activities), "count": self.count, "share": self.share}


@dataclass(frozen=True)
class VariantSummary:
    top: list[Variant]
    other_count: int
    other_variants: int
    total_variants: int

    def as_dict(self) -> dict[str, object]:
        return {
            "top": [variant.as_dict() for variant in self.top],
            "other": {"count": self.other_count, "variants": self.other_variants},
            "total_variants": self.total_variants,
        }


def directly_follows(log: EventLog) -> list[Edge]:
    """Every directly-follows edge with count and duration statistics, most frequent first."""
    same = log.same_case_pairs()
    source = log.activities[:-1][same].astype(np.int64)
    target = log.activities[1:][same].astype(np.int64)
    durations = (log.timestamps[1:] - log.timestamps[:-1])[same]
    width = max(len(log.activity_names), 1)
    stats = grouped_stats(source * width + target, durations)
    names = log.activity_names
    edges = [Edge(names[key // width], names[key % width], value) for key, value in stats.items()]
    edges.sort(key=lambda edge: (-edge.stats.count, edge.source, edge.target))
    return edges


def sojourn_times(log: EventLog) -> dict[str, DurationStats]:
    """Time from each event of an activity to the next event of its case, per activity."""
    same = log.same_case_pairs()
    durations = (log.timestamps[1:] - log.timestamps[:-1])[same]
    stats = grouped_stats(log.activities[:-1][same].astype(np.int64), durations)
    return {log.activity_names[key]: value for key, value in sorted(stats.items())}


def step_times(log: EventLog) -> dict[str, dict[str, DurationStats]]:
    """For interval logs: waiting (queued→started) and processing (started→finished) per step.

    Empty for logs without start timestamps; waiting is left out when queue times are unknown.
    """
    if log.start_timestamps is None:
        return {}
    activities = log.activities.astype(np.int64)
    parts = {"processing": log.timestamps - log.start_timestamps}
    if log.queued_timestamps is not None:
        parts["waiting"] = log.start_timestamps - log.queued_timestamps
    result: dict[str, dict[str, DurationStats]] = {}
    for part, values in parts.items():
        known = ~np.isnan(values)
        for key, stats in grouped_stats(activities[known], values[known]).items():
            result.setdefault(log.activity_names[key], {})[part] = stats
    return dict(sorted(result.items()))


def variants(log: EventLog, *, top: int = 10) -> VariantSummary:
    """The ``top`` most frequent variants, and how many cases/variants the rest hold."""
    if log.case_count == 0:
        return VariantSummary(top=[], other_count=0, other_variants=0, total_variants=0)
    # A case's variant as a bytes key: slicing one buffer per case is far cheaper than tuples.
    dtype = np.uint8 if len(log.activity_names) < 256 else np.int32
    width = np.dtype(dtype).itemsize
    buffer = log.activities.astype(dtype).tobytes()
    bounds = (log.case_bounds * width).tolist()
    counts = Counter(buffer[start:end] for start, end in itertools.pairwise(bounds))
    names = log.activity_names

    def decode(key: bytes) -> tuple[str, ...]:
        return tuple(names[code] for code in np.frombuffer(key, dtype=dtype).tolist())

    ranked = sorted(((count, decode(key)) for key, count in counts.items()), key=_variant_order)
    cases = log.case_count
    chosen = ranked[:top]
    rest = ranked[top:]
    return VariantSummary(
        top=[Variant(path, count, count / cases) for count, path in chosen],
        other_count=sum(count for count, _ in rest),
        other_variants=len(rest),
        total_variants=len(ranked),
    )


def _variant_order(item: tuple[int, tuple[str, ...]]) -> tuple[int, tuple[str, ...]]:
    return (-item[0], item[1])


def case_durations(log: EventLog) -> np.ndarray:
    """Seconds from the first to the last event of every case, in case order."""
    bounds = log.case_bounds
    if log.case_count == 0:
        return np.zeros(0, dtype=np.float64)
    return np.asarray(log.timestamps[bounds[1:] - 1] - log.timestamps[bounds[:-1]])


def last_activities(log: EventLog) -> list[str]:
    """The activity each case ended (or currently is) in, in case order."""
    if log.case_count == 0:
        return []
    codes = log.activities[log.case_bounds[1:] - 1].tolist()
    return [log.activity_names[code] for code in codes]


DURATION_BUCKETS_DAYS: tuple[tuple[str, float, float], ...] = (
    ("< 1 day", 0, 1),
    ("1-7 days", 1, 7),
    ("1-2 weeks", 7, 14),
    ("2-4 weeks", 14, 30),
    ("1-2 months", 30, 60),
    ("2-3 months", 60, 90),
    ("3-6 months", 90, 180),
    ("≥ 6 months", 180, float("inf")),
)


def duration_distribution(
    log: EventLog, *, closing_activities: frozenset[str]
) -> dict[str, object]:
    """Case durations of closed cases (ending in one of ``closing_activities``) and all cases.

    Returns statistics for both and a histogram of closed cases over :data:`DURATION_BUCKETS_DAYS`.
    """
    durations = case_durations(log)
    ended = np.array([a in closing_activities for a in last_activities(log)], dtype=bool)
    closed = durations[ended] if len(durations) else durations
    days = closed / 86400.0
    buckets = [
        {"label": label, "count": int(np.count_nonzero((days >= low) & (days < high)))}
        for label, low, high in DURATION_BUCKETS_DAYS
    ]
    all_stats = single_stats(durations)
    closed_stats = single_stats(closed)
    return {
        "all": all_stats.as_dict() if all_stats else None,
        "closed": closed_stats.as_dict() if closed_stats else None,
        "open_cases": int(log.case_count - np.count_nonzero(ended)),
        "closed_cases": int(np.count_nonzero(ended)),
        "histogram": buckets,
    }


def weekly_throughput(
    log: EventLog, *, closing_activities: frozenset[str]
) -> list[dict[str, object]]:
    """Cases started and closed per ISO week (Monday 00:00 UTC), oldest week first.

    A case is closed in the week of its last event when that event is a closing activity.
    """
    if log.case_count == 0:
        return []
    bounds = log.case_bounds
    first = log.timestamps[bounds[:-1]]
    last = log.timestamps[bounds[1:] - 1]
    ended = np.array([a in closing_activities for a in last_activities(log)], dtype=bool)
    started_weeks = np.floor((first + MONDAY_OFFSET_SECONDS) / WEEK_SECONDS).astype(np.int64)
    closed_weeks = np.floor((last[ended] + MONDAY_OFFSET_SECONDS) / WEEK_SECONDS).astype(np.int64)
    started = Counter(started_weeks.tolist())
    closed = Counter(closed_weeks.tolist())
    weeks = range(min(started), max(max(started), max(closed, default=0)) + 1)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) - dt.timedelta(seconds=MONDAY_OFFSET_SECONDS)
    return [
        {
            "week_start": (epoch + dt.timedelta(weeks=week)).date().isoformat(),
            "started": started.get(week, 0),
            "closed": closed.get(week, 0),
        }
        for week in weeks
    ]
