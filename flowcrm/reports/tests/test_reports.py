from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from flowcrm.accounts.models import Role
from flowcrm.core.models import Event
from flowcrm.forecasts.tests.builders import deal_with_path, pipeline_with_stages
from flowcrm.reports import charts
from flowcrm.reports.engine import run_report
from flowcrm.reports.models import Dashboard, SavedReport
from flowcrm.reports.spec import parse_spec

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)


@pytest.fixture
def deals(make_user, make_team):
    """Open deals: 3 in Qualify (100, 200, 600) owned by ann, 1 in Proposal (1,000) owned by bob;
    won: 500 in January and 700 in February, owned by ann."""
    team = make_team("Sales")
    ann = make_user(role=Role.SALES_REP, team=team, email="ann@example.com")
    bob = make_user(role=Role.SALES_REP, email="bob@example.com")
    pipeline, s = pipeline_with_stages()
    for amount in ("100", "200", "600"):
        deal_with_path(pipeline, [(s["Qualify"], T0)], amount=amount, owner=ann)
    deal_with_path(
        pipeline,
        [(s["Qualify"], T0), (s["Proposal"], T0 + dt.timedelta(days=1))],
        amount="1000",
        owner=bob,
    )
    deal_with_path(
        pipeline,
        [(s["Qualify"], T0), (s["Won"], T0 + dt.timedelta(days=5))],
        amount="500",
        owner=ann,
    )
    deal_with_path(
        pipeline,
        [(s["Qualify"], T0), (s["Won"], T0 + dt.timedelta(days=35))],
        amount="700",
        owner=ann,
    )
    return ann, bob


OPEN_BY_STAGE = {
    "record_type": "deal",
    "condition": {"field": "deal.status", "op": "eq", "value": "open"},
    "group_by": {"field": "deal.stage.name"},
    "measures": [
        {"op": "count"},
        {"op": "sum", "field": "deal.amount"},
        {"op": "median", "field": "deal.amount"},
    ],
}


def test_a_grouped_report_aggregates_in_the_database_with_a_median(
    deals, admin_user, django_assert_num_queries
):
    spec, fields = parse_spec(OPEN_BY_STAGE)
    # one query for the aggregate and one for the medians
    with django_assert_num_queries(2):
        result = run_report(spec, fields, admin_user)
    # groups of a non-date field come largest first (by the first measure)
    assert [(r.group, r.values) for r in result.rows] == [
        ("Qualify", {"count": 3, "sum_deal.amount": 900.0, "median_deal.amount": 200.0}),
        ("Proposal", {"count": 1, "sum_deal.amount": 1000.0, "median_deal.amount": 1000.0}),
    ]


def test_a_date_bucket_groups_won_revenue_by_month(deals, admin_user):
    spec, fields = parse_spec(
        {
            "record_type": "deal",
            "condition": {"field": "deal.status", "op": "eq", "value": "won"},
            "group_by": {"field": "deal.closed_at", "bucket": "month"},
            "measures": [{"op": "sum", "field": "deal.amount"}],
        }
    )
    rows = run_report(spec, fields, admin_user).rows
    assert [(r.group, r.values["sum_deal.amount"]) for r in rows] == [
        (dt.date(2026, 1, 1), 500.0),
        (dt.date(2026, 2, 1), 700.0),
    ]


def test_a_sales_rep_only_aggregates_the_deals_they_may_see(deals):
    _ann, bob = deals
    spec, fields = parse_spec(OPEN_BY_STAGE)
    assert [(r.group, r.values["count"]) for r in run_report(spec, fields, bob).rows] == [
        ("Proposal", 1)
    ]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"record_type": "deal", "group_by": {"field": "deal.nope"}}, "group_by.field"),
        (
            {"record_type": "deal", "measures": [{"op": "sum", "field": "deal.title"}]},
            "measures[0].field",
        ),
        (
            {"record_type": "deal", "group_by": {"field": "deal.title", "bucket": "month"}},
            "group_by.bucket",
        ),
        (
            {
                "record_type": "deal",
                "condition": {"field": "deal.compnay.name", "op": "eq", "value": "x"},
            },
            "condition.field",
        ),
        ({"record_type": "planet"}, "record_type"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_field_and_nothing_is_saved(deals, admin_api, spec, field):
    response = admin_api.post("reports/saved", {"name": "Bad", "spec": spec})
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert SavedReport.objects.count() == 0
    assert not Event.objects.filter(type="report.created").exists()


def test_a_saved_report_goes_on_a_team_dashboard_that_teammates_see(deals, api_for, make_user):
    ann, _ = deals
    ann_api = api_for(ann)
    saved = ann_api.post(
        "reports/saved", {"name": "Open by stage", "spec": OPEN_BY_STAGE, "team_id": ann.team_id}
    )
    assert saved.status_code == 201
    board = ann_api.post("dashboards", {"name": "Sales weekly", "team_id": ann.team_id}).json()
    arranged = ann_api.put(
        f"dashboards/{board['id']}/items", {"items": [{"report": saved.json()["id"], "width": 2}]}
    )
    assert arranged.status_code == 200
    teammate = api_for(make_user(role=Role.SALES_REP, team=ann.team))
    shown = teammate.get(f"dashboards/{board['id']}").json()
    assert [(c["title"], c["width"], c["rows"]) for c in shown["cells"]] == [
        ("Open by stage", 2, [["Qualify", 3, 900.0, 200.0]]),
    ]
    outsider = api_for(make_user(role=Role.SALES_REP))
    assert outsider.get(f"dashboards/{board['id']}").status_code == 404


def test_a_dashboard_refuses_a_report_the_user_cannot_see(deals, api_for, make_user, admin_user):
    ann, _ = deals
    private = SavedReport.objects.create(name="Admin only", owner=admin_user, spec=OPEN_BY_STAGE)
    ann_api = api_for(ann)
    board = ann_api.post("dashboards", {"name": "Mine"}).json()
    response = ann_api.put(
        f"dashboards/{board['id']}/items", {"items": [{"report": private.pk, "width": 1}]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items[0].report"
    assert Dashboard.objects.get(pk=board["id"]).items == []


def test_the_sales_report_page_shows_charts_and_exports_inert_csv(deals, client, admin_user):
    pipeline_deal = deals[0]
    from flowcrm.sales.models import Deal, Stage

    qualify = Stage.objects.get(name="Qualify")
    qualify.rotting_days = 3
    qualify.save()
    Deal.objects.filter(amount=100).update(
        title='=HYPERLINK("http://evil")', stage_entered_at=timezone.now() - dt.timedelta(days=9)
    )
    client.force_login(admin_user)
    page = client.get("/reports/builtin/sales/", {"from": "2026-01-01", "to": "2026-12-31"})
    assert page.status_code == 200
    assert b"<title>Won deals by month</title>" in page.content
    exported = client.get(
        "/reports/builtin/sales/", {"from": "2026-01-01", "to": "2026-12-31", "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert ['\'=HYPERLINK("http://evil")', "Qualify", pipeline_deal.email, "9", "100.0"] in rows


def test_the_financial_report_computes_cohort_retention(deals, admin_api):
    body = admin_api.get(
        "reports/builtin/financial", {"date_from": "2026-01-01", "date_to": "2026-12-31"}
    ).json()
    titles = [s["title"] for s in body["sections"]]
    assert titles[0] == "Revenue by month (won deals)"
    assert body["sections"][0]["rows"] == [["2026-01-01", 500.0], ["2026-02-01", 700.0]]


def test_a_bar_chart_labels_every_bar_for_screen_readers_and_hover():
    svg = charts.bar_chart("Won", ["Jan", "Feb"], [charts.Series("Revenue", [500.0, 1500.0])])
    assert svg.startswith('<svg class="chart" viewBox="0 0 640 300" role="img"')
    assert "<title>Won</title>" in svg
    assert (
        "<title>Jan · Revenue: 500</title>" in svg and "<title>Feb · Revenue: 1,500</title>" in svg
    )
