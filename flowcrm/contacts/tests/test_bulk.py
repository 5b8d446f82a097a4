"""The bulk paths write normalised rows and exactly one event per record, like the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from flowcrm.accounts.models import User
from flowcrm.contacts.bulk import company_bulk_create, contact_bulk_create
from flowcrm.contacts.models import Company, Contact
from flowcrm.contacts.services import company_create, contact_create
from flowcrm.contacts.tests.factories import CompanyFactory, ContactFactory, TagFactory
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import CustomFieldDefinition, Event

pytestmark = pytest.mark.django_db

BACK_THEN = dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.UTC)


def test_bulk_contacts_are_normalised_and_get_the_event_the_service_would_record(
    system_actor: Actor, make_user: Callable[..., User]
) -> None:
    # given an owner, a company, a tag and a custom field
    owner = make_user()
    company = CompanyFactory.create()
    tag = TagFactory.create(name="vip")
    CustomFieldDefinition.objects.create(
        record_type="contact", key="region", label="Region", field_type="choice", choices=["EMEA"]
    )
    values = {
        "first_name": " Ada ",
        "last_name": "Lovelace",
        "email": " Ada@Example.COM ",
        "phone": "030 901820",
        "country": "de",
        "lifecycle_stage": "mql",
        "custom": {"region": "EMEA"},
    }
    # when one contact is created in bulk (back-dated) and a twin through the service
    [bulk_id] = contact_bulk_create(
        [
            {
                **values,
                "company_id": company.pk,
                "owner_id": owner.pk,
                "tag_ids": [tag.pk],
                "created_at": BACK_THEN,
            }
        ],
        actor=system_actor,
    )
    bulk_contact = Contact.objects.get(pk=bulk_id)
    [bulk_event] = Event.objects.filter(subject_type="contact", subject_id=bulk_id)
    bulk_contact.email = None  # free the address for the twin
    bulk_contact.save(update_fields=["email"])
    twin = contact_create(
        values={**values, "company": company, "owner": owner}, tags=[tag], actor=system_actor
    )
    [twin_event] = Event.objects.filter(subject_type="contact", subject_id=twin.pk)
    # then the bulk row holds the normal forms and is back-dated
    assert (bulk_contact.phone, bulk_contact.country, bulk_contact.created_at) == (
        "+4930901820",
        "DE",
        BACK_THEN,
    )
    assert list(bulk_contact.tags.values_list("pk", flat=True)) == [tag.pk]
    # and its one event carries what the service records, at the back-dated time
    assert bulk_event.type == "contact.created"
    assert bulk_event.occurred_at == BACK_THEN
    assert bulk_event.changes == twin_event.changes
    assert bulk_event.changes["email"] == {"before": None, "after": "ada@example.com"}
    assert bulk_event.changes["custom.region"] == {"before": None, "after": "EMEA"}


def test_bulk_companies_get_one_event_each_matching_the_service(system_actor: Actor) -> None:
    # given rows with messy domains and countries
    rows = [
        {"name": f"Acme {n}", "domain": f"https://www.Acme{n}.com/about", "country": "fr"}
        for n in range(3)
    ]
    # when they are created in bulk
    ids = company_bulk_create(rows, actor=system_actor, batch_size=2)
    # then three normalised companies exist, each with one company.created event
    assert list(Company.objects.order_by("pk").values_list("domain", "country")) == [
        ("acme0.com", "FR"),
        ("acme1.com", "FR"),
        ("acme2.com", "FR"),
    ]
    events = Event.objects.filter(type="company.created").order_by("subject_id")
    assert [e.subject_id for e in events] == ids
    twin = company_create(values={**rows[0], "domain": "acme9.com"}, actor=system_actor)
    twin_event = Event.objects.get(subject_type="company", subject_id=twin.pk)
    assert events[0].changes == {
        **twin_event.changes,
        "domain": {"before": None, "after": "acme0.com"},
    }


def test_a_batch_with_a_duplicate_email_is_rejected_and_writes_nothing(
    system_actor: Actor,
) -> None:
    # given an existing contact and rows repeating an e-mail in another case
    ContactFactory.create(email="taken@example.com")
    events_before = Event.objects.count()
    rows = [
        {"last_name": "One", "email": "new@example.com"},
        {"last_name": "Two", "email": " NEW@example.com"},
        {"last_name": "Three", "email": "Taken@Example.com"},
        {"last_name": "Four", "phone": "not a phone", "country": "US"},
    ]
    # when they are created in bulk
    with pytest.raises(ValidationFailed) as failure:
        contact_bulk_create(rows, actor=system_actor)
    # then each bad row is named, and no contact or event was written
    assert set(failure.value.errors) == {"rows.1.email", "rows.2.email", "rows.3.phone"}
    assert Contact.objects.count() == 1
    assert Event.objects.count() == events_before


def test_duplicates_across_batches_are_caught_and_earlier_batches_stay(
    system_actor: Actor,
) -> None:
    # given rows whose third repeats the first, in batches of two
    rows = [
        {"last_name": "A", "email": "a@example.com"},
        {"last_name": "B", "email": "b@example.com"},
        {"last_name": "C", "email": "A@example.com"},
    ]
    # when created in bulk
    with pytest.raises(ValidationFailed) as failure:
        contact_bulk_create(rows, actor=system_actor, batch_size=2)
    # then the second batch is rejected and the first is kept with its events
    assert failure.value.errors == {"rows.2.email": "A contact with email a@example.com exists."}
    assert sorted(Contact.objects.values_list("last_name", flat=True)) == ["A", "B"]
    assert Event.objects.filter(type="contact.created").count() == 2
