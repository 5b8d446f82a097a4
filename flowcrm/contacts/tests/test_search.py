"""Search: the same behaviour on SQLite (FTS5 + triggers) and PostgreSQL (tsvector + GIN)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from flowcrm.contacts.models import Contact
from flowcrm.contacts.search import search_index_rebuild, search_terms
from flowcrm.contacts.services import company_update, contact_update
from flowcrm.contacts.tests.factories import CompanyFactory, ContactFactory
from flowcrm.core.actors import Actor

pytestmark = pytest.mark.django_db


def found(api: Any, path: str, query: str) -> set[int]:
    response = api.get(path, {"q": query, "limit": 200})
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


@pytest.fixture
def people() -> dict[str, Contact]:
    acme = CompanyFactory.create(name="Acme Rockets", domain="acme.com")
    return {
        "ada": ContactFactory.create(
            first_name="Ada", last_name="Lovelace", email="ada@analytical.org", phone="+4930901820"
        ),
        "grace": ContactFactory.create(
            first_name="Grace", last_name="Hopper", email="grace@navy.mil", company=acme
        ),
        "alan": ContactFactory.create(
            first_name="Alan", last_name="Turing", email="alan@bletchley.uk", phone="+14155552671"
        ),
        "merged": ContactFactory.create(first_name="Ada", last_name="Byron", email=None),
    }


def test_words_match_name_prefixes_in_any_order(admin_api: Any, people: dict[str, Contact]) -> None:
    assert found(admin_api, "contacts", "lov") == {people["ada"].pk}
    assert found(admin_api, "contacts", "lovelace ada") == {people["ada"].pk}
    assert found(admin_api, "contacts", "ADA") == {people["ada"].pk, people["merged"].pk}
    assert found(admin_api, "contacts", "ada turing") == set()


def test_email_company_and_phone_match(admin_api: Any, people: dict[str, Contact]) -> None:
    assert found(admin_api, "contacts", "analytical") == {people["ada"].pk}
    assert found(admin_api, "contacts", "grace@navy") == {people["grace"].pk}
    assert found(admin_api, "contacts", "acme") == {people["grace"].pk}
    assert found(admin_api, "contacts", "acme.com") == {people["grace"].pk}
    assert found(admin_api, "contacts", "+49 30 9018") == {people["ada"].pk}
    assert found(admin_api, "contacts", "030 901820") == {people["ada"].pk}
    assert found(admin_api, "contacts", "(415) 555") == {people["alan"].pk}


def test_search_follows_every_write(
    admin_api: Any, people: dict[str, Contact], system_actor: Actor
) -> None:
    # when a contact is renamed and a company is renamed
    contact_update(contact=people["alan"], values={"last_name": "Kay"}, actor=system_actor)
    assert people["grace"].company is not None
    company_update(
        company=people["grace"].company, values={"name": "Navy Labs"}, actor=system_actor
    )
    # then search sees the new words and not the old ones
    assert found(admin_api, "contacts", "turing") == set()
    assert found(admin_api, "contacts", "kay") == {people["alan"].pk}
    assert found(admin_api, "contacts", "acme rockets") == set()
    assert found(admin_api, "contacts", "navy labs") == {people["grace"].pk}
    # and a deleted contact is gone from search
    people["ada"].delete()
    assert found(admin_api, "contacts", "lovelace") == set()


def test_merged_tombstones_and_invisible_contacts_are_not_found(
    api_for: Any, make_user: Any, admin_api: Any, people: dict[str, Contact]
) -> None:
    Contact.objects.filter(pk=people["merged"].pk).update(merged_into=people["ada"])
    assert found(admin_api, "contacts", "ada") == {people["ada"].pk}
    stranger = make_user()
    Contact.objects.filter(pk=people["ada"].pk).update(owner=make_user())
    assert found(api_for(stranger), "contacts", "ada") == set()


def test_rows_inserted_with_raw_sql_are_searchable(admin_api: Any) -> None:
    # Bulk paths may INSERT directly; the index must follow without service code.
    contact = ContactFactory.build(first_name="Bulk", last_name="Loaded", email="bulk@example.com")
    Contact.objects.bulk_create([contact])
    assert found(admin_api, "contacts", "bulk load") == {
        Contact.objects.get(email="bulk@example.com").pk
    }


def test_rebuilding_the_index_keeps_results(admin_api: Any, people: dict[str, Contact]) -> None:
    search_index_rebuild()
    assert found(admin_api, "contacts", "hopper") == {people["grace"].pk}


def test_companies_match_name_and_domain(admin_api: Any) -> None:
    acme = CompanyFactory.create(name="Acme Rockets", domain="acme-rockets.com")
    CompanyFactory.create(name="Globex", domain="globex.com")
    assert found(admin_api, "companies", "rock") == {acme.pk}
    assert found(admin_api, "companies", "acme-rockets.com") == {acme.pk}
    assert found(admin_api, "companies", "umbrella") == set()


def test_query_syntax_characters_are_plain_text(admin_api: Any, people: dict[str, Contact]) -> None:
    for query in ['"', "ada*", "NEAR(ada)", "ada OR 1=1", "a & b | !c", "' OR ''='", "col:ada"]:
        response = admin_api.get("contacts", {"q": query})
        assert response.status_code == 200, (query, response.content)
    assert found(admin_api, "contacts", '"ada"*') == {people["ada"].pk, people["merged"].pk}
    assert found(admin_api, "contacts", "!!!") == set()


def test_search_terms() -> None:
    assert search_terms("  Ada  LOVElace ") == ["ada", "lovelace"]
    assert search_terms("+49 (30) 901-820") == ["4930901820"]
    assert search_terms("030 901820") == ["30901820"]
    assert search_terms("o'brien_x") == ["o", "brien", "x"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plan")
def test_postgresql_search_uses_the_gin_indexes(admin_api: Any) -> None:
    from flowcrm.contacts.search import contact_search_q

    sql, params = Contact.objects.filter(contact_search_q("ada")).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "contact_search_idx" in plan and "company_search_idx" in plan
