"""Custom values are cleaned to their stored type on every write path, for every field type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Contact
from flowcrm.contacts.services import contact_create, contact_update, custom_field_create
from flowcrm.contacts.tests.factories import ContactFactory
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event

pytestmark = pytest.mark.django_db

CASES: list[tuple[str, list[str], Any, Any, Any, str]] = [
    # field_type, choices, accepted input, stored value, rejected input, reason
    ("text", [], "  hello ", "hello", {"a": 1}, "Expected text."),
    ("number", [], "42", 42, "forty-two", "Expected a number."),
    ("money", [], "19.999", 20.0, True, "Expected a number."),
    ("date", [], "2026-03-01", "2026-03-01", "01/03/2026", "Expected a date as YYYY-MM-DD."),
    ("choice", ["EMEA", "APAC"], "EMEA", "EMEA", "Mars", "'Mars' is not one of EMEA, APAC."),
    (
        "multi_choice",
        ["a", "b", "c"],
        ["b", "a", "b"],
        ["b", "a"],
        ["a", "z"],
        "'z' is not one of a, b, c.",
    ),
    ("boolean", [], "yes", True, "maybe", "Expected true or false."),
    (
        "url",
        [],
        "https://acme.com/x",
        "https://acme.com/x",
        "ftp://acme",
        "Enter a valid http(s) URL.",
    ),
    ("email", [], " Ada@Example.com", "ada@example.com", "ada@", "Enter a valid e-mail address."),
]


def define(field_type: str, choices: list[str], actor: Actor) -> None:
    custom_field_create(
        values={
            "record_type": "contact",
            "key": "value",
            "label": "Value",
            "field_type": field_type,
            "choices": choices,
        },
        actor=actor,
    )


@pytest.mark.parametrize(("field_type", "choices", "good", "stored", "bad", "reason"), CASES)
def test_each_custom_field_type_cleans_good_values_and_rejects_bad_ones(
    system_actor: Actor,
    field_type: str,
    choices: list[str],
    good: Any,
    stored: Any,
    bad: Any,
    reason: str,
) -> None:
    # given a custom field of this type
    define(field_type, choices, system_actor)
    # when a contact is created with a good value, then it is stored in its clean form
    contact = contact_create(
        values={"email": "a@example.com", "custom": {"value": good}}, actor=system_actor
    )
    contact.refresh_from_db()
    assert contact.custom == {"value": stored}
    # when it is updated with a bad value, then the field is named and nothing is written
    events_before = Event.objects.count()
    with pytest.raises(ValidationFailed) as failure:
        contact_update(contact=contact, values={"custom": {"value": bad}}, actor=system_actor)
    assert failure.value.errors == {"custom.value": reason}
    contact.refresh_from_db()
    assert contact.custom == {"value": stored}
    assert Event.objects.count() == events_before


def test_user_custom_field_accepts_only_active_users(
    system_actor: Actor, make_user: Callable[..., User]
) -> None:
    define("user", [], system_actor)
    colleague = make_user()
    contact = contact_create(
        values={"email": "a@example.com", "custom": {"value": str(colleague.pk)}},
        actor=system_actor,
    )
    assert contact.custom == {"value": colleague.pk}
    with pytest.raises(ValidationFailed) as failure:
        contact_update(contact=contact, values={"custom": {"value": 999_999}}, actor=system_actor)
    assert failure.value.errors == {"custom.value": "No active user with id 999999."}


def test_a_required_custom_field_must_be_present_on_create(system_actor: Actor) -> None:
    custom_field_create(
        values={
            "record_type": "contact",
            "key": "region",
            "label": "Region",
            "field_type": "text",
            "required": True,
        },
        actor=system_actor,
    )
    with pytest.raises(ValidationFailed) as failure:
        contact_create(values={"email": "a@example.com"}, actor=system_actor)
    assert failure.value.errors == {"custom.region": "This field is required."}
    assert Contact.objects.count() == 0


def test_custom_values_must_be_an_object(system_actor: Actor) -> None:
    contact = ContactFactory.create()
    with pytest.raises(ValidationFailed) as failure:
        contact_update(contact=contact, values={"custom": ["x"]}, actor=system_actor)
    assert failure.value.errors == {"custom": "Expected an object of custom field values."}
