"""Every service writes its row and exactly one event; rejected writes leave nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.contacts.services import (
    company_create,
    company_delete,
    company_tag_add,
    company_update,
    contact_create,
    contact_delete,
    contact_tag_add,
    contact_tag_remove,
    contact_update,
    custom_field_create,
    custom_field_delete,
    custom_field_update,
    tag_create,
    tag_delete,
    tag_update,
)
from flowcrm.contacts.tests.factories import CompanyFactory, ContactFactory, TagFactory
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import CustomFieldDefinition, Event

pytestmark = pytest.mark.django_db


def events_of(subject_type: str, subject_id: int) -> list[Event]:
    return list(
        Event.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("id")
    )


def test_creating_a_contact_normalises_and_records_one_created_event(
    system_actor: Actor, make_user: Callable[..., User]
) -> None:
    # given an owner, a company and a tag
    owner = make_user()
    company = CompanyFactory.create()
    tag = TagFactory.create(name="vip")
    # when a contact is created with messy input
    contact = contact_create(
        values={
            "first_name": " Ada ",
            "last_name": "Lovelace",
            "email": " Ada@Example.COM ",
            "phone": "030 901820",
            "country": "de",
            "company": company,
            "owner": owner,
        },
        tags=[tag],
        actor=system_actor,
    )
    # then the stored values are normal forms
    contact.refresh_from_db()
    assert (contact.first_name, contact.email, contact.phone, contact.country) == (
        "Ada",
        "ada@example.com",
        "+4930901820",
        "DE",
    )
    assert list(contact.tags.all()) == [tag]
    # and exactly one event lists every non-empty field from None
    [event] = events_of("contact", contact.pk)
    assert event.type == "contact.created"
    assert event.actor_kind == "system"
    assert event.changes == {
        "first_name": {"before": None, "after": "Ada"},
        "last_name": {"before": None, "after": "Lovelace"},
        "email": {"before": None, "after": "ada@example.com"},
        "phone": {"before": None, "after": "+4930901820"},
        "country": {"before": None, "after": "DE"},
        "company": {"before": None, "after": company.pk},
        "owner": {"before": None, "after": owner.pk},
        "lifecycle_stage": {"before": None, "after": "lead"},
        "lead_status": {"before": None, "after": "new"},
        "tags": {"before": None, "after": [tag.pk]},
        "unsubscribed": {"before": None, "after": False},
        "score": {"before": None, "after": 0},
    }


def test_updating_a_contact_records_only_the_changed_fields(system_actor: Actor) -> None:
    # given a contact
    contact = contact_create(
        values={"first_name": "Ada", "last_name": "Lovelace", "job_title": "Analyst"},
        actor=system_actor,
    )
    # when two fields change and one is sent unchanged
    contact_update(
        contact=contact,
        values={"job_title": "Engineer", "lifecycle_stage": "customer", "first_name": "Ada"},
        actor=system_actor,
    )
    # then one contact.updated event carries exactly the two changes
    _created, updated = events_of("contact", contact.pk)
    assert updated.type == "contact.updated"
    assert updated.changes == {
        "job_title": {"before": "Analyst", "after": "Engineer"},
        "lifecycle_stage": {"before": "lead", "after": "customer"},
    }
    contact.refresh_from_db()
    assert (contact.job_title, contact.lifecycle_stage) == ("Engineer", "customer")


def test_an_update_that_changes_nothing_writes_no_event(system_actor: Actor) -> None:
    contact = contact_create(values={"email": "ada@example.com"}, actor=system_actor)
    contact_update(contact=contact, values={"email": " ADA@example.com"}, actor=system_actor)
    assert [e.type for e in events_of("contact", contact.pk)] == ["contact.created"]


def test_duplicate_email_among_live_contacts_is_rejected_without_writing(
    system_actor: Actor,
) -> None:
    # given a contact with an e-mail
    contact_create(values={"email": "ada@example.com"}, actor=system_actor)
    before = (Contact.objects.count(), Event.objects.count())
    # when another contact is created with the same e-mail in another case
    with pytest.raises(ValidationFailed) as failure:
        contact_create(values={"email": "ADA@example.com "}, actor=system_actor)
    # then the error names email and nothing was written
    assert failure.value.errors == {
        "email": "Another contact already has the e-mail ada@example.com."
    }
    assert (Contact.objects.count(), Event.objects.count()) == before


def test_a_merged_tombstone_does_not_hold_its_email(system_actor: Actor) -> None:
    survivor = ContactFactory.create(email="other@example.com")
    ContactFactory.create(email="ada@example.com", merged_into=survivor)
    contact = contact_create(values={"email": "ada@example.com"}, actor=system_actor)
    assert contact.email == "ada@example.com"


def test_a_rejected_update_leaves_row_and_log_untouched(system_actor: Actor) -> None:
    # given a contact
    contact = contact_create(values={"email": "ada@example.com", "score": 3}, actor=system_actor)
    # when an update mixes a valid and an invalid field
    with pytest.raises(ValidationFailed) as failure:
        contact_update(contact=contact, values={"score": 9, "phone": "12"}, actor=system_actor)
    # then it names the phone and neither the row nor the log changed
    assert set(failure.value.errors) == {"phone"}
    assert contact.score == 3
    contact.refresh_from_db()
    assert (contact.score, contact.phone) == (3, "")
    assert len(events_of("contact", contact.pk)) == 1


def test_setting_an_inactive_owner_is_rejected(
    system_actor: Actor, make_user: Callable[..., User]
) -> None:
    owner = make_user()
    owner.is_active = False
    owner.save()
    with pytest.raises(ValidationFailed) as failure:
        contact_create(values={"email": "a@example.com", "owner": owner}, actor=system_actor)
    assert failure.value.errors == {"owner": f"User {owner.pk} is not active."}
    assert Contact.objects.count() == 0 and Event.objects.count() == 0


def test_deleting_a_contact_records_one_deleted_event(system_actor: Actor) -> None:
    contact = contact_create(
        values={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        actor=system_actor,
    )
    contact_id = contact.pk
    contact_delete(contact=contact, actor=system_actor)
    assert not Contact.objects.filter(pk=contact_id).exists()
    deleted = events_of("contact", contact_id)[-1]
    assert deleted.type == "contact.deleted"
    assert deleted.data == {"name": "Ada Lovelace", "email": "ada@example.com"}


def test_tagging_and_untagging_record_one_event_each_and_repeats_record_none(
    system_actor: Actor,
) -> None:
    contact = ContactFactory.create()
    vip, partner = TagFactory.create(name="vip"), TagFactory.create(name="partner")
    contact.tags.add(partner)
    assert contact_tag_add(contact=contact, tag=vip, actor=system_actor) is True
    assert contact_tag_add(contact=contact, tag=vip, actor=system_actor) is False
    assert contact_tag_remove(contact=contact, tag=partner, actor=system_actor) is True
    assert contact_tag_remove(contact=contact, tag=partner, actor=system_actor) is False
    added, removed = events_of("contact", contact.pk)
    assert (added.type, added.data) == ("contact.tag_added", {"tag_id": vip.pk, "tag": "vip"})
    assert added.changes == {
        "tags": {"before": [partner.pk], "after": sorted([partner.pk, vip.pk])}
    }
    assert removed.type == "contact.tag_removed"
    assert removed.changes == {"tags": {"before": sorted([partner.pk, vip.pk]), "after": [vip.pk]}}
    assert list(contact.tags.all()) == [vip]


def test_company_services_normalise_the_domain_and_record_one_event_each(
    system_actor: Actor,
) -> None:
    company = company_create(
        values={"name": "Acme", "domain": "https://www.ACME.com/about"}, actor=system_actor
    )
    assert company.domain == "acme.com"
    company_update(company=company, values={"industry": "Rockets"}, actor=system_actor)
    company_update(company=company, values={"industry": "Rockets"}, actor=system_actor)
    tag = TagFactory.create(name="key-account")
    company_tag_add(company=company, tag=tag, actor=system_actor)
    company_id = company.pk
    company_delete(company=company, actor=system_actor)
    events = events_of("company", company_id)
    assert [e.type for e in events] == [
        "company.created",
        "company.updated",
        "company.tag_added",
        "company.deleted",
    ]
    assert events[0].changes == {
        "name": {"before": None, "after": "Acme"},
        "domain": {"before": None, "after": "acme.com"},
    }
    assert events[1].changes == {"industry": {"before": "", "after": "Rockets"}}
    assert events[3].data == {"name": "Acme", "domain": "acme.com"}


def test_deleting_a_company_keeps_its_contacts(system_actor: Actor) -> None:
    company = CompanyFactory.create()
    contact = ContactFactory.create(company=company)
    company_delete(company=company, actor=system_actor)
    contact.refresh_from_db()
    assert contact.company_id is None
    assert not Event.objects.filter(subject_type="contact").exists()


def test_a_company_needs_a_name(system_actor: Actor) -> None:
    with pytest.raises(ValidationFailed) as failure:
        company_create(values={"domain": "acme.com"}, actor=system_actor)
    assert failure.value.errors == {"name": "A company needs a name."}
    assert Company.objects.count() == 0 and Event.objects.count() == 0


def test_tag_services_record_one_event_each(system_actor: Actor) -> None:
    tag = tag_create(name="vip", actor=system_actor)
    with pytest.raises(ValidationFailed) as failure:
        tag_create(name="VIP", actor=system_actor)
    assert failure.value.errors == {"name": "A tag named 'VIP' already exists."}
    tag_update(tag=tag, values={"color": "#FF0000"}, actor=system_actor)
    tag_update(tag=tag, values={"color": "#ff0000"}, actor=system_actor)
    tag_id = tag.pk
    tag_delete(tag=tag, actor=system_actor)
    events = events_of("tag", tag_id)
    assert [e.type for e in events] == ["tag.created", "tag.updated", "tag.deleted"]
    assert events[1].changes == {"color": {"before": "#667085", "after": "#ff0000"}}
    assert Tag.objects.count() == 0


def test_custom_values_are_validated_and_recorded_per_key(system_actor: Actor) -> None:
    # given a choice field for contacts
    custom_field_create(
        values={
            "record_type": "contact",
            "key": "region",
            "label": "Region",
            "field_type": "choice",
            "choices": ["EMEA", "APAC"],
        },
        actor=system_actor,
    )
    contact = contact_create(
        values={"email": "a@example.com", "custom": {"region": "EMEA"}}, actor=system_actor
    )
    # when the value changes, then is cleared
    contact_update(contact=contact, values={"custom": {"region": "APAC"}}, actor=system_actor)
    contact_update(contact=contact, values={"custom": {"region": None}}, actor=system_actor)
    # then each event names custom.region with its before/after
    created, changed, cleared = events_of("contact", contact.pk)
    assert created.changes["custom.region"] == {"before": None, "after": "EMEA"}
    assert changed.changes == {"custom.region": {"before": "EMEA", "after": "APAC"}}
    assert cleared.changes == {"custom.region": {"before": "APAC", "after": None}}
    contact.refresh_from_db()
    assert contact.custom == {}


def test_a_bad_custom_value_is_rejected_without_writing(system_actor: Actor) -> None:
    custom_field_create(
        values={
            "record_type": "contact",
            "key": "budget",
            "label": "Budget",
            "field_type": "money",
        },
        actor=system_actor,
    )
    before = Event.objects.count()
    with pytest.raises(ValidationFailed) as failure:
        contact_create(
            values={"email": "a@example.com", "custom": {"budget": "lots", "nope": 1}},
            actor=system_actor,
        )
    assert failure.value.errors == {
        "custom.budget": "Expected a number.",
        "custom.nope": "Unknown custom field 'nope' for contact.",
    }
    assert Contact.objects.count() == 0 and Event.objects.count() == before


def test_custom_field_definitions_keep_key_and_type_fixed(system_actor: Actor) -> None:
    definition = custom_field_create(
        values={"record_type": "company", "key": "tier", "label": "Tier", "field_type": "text"},
        actor=system_actor,
    )
    with pytest.raises(ValidationFailed) as failure:
        custom_field_update(
            definition=definition, values={"field_type": "number"}, actor=system_actor
        )
    assert failure.value.errors == {"field_type": "Cannot change once the field exists."}
    custom_field_update(definition=definition, values={"label": "Account tier"}, actor=system_actor)
    definition_id = definition.pk
    custom_field_delete(definition=definition, actor=system_actor)
    events = events_of("customfielddefinition", definition_id)
    assert [e.type for e in events] == [
        "customfielddefinition.created",
        "customfielddefinition.updated",
        "customfielddefinition.deleted",
    ]
    assert events[1].changes == {"label": {"before": "Tier", "after": "Account tier"}}
    assert not CustomFieldDefinition.objects.exists()


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (
            {"key": "Bad Key"},
            {"key": "Use lower-case letters, digits and underscores, starting with a letter."},
        ),
        (
            {"field_type": "colour"},
            {
                "field_type": (
                    "One of text, number, money, date, choice, multi_choice, boolean, url,"
                    " email, user."
                )
            },
        ),
        ({"field_type": "choice"}, {"choices": "A choice field needs at least one choice."}),
        ({"choices": ["a"]}, {"choices": "Only choice and multi-choice fields have choices."}),
        (
            {"record_type": "planet"},
            {"record_type": "One of contact, company, deal, activity, task."},
        ),
    ],
)
def test_invalid_custom_field_definitions_are_rejected(
    system_actor: Actor, values: dict[str, object], errors: dict[str, str]
) -> None:
    base = {"record_type": "contact", "key": "tier", "label": "Tier", "field_type": "text"}
    with pytest.raises(ValidationFailed) as failure:
        custom_field_create(values={**base, **values}, actor=system_actor)
    assert failure.value.errors == errors
    assert not CustomFieldDefinition.objects.exists() and not Event.objects.exists()


def test_a_duplicate_external_id_is_rejected_naming_it(system_actor: Actor) -> None:
    contact_create(values={"last_name": "A", "external_id": "crm-1"}, actor=system_actor)
    with pytest.raises(ValidationFailed) as failure:
        contact_create(values={"last_name": "B", "external_id": "crm-1"}, actor=system_actor)
    assert failure.value.errors == {
        "external_id": "Another contact already has the external id crm-1."
    }
    assert Contact.objects.count() == 1
