"""Companies, deals and activities: relations resolved in bulk, their event types and data."""

from __future__ import annotations

import pytest

from flowcrm.activities.models import Activity
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.models import Event
from flowcrm.imports.models import ImportRowError
from flowcrm.sales.models import Deal, Pipeline, Stage


@pytest.fixture
def pipeline(db):
    sales = Pipeline.objects.create(name="Sales", is_default=True, currency="USD")
    Stage.objects.create(pipeline=sales, name="Lead in", position=1)
    Stage.objects.create(pipeline=sales, name="Demo", position=2)
    Stage.objects.create(pipeline=sales, name="Won", position=3, is_won=True)
    partners = Pipeline.objects.create(name="Partners", currency="EUR")
    Stage.objects.create(pipeline=partners, name="Intro", position=1)
    return sales


def test_companies_upsert_on_domain(write_csv, run_import):
    Company.objects.create(name="Acme", domain="acme.com", industry="")
    path = write_csv(
        [
            ["Name", "Website", "Industry", "Size"],
            ["Acme Corp", "https://www.ACME.com/", "Tools", "11-50"],
            ["Initech", "initech.example", "Software", "huge"],
            ["", "nameless.example", "", ""],
        ]
    )
    job = run_import(path, "companies", fill_empty=True)
    assert (job.created_count, job.updated_count, job.error_count) == (0, 1, 2)
    assert list(Company.objects.values_list("name", "domain", "industry")) == [
        ("Acme", "acme.com", "Tools")
    ]
    assert list(ImportRowError.objects.order_by("line").values_list("line", "message")) == [
        (3, "Size: 'huge' is not one of 1-10, 11-50, 51-200, 201-1000, 1001-5000, 5001+."),
        (4, "(row): name is required for a new company."),
    ]


def test_deals_resolve_pipeline_stage_company_and_owner(write_csv, run_import, pipeline, make_user):
    owner = make_user(email="rep@example.com")
    acme = Company.objects.create(name="Acme", domain="acme.com")
    path = write_csv(
        [
            ["Deal", "Amount", "Pipeline", "Stage", "Company", "Owner", "Close date", "Id"],
            ["Big", "1,200.50", "", "demo", "acme.com", "rep@example.com", "2026-12-24", "D1"],
            ["Closed", "10", "Sales", "Won", "", "", "", "D2"],
            ["Partner", "5", "Partners", "", "", "", "", "D3"],
            ["Lost", "5", "Sales", "Nope", "", "", "", "D4"],
            ["Nowhere", "5", "Unknown", "Demo", "", "", "", "D5"],
        ]
    )
    job = run_import(
        path,
        "deals",
        mapping={
            "Deal": {"target": "title"},
            "Amount": {"target": "amount"},
            "Pipeline": {"target": "pipeline"},
            "Stage": {"target": "stage"},
            "Company": {"target": "company"},
            "Owner": {"target": "owner"},
            "Close date": {"target": "expected_close_date"},
            "Id": {"target": "external_id"},
        },
        match=["external_id"],
    )
    assert (job.created_count, job.error_count) == (3, 2)
    big = Deal.objects.get(external_id="D1")
    assert (str(big.amount), big.stage.name, big.company_id, big.owner_id, big.currency) == (
        "1200.50", "Demo", acme.pk, owner.pk, "USD",
    )  # fmt: skip
    assert str(big.expected_close_date) == "2026-12-24"
    closed = Deal.objects.get(external_id="D2")
    assert (closed.status, closed.closed_at is not None) == ("won", True)
    assert Deal.objects.get(external_id="D3").stage.name == "Intro"  # first open stage
    assert list(ImportRowError.objects.order_by("line").values_list("message", flat=True)) == [
        "Stage: No stage 'Nope' in pipeline 'Sales'.",
        "Pipeline: No pipeline 'Unknown'.",
    ]
    event = Event.objects.get(subject_type="deal", subject_id=big.pk)
    assert event.type == "deal.created"
    assert event.data == {
        "pipeline_id": pipeline.pk, "stage_id": big.stage_id, "stage": "Demo", "status": "open",
    }  # fmt: skip
    assert event.changes["amount"] == {"before": None, "after": "1200.50"}

    # a second run with other amounts updates, but never moves a deal's stage
    path2 = write_csv([["Id", "Amount", "Stage"], ["D1", "99", "Won"]])
    job = run_import(
        path2,
        "deals",
        mapping={
            "Id": {"target": "external_id"},
            "Amount": {"target": "amount"},
            "Stage": {"target": "stage"},
        },
        match=["external_id"],
        policy="update",
    )
    big.refresh_from_db()
    assert (job.updated_count, str(big.amount), big.stage.name) == (1, "99.00", "Demo")
    update = Event.objects.get(type="deal.updated")
    assert update.changes == {"amount": {"before": "1200.50", "after": "99.00"}}


def test_activities_link_to_contacts_by_email(write_csv, run_import):
    ada = Contact.objects.create(email="ada@example.com")
    path = write_csv(
        [
            ["Type", "Subject", "Date", "Contact email", "Duration"],
            ["Call", "Intro call", "2026-03-01 10:00", "ADA@example.com", "300"],
            ["Fax", "Old school", "2026-03-01", "ada@example.com", ""],
            ["Meeting", "Lunch", "01.03.2026", "nobody@example.com", ""],
        ]
    )
    job = run_import(
        path,
        "activities",
        mapping={
            "Type": {"target": "kind"},
            "Subject": {"target": "subject"},
            "Date": {"target": "occurred_at"},
            "Contact email": {"target": "contact"},
            "Duration": {"target": "duration_seconds"},
        },
        match=[],
        policy="create",
    )
    assert (job.created_count, job.error_count) == (1, 2)
    call = Activity.objects.get()
    assert (call.kind, call.contact_id, call.duration_seconds) == ("call", ada.pk, 300)
    assert call.occurred_at.isoformat() == "2026-03-01T10:00:00+00:00"
    event = Event.objects.get(subject_type="activity")
    assert event.type == "activity.logged"
    assert event.data == {
        "kind": "call", "direction": "", "contact_id": ada.pk, "company_id": None, "deal_id": None,
    }  # fmt: skip
    messages = list(ImportRowError.objects.order_by("line").values_list("message", flat=True))
    assert messages[0].startswith("Type: 'Fax' is not one of call, email, meeting, note.")
    assert messages[1] == ("Date: '01.03.2026' is not a date and time in the format ISO 8601.")
