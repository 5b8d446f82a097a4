"""The kanban in a real headless Chromium: drag a deal, watch the totals, check the database."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from flowcrm.accounts.models import User
from flowcrm.core.models import Event
from flowcrm.sales.models import Deal
from flowcrm.sales.tests.factories import make_deal, pipeline_with_stages, stages_of

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a
# thread with a running loop unless told that this test knows what it does.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [
    pytest.mark.browser,
    # CI sets FLOWCRM_REQUIRE_BROWSER so a missing browser fails instead of skipping.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("FLOWCRM_REQUIRE_BROWSER"),
        reason="Chromium is not installed",
    ),
]


@pytest.fixture
def page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def _log_in(page: Any, base_url: str, user: User) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_dragging_a_deal_to_another_stage_updates_the_totals(
    live_server: Any, page: Any, make_user: Callable[..., User]
) -> None:
    from playwright.sync_api import expect

    # given a rep with two deals in "Lead in" and none in "Proposal"
    rep = make_user()
    pipeline = pipeline_with_stages()
    stages = stages_of(pipeline)
    lead_in, proposal = stages["Lead in"], stages["Proposal"]
    moving = make_deal(stage=lead_in, owner=rep, title="Solar roof", amount=Decimal("1200"))
    make_deal(stage=lead_in, owner=rep, title="Heat pump", amount=Decimal("300"))
    _log_in(page, live_server.url, rep)
    page.goto(f"{live_server.url}/deals/?pipeline={pipeline.pk}")
    source_header = page.locator(f"#stage-head-{lead_in.pk}")
    target_header = page.locator(f"#stage-head-{proposal.pk}")
    expect(source_header.locator(".total")).to_have_text("1,500 EUR")
    expect(target_header.locator(".count")).to_have_text("0 deals")
    events_before = Event.objects.count()

    # when the rep drags the deal onto the "Proposal" column
    page.drag_and_drop(
        f"#deal-{moving.pk}", f'section.column[data-stage-id="{proposal.pk}"] .cards'
    )

    # then both columns' totals change without a reload, and the card sits in its new column
    expect(target_header.locator(".count")).to_have_text("1 deal")
    expect(target_header.locator(".total")).to_have_text("1,200 EUR")
    expect(source_header.locator(".total")).to_have_text("300 EUR")
    expect(source_header.locator(".count")).to_have_text("1 deal")
    expect(
        page.locator(f'section.column[data-stage-id="{proposal.pk}"] #deal-{moving.pk}')
    ).to_have_count(1)
    # and the database holds the move with exactly one event
    assert Deal.objects.get(pk=moving.pk).stage_id == proposal.pk
    new_events = list(Event.objects.order_by("id")[events_before:])
    assert [(e.type, e.subject_id, e.actor_label) for e in new_events] == [
        ("deal.stage_changed", moving.pk, rep.email)
    ]


def test_a_refused_drop_restores_the_card_and_shows_the_reason(
    live_server: Any, page: Any, make_user: Callable[..., User]
) -> None:
    from playwright.sync_api import expect

    # given a read-only user on the board (the server refuses their moves)
    viewer = make_user(role="read_only")
    pipeline = pipeline_with_stages()
    stages = stages_of(pipeline)
    deal = make_deal(stage=stages["Lead in"], title="Fixed", amount=Decimal("50"))
    _log_in(page, live_server.url, viewer)
    page.goto(f"{live_server.url}/deals/?pipeline={pipeline.pk}")
    # when the read-only user drags the card
    page.drag_and_drop(
        f"#deal-{deal.pk}", f'section.column[data-stage-id="{stages["Won"].pk}"] .cards'
    )
    # then the card returns to its column, the reason shows, and nothing changed
    expect(page.locator("#board-message")).to_contain_text("read-only")
    expect(
        page.locator(f'section.column[data-stage-id="{stages["Lead in"].pk}"] #deal-{deal.pk}')
    ).to_have_count(1)
    assert Deal.objects.get(pk=deal.pk).stage_id == stages["Lead in"].pk
