"""Our analytics equal PM4Py's on the same logs (counts exactly, durations to the millisecond).

PM4Py is imported once for the module (it is slow to import) and fed the very rows our loader
reads, in our documented order: case, timestamp, event id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pm4py
import pytest

from bench.dealpaths import deal_paths
from flowcrm.core.models import Event
from flowcrm.insights.process import analysis
from flowcrm.insights.process.filters import ProcessFilter
from flowcrm.insights.process.log import EventLog
from flowcrm.insights.process.notions import get_case_notion, load_log
from flowcrm.insights.tests.process_logs import handmade_cases, write_cases

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _generated_cases(count: int) -> list[tuple[int, list[tuple[str, dt.datetime]]]]:
    return [(1000 + p.index, list(p.steps)) for p in deal_paths(count, seed=7, start=START)]


@pytest.fixture
def deal_log() -> EventLog:
    write_cases(handmade_cases())
    write_cases(_generated_cases(120))
    return load_log(get_case_notion("deals"), ProcessFilter(), None)


def _frame_in_our_order() -> pd.DataFrame:
    """The deal events as PM4Py reads them, sorted by case, time, then event id."""
    rows = [
        {
            "case:concept:name": str(e.subject_id),
            "concept:name": e.data.get("to_stage") or e.data.get("stage"),
            "time:timestamp": e.occurred_at,
            "event_id": e.pk,
        }
        for e in Event.objects.filter(subject_type="deal").order_by(
            "subject_id", "occurred_at", "id"
        )
    ]
    frame = pd.DataFrame(rows)
    frame["time:timestamp"] = pd.to_datetime(frame["time:timestamp"], utc=True)
    return frame


def _ours_by_edge(log: EventLog) -> dict[tuple[str, str], Any]:
    return {(edge.source, edge.target): edge.stats for edge in analysis.directly_follows(log)}


def test_directly_follows_counts_equal_pm4py(deal_log: EventLog) -> None:
    # given the log in the database, when both compute the DFG
    dfg, _starts, _ends = pm4py.discover_dfg(_frame_in_our_order())
    ours = _ours_by_edge(deal_log)
    # then every edge and count is the same
    assert {edge: stats.count for edge, stats in ours.items()} == dict(dfg)
    assert deal_log.case_count == 129
    # ties keep the insertion (event id) order: case 4 goes Lead in → Qualified → Demo at once
    assert dfg[("Lead in", "Qualified")] == ours[("Lead in", "Qualified")].count


def test_directly_follows_durations_equal_pm4py(deal_log: EventLog) -> None:
    performance, _, _ = pm4py.discover_performance_dfg(
        _frame_in_our_order(), perf_aggregation_key="all"
    )
    ours = _ours_by_edge(deal_log)
    assert set(ours) == set(performance)
    for edge, stats in ours.items():
        assert stats.mean_seconds == pytest.approx(performance[edge]["mean"], abs=1e-3), edge
        assert stats.median_seconds == pytest.approx(performance[edge]["median"], abs=1e-3), edge


def test_variants_equal_pm4py(deal_log: EventLog) -> None:
    theirs = pm4py.get_variants(_frame_in_our_order())
    summary = analysis.variants(deal_log, top=10_000)
    assert {v.activities: v.count for v in summary.top} == dict(theirs)
    assert summary.other_count == 0
    counts = [v.count for v in summary.top]
    assert counts == sorted(counts, reverse=True)


def test_sojourn_equals_pm4py_service_time_of_the_stage_interval_log(deal_log: EventLog) -> None:
    # PM4Py's sojourn (service) time is complete - start per event; a stage's interval runs from
    # entering it to the next event of the deal, so build exactly that interval log.
    frame = _frame_in_our_order()
    frame["start_timestamp"] = frame["time:timestamp"]
    frame["complete"] = frame.groupby("case:concept:name")["time:timestamp"].shift(-1)
    intervals = frame.dropna(subset=["complete"]).copy()
    intervals["time:timestamp"] = intervals["complete"]
    keys = {"start_timestamp_key": "start_timestamp"}
    mean = pm4py.get_service_time(intervals, aggregation_measure="mean", **keys)
    median = pm4py.get_service_time(intervals, aggregation_measure="median", **keys)
    ours = analysis.sojourn_times(deal_log)
    assert set(ours) == set(mean)
    for activity, stats in ours.items():
        assert stats.mean_seconds == pytest.approx(mean[activity], abs=1e-3), activity
        assert stats.median_seconds == pytest.approx(median[activity], abs=1e-3), activity


def test_case_durations_equal_pm4py(deal_log: EventLog) -> None:
    theirs = sorted(pm4py.get_all_case_durations(_frame_in_our_order()))
    ours = sorted(analysis.case_durations(deal_log).tolist())
    assert ours == pytest.approx(theirs, abs=1e-3)
    assert ours.count(0.0) >= 2  # the single-event cases last zero seconds
