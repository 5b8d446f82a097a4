"""Streamed CSV exports: formula escaping, permissions, filters, constant queries."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from flowcrm.accounts.models import Role
from flowcrm.contacts.models import Company, Contact
from flowcrm.imports import exports
from flowcrm.imports.exports import escape_cell
from flowcrm.sales.models import Deal, Pipeline, Stage


def read(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("=1+2", "'=1+2"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_cells_that_start_like_formulas_get_an_apostrophe(value, escaped):
    assert escape_cell(value) == escaped


@pytest.mark.django_db
def test_contacts_export_respects_visibility_and_filters(api_for, make_user, make_team):
    team = make_team("North")
    rep = make_user(role=Role.SALES_REP, team=team)
    stranger = make_user(role=Role.SALES_REP, team=make_team("South"))
    acme = Company.objects.create(name="Acme")
    Contact.objects.create(email="mine@example.com", first_name="Mine", owner=rep, company=acme)
    Contact.objects.create(email="theirs@example.com", first_name="Theirs", owner=stranger)
    Contact.objects.create(email="free@example.com", first_name="@Free", lifecycle_stage="customer")
    rows = read(api_for(rep).get("imports/exports/contacts"))
    assert [row[3] for row in rows] == ["email", "mine@example.com", "free@example.com"]
    assert rows[1][6] == "Acme"
    assert rows[2][1] == "'@Free"
    filtered = read(api_for(rep).get("imports/exports/contacts", {"lifecycle_stage": "customer"}))
    assert [row[3] for row in filtered] == ["email", "free@example.com"]


@pytest.mark.django_db
def test_merged_contacts_are_not_exported(admin_api):
    live = Contact.objects.create(email="live@example.com")
    Contact.objects.create(email="gone@example.com", merged_into=live)
    rows = read(admin_api.get("imports/exports/contacts"))
    assert [row[3] for row in rows] == ["email", "live@example.com"]


@pytest.mark.django_db
def test_export_streams_in_batches_with_a_constant_number_of_queries(
    admin_api, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(exports, "EXPORT_BATCH", 10)
    Contact.objects.bulk_create([Contact(email=f"c{i}@example.com") for i in range(25)])
    response = admin_api.get("imports/exports/contacts")
    # 25 rows in batches of 10: three batches with rows and one empty batch that ends it,
    # whatever the number of related companies and owners (joined, not queried per row).
    with django_assert_num_queries(4):
        rows = read(response)
    assert len(rows) == 26


@pytest.mark.django_db
def test_deals_and_companies_export(admin_api):
    pipeline = Pipeline.objects.create(name="Sales", is_default=True)
    stage = Stage.objects.create(pipeline=pipeline, name="Demo", position=1)
    acme = Company.objects.create(name="Acme", domain="acme.com")
    Deal.objects.create(
        title="Big one", amount="1200.50", pipeline=pipeline, stage=stage, company=acme
    )
    deals = read(admin_api.get("imports/exports/deals", {"status": "open"}))
    assert deals[1][1:8] == ["Big one", "1200.50", "EUR", "Sales", "Demo", "open", "Acme"]
    companies = read(admin_api.get("imports/exports/companies", {"q": "acme"}))
    assert companies[1][1:3] == ["Acme", "acme.com"]


@pytest.mark.django_db
def test_unknown_export_type_and_bad_filter_are_422(admin_api):
    assert admin_api.get("imports/exports/tickets").status_code == 422
    response = admin_api.get("imports/exports/contacts", {"created_after": "yesterday"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "created_after"
