from __future__ import annotations

import pytest

from flowcrm.forecasts import runrate


def test_a_flat_history_projects_the_same_amount_with_a_zero_width_interval():
    # given twelve months of exactly 1,000 won per month
    history = [1000.0] * 12
    # when projecting three months
    projection = runrate.project(history, months=3)
    # then every method is perfect on it and the projection is flat
    assert {s.method: s.mape for s in projection.scores} == {
        "mean_3_months": 0.0,
        "seasonal_naive": 0.0,
        "linear_trend": pytest.approx(0.0, abs=1e-9),
    }
    assert [round(p.expected, 6) for p in projection.points] == [1000.0] * 3
    assert all(round(p.low, 6) == round(p.high, 6) == 1000.0 for p in projection.points)


def test_a_seasonal_history_chooses_the_seasonal_method():
    # given two years with a strong December peak and nothing else changing
    year = [100.0] * 11 + [1000.0]
    projection = runrate.project(year * 2, months=12)
    # then seasonal naive back-tests perfectly, wins, and projects the peak in month 12
    assert projection.method == "seasonal_naive"
    assert {s.method: s.mape for s in projection.scores}["seasonal_naive"] == 0.0
    assert [p.expected for p in projection.points] == year


def test_a_growing_history_chooses_the_trend():
    history = [100.0 * (i + 1) for i in range(15)]
    projection = runrate.project(history, months=2)
    assert projection.method == "linear_trend"
    assert [round(p.expected, 6) for p in projection.points] == [1600.0, 1700.0]


def test_an_empty_history_projects_zero():
    projection = runrate.project([], months=2)
    assert [p.expected for p in projection.points] == [0.0, 0.0]
