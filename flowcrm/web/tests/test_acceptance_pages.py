"""Acceptance: every page in the navigation renders inside the layout for a rep and an admin;
a rep cannot open another team's records; the demo data set renders home and the kanban.
"""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils.html import escape

from flowcrm.accounts.models import Role, Team, User
from flowcrm.contacts.models import Contact
from flowcrm.core.actors import Actor
from flowcrm.sales import services
from flowcrm.sales.models import Deal, Pipeline
from flowcrm.web.navigation import NAVIGATION

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # The users here log in by session or token, never by password; hashing need not be slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


LAYOUT_NAV = '<nav class="mainnav" aria-label="Main">'


def require_routed(url: str) -> None:
    """Skip (saying why) while a navigation entry's page is not routed in this build.

    The navigation lists pages whose apps ship them separately; once a page is routed the test
    runs against it with no change here.
    """
    if not _resolves(url):
        pytest.skip(f"{url} is not routed in this build")


def _resolves(url: str) -> bool:
    try:
        resolve(url)
    except Resolver404:
        return False
    return True


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def pipeline(system_actor: Actor) -> Any:
    return services.pipeline_create(
        name="Main",
        currency="EUR",
        is_default=True,
        stages=[
            services.StageSpec(name="New"),
            services.StageSpec(name="Won", is_won=True),
            services.StageSpec(name="Lost", is_lost=True),
        ],
        actor=system_actor,
    )


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.ADMIN])
@pytest.mark.parametrize("item", NAVIGATION, ids=[item.section for item in NAVIGATION])
def test_every_navigation_page_renders_inside_the_layout(
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    pipeline: Any,
    role: str,
    item: Any,
) -> None:
    require_routed(item.url)
    # Given a logged-in user of the role
    user = make_user(role=role, team=make_team("Sales"))
    # When they open the navigation entry
    response = logged_in(user).get(item.url)
    # Then the page renders with the layout's navigation, every entry linked
    assert response.status_code == 200, (item.url, response.status_code)
    html = response.content.decode()
    assert LAYOUT_NAV in html
    for entry in NAVIGATION:
        assert f'href="{entry.url}"' in html


def test_anonymous_visitors_are_sent_to_the_login_page(db: None) -> None:
    for item in NAVIGATION:
        if not _resolves(item.url):
            continue
        response = Client().get(item.url)
        assert response.status_code == 302, item.url
        assert response["Location"].startswith("/login/"), item.url


def test_a_rep_gets_404_for_another_teams_deal(
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    pipeline: Any,
    system_actor: Actor,
) -> None:
    # Given two reps in different teams, each with a deal
    rep = make_user(team=make_team("Sales North"))
    stranger = make_user(team=make_team("Sales South"))
    own = services.deal_create(title="Mine", pipeline=pipeline, owner=rep, actor=system_actor)
    theirs = services.deal_create(
        title="Theirs", pipeline=pipeline, owner=stranger, actor=system_actor
    )
    client = logged_in(rep)
    # When the rep opens both deal pages
    # Then their own renders and the other team's is not found
    assert client.get(f"/deals/{own.pk}/").status_code == 200
    assert client.get(f"/deals/{theirs.pk}/").status_code == 404
    assert client.get(f"/deals/{theirs.pk}/edit/").status_code == 404
    # ... and the board does not list the other team's deal
    board = client.get("/deals/").content.decode()
    assert "Mine" in board
    assert "Theirs" not in board


def test_a_rep_gets_404_for_another_teams_contact(
    make_user: Callable[..., User], make_team: Callable[..., Team]
) -> None:
    require_routed("/contacts/1/")
    # Given two reps in different teams, each owning a contact
    rep = make_user(team=make_team("Sales North"))
    stranger = make_user(team=make_team("Sales South"))
    own = Contact.objects.create(first_name="Own", last_name="Contact", owner=rep)
    theirs = Contact.objects.create(first_name="Their", last_name="Contact", owner=stranger)
    client = logged_in(rep)
    # When the rep opens both contact pages
    # Then their own renders and the other team's is not found
    assert client.get(f"/contacts/{own.pk}/").status_code == 200
    assert client.get(f"/contacts/{theirs.pk}/").status_code == 404


def test_demo_data_renders_home_and_the_kanban_for_the_admin(
    admin_user: User, django_assert_max_num_queries: Any
) -> None:
    # Given the demo data set at a tiny size
    call_command("demo", "--contacts", "40", "--companies", "8", "--deals", "30", stdout=StringIO())
    assert Deal.objects.count() == 30
    client = logged_in(admin_user)
    # When the admin opens home and the deals kanban
    # Then both render within a fixed query budget (no query per deal or per stage)
    with django_assert_max_num_queries(4):
        home = client.get("/")
    assert home.status_code == 200
    assert LAYOUT_NAV in home.content.decode()
    with django_assert_max_num_queries(12):
        board = client.get("/deals/")
    assert board.status_code == 200
    html = board.content.decode()
    assert LAYOUT_NAV in html
    default = Pipeline.objects.get(is_default=True)
    for stage in default.stages.all():
        assert stage.name in html
    newest_open = (
        Deal.objects.filter(pipeline=default, status="open").order_by("-stage_entered_at").first()
    )
    assert newest_open is not None
    assert escape(newest_open.title) in html
