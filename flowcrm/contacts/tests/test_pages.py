"""Pages: list (full and htmx fragment), detail, inline edit, create, permissions, query counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from flowcrm.accounts.models import Role, Team, User
from flowcrm.contacts.models import Company, Contact
from flowcrm.contacts.services import custom_field_create
from flowcrm.contacts.tests.factories import CompanyFactory, ContactFactory, TagFactory
from flowcrm.core.actors import Actor
from flowcrm.core.models import CustomFieldDefinition, Event

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_list_page_shows_visible_contacts_and_htmx_gets_only_the_results(
    make_user: Callable[..., User],
) -> None:
    rep = make_user()
    mine = ContactFactory.create(first_name="Ada", last_name="Lovelace", owner=rep)
    ContactFactory.create(first_name="Hidden", last_name="Person", owner=make_user())
    client = logged_in(rep)
    page = client.get("/contacts/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and "Ada Lovelace" in html and "Hidden Person" not in html
    fragment = client.get("/contacts/", {"q": "lovel"}, headers=HTMX).content.decode()
    assert "<html" not in fragment and f"/contacts/{mine.pk}/" in fragment
    assert (
        "Ada Lovelace"
        not in client.get("/contacts/", {"q": "nobody"}, headers=HTMX).content.decode()
    )


def test_the_list_page_has_a_next_link_that_continues_the_list(admin_user: User) -> None:
    for index in range(55):
        ContactFactory.create(last_name=f"Person{index:02d}")
    client = logged_in(admin_user)
    first = client.get("/contacts/", {"sort": "last_name"})
    cursor = first.context["next_cursor"]
    assert cursor and 'rel="next"' in first.content.decode()
    second = client.get("/contacts/", {"sort": "last_name", "cursor": cursor})
    assert [c.last_name for c in second.context["items"]] == [f"Person{i}" for i in range(50, 55)]
    assert second.context["next_cursor"] is None


def test_a_bad_filter_shows_the_reason_instead_of_failing(admin_user: User) -> None:
    response = logged_in(admin_user).get("/contacts/", {"sort": "password"})
    assert response.status_code == 200
    assert "Cannot sort by" in response.content.decode()


def test_list_pages_cost_the_same_queries_for_3_or_30_rows(
    admin_user: User, django_assert_num_queries: Any
) -> None:
    client = logged_in(admin_user)
    tag = TagFactory.create()
    for _ in range(3):
        ContactFactory.create(
            company=CompanyFactory.create(owner=admin_user), owner=admin_user, tags=[tag]
        )
    # session + user, users for the owner filter, tags for the tag filter, the page, its tags
    with django_assert_num_queries(6):
        client.get("/contacts/")
    with django_assert_num_queries(6):
        client.get("/contacts/companies/")
    for _ in range(27):
        ContactFactory.create(
            company=CompanyFactory.create(owner=admin_user), owner=admin_user, tags=[tag]
        )
    with django_assert_num_queries(6):
        client.get("/contacts/")
    with django_assert_num_queries(6):
        client.get("/contacts/companies/")
    with django_assert_num_queries(6):
        client.get("/contacts/", {"q": "first"}, headers=HTMX)


def test_detail_shows_fields_tags_and_a_timeline_that_degrades_to_a_link(admin_user: User) -> None:
    contact = ContactFactory.create(
        first_name="Ada", last_name="Lovelace", tags=[TagFactory.create(name="vip")]
    )
    html = logged_in(admin_user).get(f"/contacts/{contact.pk}/").content.decode()
    assert "Ada Lovelace" in html and "vip" in html
    assert f'hx-get="/activities/timeline/contact/{contact.pk}/"' in html
    assert f'<a href="/activities/timeline/contact/{contact.pk}/">Open the timeline</a>' in html


def test_a_rep_cannot_open_or_edit_another_teams_contact(
    make_user: Callable[..., User], make_team: Callable[..., Team]
) -> None:
    rep_a, rep_b = make_user(team=make_team("North")), make_user(team=make_team("South"))
    contact = ContactFactory.create(owner=rep_b, job_title="CTO")
    client = logged_in(rep_a)
    assert client.get(f"/contacts/{contact.pk}/").status_code == 404
    assert (
        client.post(f"/contacts/{contact.pk}/field/job_title/", {"job_title": "CEO"}).status_code
        == 404
    )
    assert client.post(f"/contacts/{contact.pk}/delete/").status_code == 404
    contact.refresh_from_db()
    assert contact.job_title == "CTO" and not Event.objects.filter(subject_type="contact").exists()


def test_inline_edit_saves_through_the_service_and_rerenders_the_field(admin_user: User) -> None:
    contact = ContactFactory.create(job_title="Analyst")
    client = logged_in(admin_user)
    editor = client.get(f"/contacts/{contact.pk}/field/job_title/", {"edit": "1"}, headers=HTMX)
    assert (
        'name="job_title"' in editor.content.decode()
        and 'value="Analyst"' in editor.content.decode()
    )
    saved = client.post(
        f"/contacts/{contact.pk}/field/job_title/", {"job_title": "Engineer"}, headers=HTMX
    )
    assert saved.status_code == 200
    assert "Engineer" in saved.content.decode() and "<form" not in saved.content.decode()
    event = Event.objects.get(subject_type="contact", subject_id=contact.pk)
    assert (event.type, event.changes, event.actor_user_id) == (
        "contact.updated",
        {"job_title": {"before": "Analyst", "after": "Engineer"}},
        admin_user.pk,
    )


def test_inline_edit_shows_the_reason_and_writes_nothing_on_bad_input(admin_user: User) -> None:
    contact = ContactFactory.create(email="ada@example.com")
    response = logged_in(admin_user).post(
        f"/contacts/{contact.pk}/field/email/", {"email": "not-an-email"}, headers=HTMX
    )
    html = response.content.decode()
    assert "&#x27;not-an-email&#x27; is not a valid e-mail address." in html and "<form" in html
    contact.refresh_from_db()
    assert contact.email == "ada@example.com" and not Event.objects.exists()


def test_inline_edit_of_custom_fields_and_company(admin_user: User, system_actor: Actor) -> None:
    custom_field_create(
        values={
            "record_type": "contact",
            "key": "products",
            "label": "Products",
            "field_type": "multi_choice",
            "choices": ["crm", "flows"],
        },
        actor=system_actor,
    )
    contact = ContactFactory.create()
    acme = CompanyFactory.create(name="Acme")
    client = logged_in(admin_user)
    client.post(
        f"/contacts/{contact.pk}/field/custom.products/",
        {"custom.products": ["flows", "crm"]},
        headers=HTMX,
    )
    picked = client.post(
        f"/contacts/{contact.pk}/field/company/", {"company": f"Acme · #{acme.pk}"}, headers=HTMX
    )
    assert "Acme" in picked.content.decode()
    contact.refresh_from_db()
    assert contact.custom == {"products": ["flows", "crm"]} and contact.company_id == acme.pk
    options = client.get("/contacts/companies/options/", {"company": "acm"}).content.decode()
    assert f'value="Acme · #{acme.pk}"' in options


def test_a_read_only_user_gets_no_editors_and_cannot_post(make_user: Callable[..., User]) -> None:
    reader = make_user(role=Role.READ_ONLY)
    contact = ContactFactory.create(job_title="CTO")
    client = logged_in(reader)
    page = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert (
        "/field/job_title/?edit=1" not in page
        and "New contact" not in client.get("/contacts/").content.decode()
    )
    assert (
        client.post(f"/contacts/{contact.pk}/field/job_title/", {"job_title": "CEO"}).status_code
        == 403
    )
    assert client.post("/contacts/new/", {"last_name": "X"}).status_code == 403
    contact.refresh_from_db()
    assert contact.job_title == "CTO" and Contact.objects.count() == 1


def test_the_create_form_creates_or_shows_every_reason(admin_user: User) -> None:
    client = logged_in(admin_user)
    assert client.get("/contacts/new/").status_code == 200
    base = {"last_name": "Lovelace", "lifecycle_stage": "lead", "score": "3"}
    bad_score = client.post("/contacts/new/", {**base, "score": "x"})
    assert bad_score.status_code == 422
    assert "Expected a whole number." in bad_score.content.decode()
    bad = client.post("/contacts/new/", {**base, "email": "nope", "phone": "12"})
    assert bad.status_code == 422
    html = bad.content.decode()
    assert "is not a valid e-mail address" in html and "has no country code" in html
    assert Contact.objects.count() == 0 and not Event.objects.exists()
    good = client.post(
        "/contacts/new/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ADA@example.com",
            "lifecycle_stage": "lead",
            "score": "3",
        },
    )
    contact = Contact.objects.get()
    assert good.status_code == 302 and good["Location"] == f"/contacts/{contact.pk}/"
    assert (contact.email, contact.score) == ("ada@example.com", 3)


def test_tags_are_added_and_removed_from_the_detail_page(admin_user: User) -> None:
    contact = ContactFactory.create()
    vip = TagFactory.create(name="vip")
    client = logged_in(admin_user)
    added = client.post(f"/contacts/{contact.pk}/tags/", {"tag": vip.pk}, headers=HTMX)
    assert "vip" in added.content.decode()
    client.post(f"/contacts/{contact.pk}/tags/", {"remove": vip.pk}, headers=HTMX)
    assert list(contact.tags.all()) == []
    assert list(Event.objects.values_list("type", flat=True).order_by("id")) == [
        "contact.tag_added",
        "contact.tag_removed",
    ]


def test_company_pages_create_show_and_edit(admin_user: User) -> None:
    client = logged_in(admin_user)
    created = client.post(
        "/contacts/companies/new/", {"name": "Acme", "domain": "https://www.acme.com/"}
    )
    company = Company.objects.get()
    assert created.status_code == 302 and company.domain == "acme.com"
    ContactFactory.create(first_name="Grace", last_name="Hopper", company=company)
    detail = client.get(f"/contacts/companies/{company.pk}/").content.decode()
    assert "Grace Hopper" in detail and "acme.com" in detail
    client.post(
        f"/contacts/companies/{company.pk}/field/industry/", {"industry": "Rockets"}, headers=HTMX
    )
    company.refresh_from_db()
    assert company.industry == "Rockets"
    listing = client.get("/contacts/companies/", {"q": "acme"}, headers=HTMX).content.decode()
    assert f"/contacts/companies/{company.pk}/" in listing


def test_only_admins_open_the_custom_fields_page(
    admin_user: User, make_user: Callable[..., User]
) -> None:
    assert (
        logged_in(make_user(role=Role.MANAGER)).get("/contacts/custom-fields/").status_code == 403
    )
    client = logged_in(admin_user)
    bad = client.post(
        "/contacts/custom-fields/",
        {"record_type": "contact", "key": "Bad Key", "label": "X", "field_type": "text"},
    )
    assert bad.status_code == 422 and not CustomFieldDefinition.objects.exists()
    client.post(
        "/contacts/custom-fields/",
        {
            "record_type": "contact",
            "key": "region",
            "label": "Region",
            "field_type": "choice",
            "choices": "EMEA, APAC",
        },
    )
    definition = CustomFieldDefinition.objects.get()
    assert (definition.key, definition.choices) == ("region", ["EMEA", "APAC"])
    assert "region" in client.get("/contacts/custom-fields/").content.decode()


def test_the_django_admin_lists_records_read_only(admin_user: User) -> None:
    contact = ContactFactory.create(email="ada@example.com")
    client = logged_in(admin_user)
    for url in ["/admin/contacts/contact/", "/admin/contacts/company/", "/admin/contacts/tag/"]:
        assert client.get(url).status_code == 200
    assert (
        "ada@example.com"
        in client.get("/admin/contacts/contact/", {"q": "ada@example.com"}).content.decode()
    )
    assert client.get("/admin/contacts/contact/add/").status_code == 403
    assert (
        client.post(f"/admin/contacts/contact/{contact.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert Contact.objects.count() == 1
