from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from flowcrm.accounts.models import User
from flowcrm.core.models import Event
from flowcrm.sales.models import Deal
from flowcrm.sales.tests.factories import days_ago, make_deal, pipeline_with_stages, stages_of

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _header(html: str, stage_id: int) -> str:
    match = re.search(rf'<header id="stage-head-{stage_id}".*?</header>', html, re.S)
    assert match, f"no header for stage {stage_id}"
    return match.group(0)


def test_the_kanban_shows_totals_per_stage_and_caps_cards(
    admin_user: User, django_assert_num_queries: Any
) -> None:
    # given 55 deals in the first stage and 2 in the second (one rotting)
    pipeline = pipeline_with_stages(rotting_days=10)
    stages = stages_of(pipeline)
    for _ in range(55):
        make_deal(stage=stages["Lead in"], amount=Decimal("100"))
    make_deal(stage=stages["Qualified"], amount=Decimal("2500"), stage_entered_at=days_ago(30))
    make_deal(stage=stages["Qualified"], amount=Decimal("500"))
    client = _client(admin_user)
    # when the board is rendered, then the query count does not depend on the number of deals
    # (session, user, pipelines, stages, board stages, totals, cards)
    with django_assert_num_queries(7):
        response = client.get("/deals/", {"pipeline": pipeline.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-count="55"' in _header(html, stages["Lead in"].pk)
    assert "5,500 EUR" in _header(html, stages["Lead in"].pk)
    assert "3,000 EUR" in _header(html, stages["Qualified"].pk)
    assert html.count('class="deal"') + html.count('class="deal rotting"') == 50 + 2
    assert html.count('class="deal rotting"') == 1
    assert "Show more" in html


def test_show_more_loads_the_rest_of_a_column(admin_user: User) -> None:
    pipeline = pipeline_with_stages()
    stage = stages_of(pipeline)["Lead in"]
    deals = [make_deal(stage=stage, stage_entered_at=days_ago(i)) for i in range(53)]
    client = _client(admin_user)
    board = client.get("/deals/").content.decode()
    more_url = re.search(r'hx-get="([^"]+/more/\?cursor=[^"]+)"', board)
    assert more_url is not None
    rest = client.get(more_url.group(1).replace("&amp;", "&")).content.decode()
    shown = re.findall(r'data-deal-id="(\d+)"', rest)
    assert [int(pk) for pk in shown] == [d.pk for d in deals[50:]]
    assert "Show more" not in rest


def test_dropping_a_deal_moves_it_and_returns_both_column_headers(admin_user: User) -> None:
    deal = make_deal(amount=Decimal("700"))
    stages = stages_of(deal.pipeline)
    client = _client(admin_user)
    events_before = Event.objects.count()
    response = client.post(
        f"/deals/{deal.pk}/move/", {"stage_id": stages["Proposal"].pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="deal-{deal.pk}"' in html
    old, new = _header(html, stages["Lead in"].pk), _header(html, stages["Proposal"].pk)
    assert 'hx-swap-oob="true"' in old and 'data-count="0"' in old
    assert 'data-count="1"' in new and "700 EUR" in new
    assert Deal.objects.get(pk=deal.pk).stage_id == stages["Proposal"].pk
    assert Event.objects.count() == events_before + 1


def test_a_refused_drop_answers_422_with_the_reason_and_changes_nothing(admin_user: User) -> None:
    deal = make_deal()
    other = pipeline_with_stages("Other")
    client = _client(admin_user)
    events_before = Event.objects.count()
    response = client.post(f"/deals/{deal.pk}/move/", {"stage_id": stages_of(other)["Won"].pk})
    assert response.status_code == 422
    assert "does not belong" in response.content.decode()
    garbage = client.post(f"/deals/{deal.pk}/move/", {"stage_id": "x"})
    assert garbage.status_code == 422
    assert Deal.objects.get(pk=deal.pk).stage_id == deal.stage_id
    assert Event.objects.count() == events_before


def test_rep_a_cannot_see_or_move_rep_b_deal_on_the_pages(
    make_user: Callable[..., User], make_team: Callable[..., Any]
) -> None:
    rep_a, rep_b = make_user(team=make_team("East")), make_user(team=make_team("West"))
    deal = make_deal(owner=rep_b, title="Secret roof")
    client = _client(rep_a)
    assert client.get(f"/deals/{deal.pk}/").status_code == 404
    assert client.get(f"/deals/{deal.pk}/edit/").status_code == 404
    won = stages_of(deal.pipeline)["Won"]
    assert client.post(f"/deals/{deal.pk}/move/", {"stage_id": won.pk}).status_code == 404
    assert "Secret roof" not in client.get("/deals/").content.decode()
    assert Deal.objects.get(pk=deal.pk).status == "open"
    assert _client(rep_b).get(f"/deals/{deal.pk}/").status_code == 200


def test_the_deal_detail_shows_stage_history_with_durations(admin_user: User) -> None:
    pipeline = pipeline_with_stages()
    client = _client(admin_user)
    response = client.post(
        "/deals/new/",
        {
            "title": "Kitchen",
            "pipeline": pipeline.pk,
            "amount": "120",
            "currency": "",
            "owner": admin_user.pk,
            "forecast_category": "pipeline",
        },
    )
    deal = Deal.objects.get(title="Kitchen")
    assert response.status_code == 302 and response["Location"] == f"/deals/{deal.pk}/"
    client.post(f"/deals/{deal.pk}/move/", {"stage_id": stages_of(pipeline)["Qualified"].pk})
    html = client.get(f"/deals/{deal.pk}/").content.decode()
    history = html.split("Stage history", 1)[1].split("</table>", 1)[0]
    assert history.index("Lead in") < history.index("Qualified")
    assert history.count("<tr>") == 3  # heading + two visits
    assert "/activities/timeline/deal/" in html


def test_the_create_form_shows_service_errors(admin_user: User) -> None:
    pipeline, other = pipeline_with_stages("Main"), pipeline_with_stages("Other")
    client = _client(admin_user)
    response = client.post(
        "/deals/new/",
        {
            "title": "Bad",
            "pipeline": pipeline.pk,
            "stage": stages_of(other)["Won"].pk,
            "amount": "-5",
            "forecast_category": "pipeline",
        },
    )
    assert response.status_code == 200
    assert "does not belong" in response.content.decode()
    assert Deal.objects.count() == 0


def test_inline_edit_saves_through_the_service(admin_user: User) -> None:
    deal = make_deal(amount=Decimal("10"))
    client = _client(admin_user)
    form = client.get(f"/deals/{deal.pk}/edit/", HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and 'name="amount"' in form.content.decode()
    saved = client.post(
        f"/deals/{deal.pk}/edit/",
        {
            "title": "Renamed",
            "amount": "42",
            "currency": "EUR",
            "owner": "",
            "forecast_category": "commit",
        },
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 200 and "Renamed" in saved.content.decode()
    event = Event.objects.get(type="deal.updated", subject_id=deal.pk)
    assert event.changes["amount"] == {"before": "10.00", "after": "42.00"}
    bad = client.post(
        f"/deals/{deal.pk}/edit/",
        {"title": "x", "amount": "-1", "currency": "EUR", "forecast_category": "commit"},
    )
    assert "Must not be negative" in bad.content.decode()
    assert Deal.objects.get(pk=deal.pk).amount == Decimal("42.00")


def test_the_pipelines_page_lists_stages(admin_user: User, django_assert_num_queries: Any) -> None:
    pipeline_with_stages("Main")
    pipeline_with_stages("Partners")
    client = _client(admin_user)
    with django_assert_num_queries(4):  # session, user, pipelines, stages
        html = client.get("/deals/pipelines/").content.decode()
    assert "Main" in html and "Partners" in html and html.count("badge ok") == 2
