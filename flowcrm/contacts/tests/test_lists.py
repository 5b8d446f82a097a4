"""List endpoints: filters, custom-field filters, sorting, keyset pages, search, query counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.contacts.services import custom_field_create
from flowcrm.contacts.tests.factories import CompanyFactory, ContactFactory, TagFactory
from flowcrm.core.actors import Actor

pytestmark = pytest.mark.django_db


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_filters_combine_and_merged_tombstones_are_hidden(
    admin_api: Any, make_user: Callable[..., User]
) -> None:
    owner = make_user()
    acme = CompanyFactory.create(name="Acme")
    vip = TagFactory.create(name="vip")
    match = ContactFactory.create(
        owner=owner,
        company=acme,
        lifecycle_stage="customer",
        source="web",
        country="FR",
        tags=[vip],
    )
    ContactFactory.create(
        owner=owner, company=acme, lifecycle_stage="lead", source="web", country="FR"
    )
    ContactFactory.create(
        owner=owner, company=acme, lifecycle_stage="customer", source="web", merged_into=match
    )
    ContactFactory.create(lifecycle_stage="customer", source="web", country="FR", tags=[vip])
    params = {
        "owner": owner.pk,
        "company": acme.pk,
        "lifecycle_stage": "customer",
        "source": "web",
        "country": "fr",
        "tag": vip.pk,
    }
    assert ids(admin_api.get("contacts", params)) == [match.pk]


def test_created_range_filter(admin_api: Any) -> None:
    now = timezone.now()
    old = ContactFactory.create(created_at=now - dt.timedelta(days=10))
    recent = ContactFactory.create(created_at=now - dt.timedelta(days=1))
    after = (now - dt.timedelta(days=5)).isoformat()
    assert ids(admin_api.get("contacts", {"created_after": after})) == [recent.pk]
    assert ids(admin_api.get("contacts", {"created_before": after})) == [old.pk]


def test_custom_field_filters_by_type(admin_api: Any, system_actor: Actor) -> None:
    # given a choice, a number and a multi-choice field
    for key, field_type, choices in [
        ("region", "choice", ["EMEA", "APAC"]),
        ("seats", "number", []),
        ("products", "multi_choice", ["crm", "flows", "insights"]),
    ]:
        custom_field_create(
            values={
                "record_type": "contact",
                "key": key,
                "label": key,
                "field_type": field_type,
                "choices": choices,
            },
            actor=system_actor,
        )
    emea_big = ContactFactory.create(
        custom={"region": "EMEA", "seats": 500, "products": ["crm", "flows"]}
    )
    emea_small = ContactFactory.create(custom={"region": "EMEA", "seats": 5, "products": ["crm"]})
    ContactFactory.create(custom={"region": "APAC", "seats": 900, "products": ["flows"]})
    # then each filter narrows the list as its type says
    assert ids(admin_api.get("contacts", {"custom.region": "EMEA", "sort": "id"})) == [
        emea_big.pk,
        emea_small.pk,
    ]
    assert ids(
        admin_api.get("contacts", {"custom.region": "EMEA", "custom.seats__gte": "100"})
    ) == [emea_big.pk]
    assert ids(admin_api.get("contacts", {"custom.seats": "5"})) == [emea_small.pk]
    assert ids(
        admin_api.get("contacts", {"custom.products": "flows", "custom.region": "EMEA"})
    ) == [emea_big.pk]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"custom.nope": "1"}, "custom.nope", "Unknown custom field 'nope' for contact."),
        (
            {"custom.region__gte": "EMEA"},
            "custom.region__gte",
            "Ranges (__gte, __lte, __gt, __lt) work on number, money and date fields.",
        ),
        ({"custom.region": "Mars"}, "custom.region", "'Mars' is not one of EMEA, APAC."),
        (
            {"sort": "password"},
            "sort",
            "Cannot sort by 'password'; one of created_at, first_name, id, last_name, score,"
            " updated_at.",
        ),
        ({"cursor": "!!!"}, "cursor", "Malformed cursor."),
        ({"limit": "500"}, "limit", "Input should be less than or equal to 200"),
    ],
)
def test_bad_list_parameters_are_a_422_naming_the_parameter(
    admin_api: Any, system_actor: Actor, params: dict[str, str], field: str, message: str
) -> None:
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
    response = admin_api.get("contacts", params)
    assert response.status_code == 422
    assert {e["field"]: e["message"] for e in response.json()["errors"]} == {field: message}


def test_keyset_pages_neither_repeat_nor_skip_when_rows_are_inserted_meanwhile(
    admin_api: Any,
) -> None:
    # given five contacts sorted by last name
    for name in ["Adams", "Baker", "Clark", "Davis", "Evans"]:
        ContactFactory.create(last_name=name)
    # when page 1 (two rows) is read, then rows are inserted before and after the cursor
    first = admin_api.get("contacts", {"sort": "last_name", "limit": 2}).json()
    ContactFactory.create(last_name="Aaron")
    ContactFactory.create(last_name="Zimmer")
    names: list[str] = [c["last_name"] for c in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = admin_api.get("contacts", {"sort": "last_name", "limit": 2, "cursor": cursor}).json()
        names += [c["last_name"] for c in page["items"]]
        cursor = page["next_cursor"]
    # then every row after the cursor appears exactly once, in order
    assert names == ["Adams", "Baker", "Clark", "Davis", "Evans", "Zimmer"]


def test_descending_sort_pages_through_equal_keys_by_id(admin_api: Any) -> None:
    same_time = timezone.now()
    made = [ContactFactory.create(created_at=same_time).pk for _ in range(5)]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = admin_api.get("contacts", params).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(made, reverse=True)


def test_company_list_filters_and_sorts_by_name(admin_api: Any) -> None:
    beta = CompanyFactory.create(name="Beta", industry="Retail", size="11-50")
    alpha = CompanyFactory.create(name="Alpha", industry="Retail", size="11-50")
    CompanyFactory.create(name="Gamma", industry="Software")
    assert ids(admin_api.get("companies", {"industry": "Retail", "size": "11-50"})) == [
        alpha.pk,
        beta.pk,
    ]
    assert ids(admin_api.get("companies", {"sort": "-name", "limit": 1})) != [alpha.pk]


def test_the_contact_list_costs_the_same_queries_for_3_or_30_rows(
    admin_api: Any, django_assert_num_queries: Any
) -> None:
    # given 3 contacts with companies, owners and tags (and a token already stamped as used)
    admin_api.get("tags")
    tag = TagFactory.create()
    for _ in range(3):
        ContactFactory.create(company=CompanyFactory.create(), owner=admin_api.user, tags=[tag])
    # then a page costs: the token lookup, the page (with company and owner), the tags
    with django_assert_num_queries(3):
        admin_api.get("contacts", {"limit": 50})
    # and with ten times as many rows, filtered and searched, the same
    for _ in range(27):
        ContactFactory.create(company=CompanyFactory.create(), owner=admin_api.user, tags=[tag])
    with django_assert_num_queries(3):
        admin_api.get("contacts", {"limit": 50})
    with django_assert_num_queries(3):
        admin_api.get("contacts", {"limit": 50, "q": "First", "tag": tag.pk})


def test_the_company_list_costs_the_same_queries_for_3_or_30_rows(
    admin_api: Any, django_assert_num_queries: Any
) -> None:
    admin_api.get("tags")
    tag = TagFactory.create()
    for _ in range(3):
        CompanyFactory.create(owner=admin_api.user).tags.add(tag)
    with django_assert_num_queries(3):
        admin_api.get("companies")
    for _ in range(27):
        CompanyFactory.create(owner=admin_api.user).tags.add(tag)
    with django_assert_num_queries(3):
        admin_api.get("companies", {"q": "company"})
