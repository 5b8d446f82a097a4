"""The insights pages: process view with graph, funnel, variants and stage-time chart."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from flowcrm.insights.tests.process_fixtures import make_sales_log

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(admin_user: Any) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_home_shows_the_pipelines_process_view(
    browser: Client, admin_user: Any, django_assert_num_queries: Any
) -> None:
    # given
    sales = make_sales_log(owner=admin_user)
    # when
    with django_assert_num_queries(9):
        response = browser.get("/insights/")
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "Demo holds deals a median of 18 days" in page
    assert '<g class="node bottleneck"><title>Demo: 3 events, median time in stage 18 days' in page
    assert "<title>Funnel of deals by stage</title>" in page
    assert f'href="/insights/funnel/deals/3/?pipeline={sales.pipeline.pk}"' in page
    assert "Lead in → Qualified → Demo → Won" in page
    assert "<title>Median time in stage</title>" in page


def test_funnel_bar_page_lists_the_deals(browser: Client, admin_user: Any) -> None:
    sales = make_sales_log(owner=admin_user)
    response = browser.get(f"/insights/funnel/deals/3/?pipeline={sales.pipeline.pk}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 deals reached Won" in page
    assert f'href="/deals/{sales.deals["A"].pk}/">A</a>' in page
    assert f'href="/deals/{sales.deals["B"].pk}/"' not in page


def test_bad_filter_on_the_page_is_a_message_not_a_crash(browser: Client, admin_user: Any) -> None:
    make_sales_log(owner=admin_user)
    response = browser.get("/insights/?since=2026-02-01&until=2026-01-01")
    assert response.status_code == 422
    assert "until: Must be later than since" in response.content.decode()


def test_without_pipelines_the_page_says_so(browser: Client) -> None:
    response = browser.get("/insights/")
    assert response.status_code == 200
    assert "No pipelines yet." in response.content.decode()
