"""The REST API: CRUD, PATCH semantics, every bad input named, permissions by role and owner."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import override_settings

from flowcrm.accounts.models import Role, Team, User
from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.contacts.services import custom_field_create
from flowcrm.contacts.tests.factories import CompanyFactory, ContactFactory, TagFactory
from flowcrm.core.actors import Actor
from flowcrm.core.models import CustomFieldDefinition, Event

pytestmark = pytest.mark.django_db

ApiFor = Callable[[User], Any]


def field_errors(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def contact_events() -> int:
    return Event.objects.filter(subject_type="contact").count()


def test_creating_reading_patching_and_deleting_a_contact(admin_api: Any) -> None:
    # given a company and a tag
    company = CompanyFactory.create(name="Acme")
    tag = TagFactory.create(name="vip")
    # when a contact is created
    created = admin_api.post(
        "contacts",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "Ada@Example.com",
            "phone": "+49 30 901820",
            "company_id": company.pk,
            "owner_id": admin_api.user.pk,
            "tag_ids": [tag.pk],
        },
    )
    # then it answers 201 with the normalised record
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["email"], body["phone"], body["company"]["name"]) == (
        "ada@example.com",
        "+4930901820",
        "Acme",
    )
    assert [t["name"] for t in body["tags"]] == ["vip"]
    assert body["owner"]["id"] == admin_api.user.pk
    contact_id = body["id"]
    # when only the job title is patched
    patched = admin_api.patch(f"contacts/{contact_id}", {"job_title": "Engineer"})
    # then only it changed, and the event says so with the token as actor
    assert patched.status_code == 200
    assert (patched.json()["job_title"], patched.json()["email"]) == ("Engineer", "ada@example.com")
    updated = Event.objects.filter(subject_id=contact_id, type="contact.updated").get()
    assert updated.changes == {"job_title": {"before": "", "after": "Engineer"}}
    assert updated.actor_kind == "token"
    # when it is read and deleted
    assert admin_api.get(f"contacts/{contact_id}").json()["job_title"] == "Engineer"
    assert admin_api.delete(f"contacts/{contact_id}").status_code == 204
    # then it is gone
    assert admin_api.get(f"contacts/{contact_id}").status_code == 404


def test_patching_with_null_clears_a_field(admin_api: Any) -> None:
    contact = ContactFactory.create(job_title="CTO", company=CompanyFactory.create())
    response = admin_api.patch(f"contacts/{contact.pk}", {"company_id": None})
    assert response.status_code == 200
    assert response.json()["company"] is None


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "'not-an-email' is not a valid e-mail address."),
        (
            {"phone": "12"},
            "phone",
            "'12' has no country code: write it as +<country code>… or set the record's country.",
        ),
        ({"phone": "+49 30 1"}, "phone", "'+49 30 1' is not a valid phone number."),
        ({"owner_id": 999999}, "owner_id", "No active user with id 999999."),
        ({"company_id": 999999}, "company_id", "No company with id 999999."),
        ({"tag_ids": [999999]}, "tag_ids", "Unknown tag id(s): 999999."),
        (
            {"lifecycle_stage": "king"},
            "lifecycle_stage",
            "'king' is not one of subscriber, lead, mql, sql, opportunity, customer,"
            " evangelist, other.",
        ),
        ({"country": "Germany"}, "country", "'Germany' is not an ISO 3166-1 alpha-2 country code."),
        ({"custom": {"nope": 1}}, "custom.nope", "Unknown custom field 'nope' for contact."),
        ({"custom": {"budget": "lots"}}, "custom.budget", "Expected a number."),
        (
            {"score": "high"},
            "score",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        ({"surname": "x"}, "surname", "Extra inputs are not permitted"),
    ],
)
def test_every_bad_contact_input_is_a_422_naming_the_field_and_writes_nothing(
    admin_api: Any, system_actor: Actor, payload: dict[str, Any], field: str, message: str
) -> None:
    # given a money custom field
    custom_field_create(
        values={
            "record_type": "contact",
            "key": "budget",
            "label": "Budget",
            "field_type": "money",
        },
        actor=system_actor,
    )
    events_before = Event.objects.count()
    # when a contact is created with one bad field
    response = admin_api.post("contacts", {"last_name": "Lovelace", **payload})
    # then 422 names the field, and no row and no event exist
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field_errors(response) == {field: message}
    assert Contact.objects.count() == 0
    assert Event.objects.count() == events_before


def test_a_duplicate_email_is_a_422_naming_email(admin_api: Any) -> None:
    ContactFactory.create(email="ada@example.com")
    other = ContactFactory.create(email="other@example.com")
    events_before = Event.objects.count()
    response = admin_api.patch(f"contacts/{other.pk}", {"email": " ADA@example.com"})
    assert response.status_code == 422
    assert field_errors(response) == {
        "email": "Another contact already has the e-mail ada@example.com."
    }
    other.refresh_from_db()
    assert other.email == "other@example.com"
    assert Event.objects.count() == events_before


def test_malformed_json_is_a_400_and_writes_nothing(admin_api: Any) -> None:
    response = admin_api.post("contacts", '{"last_name": "Lovelace",')
    assert response.status_code == 400
    assert field_errors(response) == {"body": "Cannot parse request body"}
    assert Contact.objects.count() == 0 and contact_events() == 0


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_an_oversized_body_is_a_413_and_writes_nothing(admin_api: Any) -> None:
    response = admin_api.post("contacts", json.dumps({"last_name": "x" * 2000}))
    assert response.status_code == 413
    assert field_errors(response) == {"body": "Request body too large."}
    assert Contact.objects.count() == 0 and contact_events() == 0


def test_a_sales_rep_cannot_read_or_change_another_teams_contact(
    api_for: ApiFor, make_user: Callable[..., User], make_team: Callable[..., Team]
) -> None:
    # given two reps in different teams, and a contact owned by rep B
    rep_a = make_user(team=make_team("North"))
    rep_b = make_user(team=make_team("South"))
    contact = ContactFactory.create(owner=rep_b, job_title="CTO")
    api_a = api_for(rep_a)
    # when rep A reads, patches, tags or deletes it
    responses = [
        api_a.get(f"contacts/{contact.pk}"),
        api_a.patch(f"contacts/{contact.pk}", {"job_title": "CEO"}),
        api_a.post(f"contacts/{contact.pk}/tags", {"tag_id": TagFactory.create().pk}),
        api_a.delete(f"contacts/{contact.pk}"),
    ]
    # then every answer is 404 (existence is not leaked) and nothing changed
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    contact.refresh_from_db()
    assert contact.job_title == "CTO" and contact_events() == 0
    # and it is missing from rep A's list but present in rep B's
    assert api_a.get("contacts").json()["items"] == []
    assert [c["id"] for c in api_for(rep_b).get("contacts").json()["items"]] == [contact.pk]


def test_a_sales_rep_sees_own_team_and_unowned_contacts(
    api_for: ApiFor, make_user: Callable[..., User], make_team: Callable[..., Team]
) -> None:
    north = make_team("North")
    rep, teammate, stranger = make_user(team=north), make_user(team=north), make_user()
    own = ContactFactory.create(owner=rep)
    teams = ContactFactory.create(owner=teammate)
    unowned = ContactFactory.create(owner=None)
    ContactFactory.create(owner=stranger)
    ids = {c["id"] for c in api_for(rep).get("contacts").json()["items"]}
    assert ids == {own.pk, teams.pk, unowned.pk}


def test_a_read_only_user_sees_everything_and_changes_nothing(
    api_for: ApiFor, make_user: Callable[..., User]
) -> None:
    reader = api_for(make_user(role=Role.READ_ONLY))
    contact = ContactFactory.create(owner=make_user())
    events_before = Event.objects.count()
    assert reader.get(f"contacts/{contact.pk}").status_code == 200
    responses = [
        reader.post("contacts", {"last_name": "New"}),
        reader.patch(f"contacts/{contact.pk}", {"job_title": "CEO"}),
        reader.delete(f"contacts/{contact.pk}"),
        reader.post("companies", {"name": "New"}),
        reader.post("tags", {"name": "new"}),
    ]
    assert [r.status_code for r in responses] == [403, 403, 403, 403, 403]
    assert Contact.objects.count() == 1 and Company.objects.count() == 0
    assert Tag.objects.count() == 0 and Event.objects.count() == events_before


def test_a_rep_cannot_attach_a_company_they_cannot_see(
    api_for: ApiFor, make_user: Callable[..., User]
) -> None:
    rep = make_user()
    hidden = CompanyFactory.create(owner=make_user())
    response = api_for(rep).post("contacts", {"last_name": "X", "company_id": hidden.pk})
    assert response.status_code == 422
    assert field_errors(response) == {"company_id": f"No company with id {hidden.pk}."}
    assert Contact.objects.count() == 0


def test_company_crud_normalises_the_domain_and_names_bad_fields(admin_api: Any) -> None:
    created = admin_api.post("companies", {"name": "Acme", "domain": "https://www.ACME.com/x"})
    assert created.status_code == 201
    company_id = created.json()["id"]
    assert created.json()["domain"] == "acme.com"
    bad = admin_api.patch(f"companies/{company_id}", {"domain": "not a domain", "size": "huge"})
    assert bad.status_code == 422
    assert field_errors(bad) == {
        "domain": "'not a domain' is not a domain name.",
        "size": "'huge' is not one of 1-10, 11-50, 51-200, 201-1000, 1001-5000, 5001+.",
    }
    assert admin_api.patch(f"companies/{company_id}", {"industry": "Rockets"}).status_code == 200
    tag = TagFactory.create(name="key")
    tagged = admin_api.post(f"companies/{company_id}/tags", {"tag_id": tag.pk})
    assert [t["name"] for t in tagged.json()["tags"]] == ["key"]
    untagged = admin_api.delete(f"companies/{company_id}/tags/{tag.pk}")
    assert untagged.json()["tags"] == []
    assert admin_api.delete(f"companies/{company_id}").status_code == 204
    assert list(
        Event.objects.filter(subject_type="company").order_by("id").values_list("type", flat=True)
    ) == [
        "company.created",
        "company.updated",
        "company.tag_added",
        "company.tag_removed",
        "company.deleted",
    ]


def test_tags_are_created_by_writers_and_renamed_by_admins(
    api_for: ApiFor, admin_api: Any, make_user: Callable[..., User]
) -> None:
    rep = api_for(make_user())
    created = rep.post("tags", {"name": "vip", "color": "#FF0000"})
    assert created.status_code == 201 and created.json()["color"] == "#ff0000"
    tag_id = created.json()["id"]
    assert rep.patch(f"tags/{tag_id}", {"name": "VIP"}).status_code == 403
    assert admin_api.patch(f"tags/{tag_id}", {"name": "VIP"}).json()["name"] == "VIP"
    duplicate = rep.post("tags", {"name": "vip"})
    assert duplicate.status_code == 422
    assert field_errors(duplicate) == {"name": "A tag named 'vip' already exists."}
    assert [t["name"] for t in rep.get("tags").json()] == ["VIP"]
    assert admin_api.delete(f"tags/{tag_id}").status_code == 204


def test_only_admins_define_custom_fields(
    api_for: ApiFor, admin_api: Any, make_user: Callable[..., User]
) -> None:
    definition = {
        "record_type": "contact",
        "key": "region",
        "label": "Region",
        "field_type": "choice",
        "choices": ["EMEA", "APAC"],
    }
    manager = api_for(make_user(role=Role.MANAGER))
    assert manager.post("custom-fields", definition).status_code == 403
    assert not CustomFieldDefinition.objects.exists()
    created = admin_api.post("custom-fields", definition)
    assert created.status_code == 201
    definition_id = created.json()["id"]
    assert [d["key"] for d in manager.get("custom-fields", {"record_type": "contact"}).json()] == [
        "region"
    ]
    patched = admin_api.patch(
        f"custom-fields/{definition_id}", {"choices": ["EMEA", "APAC", "AMER"]}
    )
    assert patched.json()["choices"] == ["EMEA", "APAC", "AMER"]
    bad = admin_api.post("custom-fields", {**definition, "key": "Region!"})
    assert bad.status_code == 422 and list(field_errors(bad)) == ["key"]
    assert manager.delete(f"custom-fields/{definition_id}").status_code == 403
    assert admin_api.delete(f"custom-fields/{definition_id}").status_code == 204
