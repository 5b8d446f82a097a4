from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from flowcrm.accounts.models import Role
from flowcrm.core.models import Event
from flowcrm.forecasts.engine import forecast_as_of
from flowcrm.forecasts.models import ForecastOverride
from flowcrm.forecasts.services import backtest, forecast_for_period
from flowcrm.forecasts.tests.builders import deal_with_path, pipeline_with_stages

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


@pytest.fixture
def history():
    """4 won deals (2 days in Proposal), 4 lost deals (20 days in Proposal), all closed in January;
    one open deal in Proposal since 10 January, expected to close in March."""
    pipeline, s = pipeline_with_stages()
    for i in range(4):
        start = T0 + days(i)
        deal_with_path(
            pipeline,
            [(s["Qualify"], start), (s["Proposal"], start + days(1)), (s["Won"], start + days(3))],
            amount="1000",
        )
        deal_with_path(
            pipeline,
            [
                (s["Qualify"], start),
                (s["Proposal"], start + days(1)),
                (s["Lost"], start + days(21)),
            ],
            amount="1000",
        )
    open_deal = deal_with_path(
        pipeline,
        [(s["Qualify"], T0 + days(4)), (s["Proposal"], T0 + days(5))],
        amount="2000",
        close_date=dt.date(2026, 3, 20),
    )
    return pipeline, s, open_deal


def test_the_forecast_learns_stage_probabilities_and_discounts_an_idle_deal(history):
    pipeline, stages, open_deal = history
    # when forecasting on 1 March: the open deal has sat 50 days in Proposal
    as_of = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    forecast = forecast_as_of(pipeline, as_of)
    # then Proposal's learned probability is 4 of 8, and the idle deal is discounted:
    # of the 8 closed deals none stayed 50 days, so (0 + 5 * 0.5) / (0 + 5) = 0.5 ...
    assert forecast.learning[stages["Proposal"].pk].learned == 0.5
    [deal] = forecast.open_deals
    assert deal.deal_id == open_deal.pk and deal.stage_name == "Proposal"
    assert deal.probability.configured == 0.6
    assert round(deal.probability.days_in_stage, 6) == 50.0
    assert deal.probability.time_aware == 0.5
    # ... while on 20 January (15 days in): the 4 lost deals stayed longer, no won one did
    earlier = forecast_as_of(pipeline, dt.datetime(2026, 1, 20, tzinfo=dt.UTC))
    # only deals closed by 20 January count: 4 won (by 8 Jan) and 0 lost (they close 26-29 Jan)
    assert earlier.learning[stages["Proposal"].pk].learned == 1.0


def test_the_back_test_uses_the_close_date_known_at_the_time(history):
    pipeline, stages, _ = history
    # given a deal whose close date moved from April to February on 10 February
    deal_with_path(
        pipeline,
        [(stages["Qualify"], T0), (stages["Proposal"], T0 + days(1))],
        amount="5000",
        close_date=dt.date(2026, 4, 15),
        close_date_changes=[(dt.datetime(2026, 2, 10, tzinfo=dt.UTC), dt.date(2026, 2, 25))],
    )
    # when forecasting February as of 1 February, the deal still belonged to April
    february = forecast_for_period(pipeline, dt.date(2026, 2, 1), "month")
    assert february["configured"] == 0.0
    # and as of 1 April its (by then overdue) February date rolls into the current period,
    # beside the other open deal (2,000 due 20 March, also overdue): (5,000 + 2,000) x 0.6
    april = forecast_for_period(pipeline, dt.date(2026, 4, 1), "month")
    assert april["configured"] == 4200.0


def test_the_back_test_writes_nothing_and_reports_every_method(history):
    pipeline, _, _ = history
    events_before = Event.objects.count()
    results = backtest(pipeline, months=3, today=dt.date(2026, 4, 10))
    assert [r.period_start for r in results] == [
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
    ]
    assert [r.actual for r in results] == [4000.0, 0.0, 0.0]
    assert set(results[2].values) == {"configured", "learned", "time_aware", "run_rate"}
    # the open deal closes in March: 2000 x 0.6 configured, as of 1 March
    assert results[2].values["configured"] == 1200.0
    assert Event.objects.count() == events_before


def test_the_forecast_api_returns_every_number_and_keeps_its_query_count(
    history, admin_api, django_assert_max_num_queries
):
    pipeline, _, _ = history
    with django_assert_max_num_queries(12):
        response = admin_api.get(
            f"forecasts/{pipeline.pk}", {"period": "month", "group_by": "pipeline"}
        )
    assert response.status_code == 200
    body = response.json()
    [row] = body["rows"]
    assert (row["period"], row["group"], row["deals"]) == (
        f"{dt.date.today():%Y-%m}" if dt.date.today() > dt.date(2026, 3, 20) else "2026-03",
        "New business",
        1,
    )
    assert Decimal(row["weighted"]["configured"]) == Decimal("1200.00")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"period": "2026-13", "amount": 10, "comment": "x"}, "period"),
        ({"period": "2026-12", "amount": -5, "comment": "x"}, "amount"),
        ({"period": "2026-12", "amount": 5, "comment": "  "}, "comment"),
    ],
)
def test_a_bad_override_is_refused_naming_the_field_and_nothing_is_written(
    history, admin_api, payload, field
):
    pipeline, _, _ = history
    response = admin_api.post(f"forecasts/{pipeline.pk}/overrides", payload)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert ForecastOverride.objects.count() == 0


def test_a_sales_rep_cannot_override_and_a_manager_can(history, make_user, api_for):
    pipeline, _, _ = history
    rep = api_for(make_user(role=Role.SALES_REP))
    refused = rep.post(
        f"forecasts/{pipeline.pk}/overrides", {"period": "2026-12", "amount": 5, "comment": "gut"}
    )
    assert refused.status_code == 403
    assert ForecastOverride.objects.count() == 0
    manager = api_for(make_user(role=Role.MANAGER))
    accepted = manager.post(
        f"forecasts/{pipeline.pk}/overrides",
        {"period": "2026-Q4", "amount": "12500", "comment": "Two renewals slip"},
    )
    assert accepted.status_code == 201
    override = ForecastOverride.objects.get()
    assert (override.period_kind, override.period_start, override.amount) == (
        "quarter",
        dt.date(2026, 10, 1),
        Decimal("12500"),
    )
    assert (
        Event.objects.filter(type="forecast_override.created", subject_id=override.pk).count() == 1
    )


def test_the_forecast_page_renders_for_a_logged_in_user(history, client, admin_user):
    client.force_login(admin_user)
    response = client.get("/forecasts/")
    assert response.status_code == 200
    assert b"Weighted pipeline" in response.content and b"Run-rate projection" in response.content
