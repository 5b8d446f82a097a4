"""OCEL 2.0 JSON export: objects with their links, events linked to their objects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowcrm.accounts.models import Role
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.models import Event
from flowcrm.insights.tests.process_fixtures import make_sales_log

pytestmark = pytest.mark.django_db


def _document(api: Any) -> dict[str, Any]:
    response = api.get("insights/export/ocel")
    assert response.status_code == 200
    document: dict[str, Any] = json.loads(b"".join(response.streaming_content))
    return document


def test_export_links_deals_contacts_companies_and_events(admin_api: Any, admin_user: Any) -> None:
    # given a deal of a company with a contact
    sales = make_sales_log(owner=admin_user)
    company = Company.objects.create(name="Acme", domain="acme.test", owner=admin_user)
    contact = Contact.objects.create(first_name="Ada", last_name="L", company=company)
    deal = sales.deals["A"]
    deal.company = company
    deal.save()
    deal.contacts.add(contact)
    # when
    document = _document(admin_api)
    # then
    assert [t["name"] for t in document["objectTypes"]] == ["deal", "contact", "company"]
    assert {t["name"] for t in document["eventTypes"]} == {"deal.created", "deal.stage_changed"}
    objects = {o["id"]: o for o in document["objects"]}
    assert objects[f"deal:{deal.pk}"]["relationships"] == [
        {"objectId": f"contact:{contact.pk}", "qualifier": "contact"},
        {"objectId": f"company:{company.pk}", "qualifier": "company"},
    ]
    assert objects[f"contact:{contact.pk}"]["relationships"] == [
        {"objectId": f"company:{company.pk}", "qualifier": "company"}
    ]
    deal_events = [
        e for e in document["events"] if e["relationships"][0]["objectId"] == f"deal:{deal.pk}"
    ]
    assert [e["type"] for e in deal_events] == ["deal.created"] + ["deal.stage_changed"] * 3
    assert deal_events[0]["relationships"][1:] == objects[f"deal:{deal.pk}"]["relationships"]
    assert len(document["events"]) == Event.objects.filter(subject_type="deal").count()


def test_export_leaves_out_what_the_user_cannot_see(
    api_for: Any, make_user: Any, admin_user: Any
) -> None:
    # given deals A-D owned by the admin and E unowned (visible to everyone)
    sales = make_sales_log(owner=admin_user)
    rep = make_user(role=Role.SALES_REP)
    # when a sales rep of no team exports
    document = _document(api_for(rep))
    # then only deal E and its one event are in it
    unowned = f"deal:{sales.deals['E'].pk}"
    assert [o["id"] for o in document["objects"]] == [unowned]
    assert [e["relationships"][0]["objectId"] for e in document["events"]] == [unowned]
