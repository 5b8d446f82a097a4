"""OCEL 2.0 JSON export: deals, contacts and companies as objects, their events with links.

Object ids are ``<type>:<id>`` (``deal:17``). An event links to its subject (qualifier
``subject``) and to the objects its subject is related to now: a deal's company (``company``) and
contacts (``contact``), a contact's company (``company``). The document is streamed object by
object and event by event; only each object's links are held in memory (to link its events).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from flowcrm.core.models import Event
from flowcrm.core.permissions import visible_q

if TYPE_CHECKING:
    from flowcrm.accounts.models import User

CHUNK = 2000
OBJECT_TYPES = ("deal", "contact", "company")
EPOCH = "1970-01-01T00:00:00Z"

OBJECT_ATTRIBUTES: dict[str, list[tuple[str, str]]] = {
    "deal": [("title", "string"), ("amount", "float"), ("status", "string")],
    "contact": [("name", "string"), ("email", "string"), ("lifecycle_stage", "string")],
    "company": [("name", "string"), ("domain", "string")],
}


def _attributes(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, "time": EPOCH, "value": value} for name, value in values.items()]


def _objects(user: User) -> Iterator[tuple[str, dict[str, Any], dict[str, list[str]]]]:
    from flowcrm.contacts.models import Company, Contact
    from flowcrm.sales.models import Deal

    visible = visible_q(user)
    deals = Deal.objects.filter(visible).prefetch_related("contacts").order_by("id")
    for deal in deals.iterator(chunk_size=CHUNK):
        links = {"contact": [f"contact:{c.pk}" for c in deal.contacts.all()]}
        if deal.company_id is not None:
            links["company"] = [f"company:{deal.company_id}"]
        values = {"title": deal.title, "amount": float(deal.amount), "status": deal.status}
        yield f"deal:{deal.pk}", {"type": "deal", "values": values}, links
    for contact in Contact.objects.filter(visible).order_by("id").iterator(chunk_size=CHUNK):
        links = {"company": [f"company:{contact.company_id}"]} if contact.company_id else {}
        values = {
            "name": f"{contact.first_name} {contact.last_name}".strip(),
            "email": contact.email or "",
            "lifecycle_stage": contact.lifecycle_stage,
        }
        yield f"contact:{contact.pk}", {"type": "contact", "values": values}, links
    for company in Company.objects.filter(visible).order_by("id").iterator(chunk_size=CHUNK):
        values = {"name": company.name, "domain": company.domain}
        yield f"company:{company.pk}", {"type": "company", "values": values}, {}


def ocel_chunks(user: User) -> Iterator[str]:
    """The OCEL 2.0 JSON document of what ``user`` may see, as text chunks."""
    yield '{"objectTypes": ' + json.dumps(
        [
            {"name": kind, "attributes": [{"name": n, "type": t} for n, t in attributes]}
            for kind, attributes in OBJECT_ATTRIBUTES.items()
        ]
    )
    event_types = sorted(
        set(Event.objects.filter(subject_type__in=OBJECT_TYPES).values_list("type", flat=True))
    )
    yield ', "eventTypes": ' + json.dumps([{"name": t, "attributes": []} for t in event_types])
    yield ', "objects": ['
    links_of: dict[str, list[dict[str, str]]] = {}
    first = True
    for object_id, description, links in _objects(user):
        relationships = [
            {"objectId": target, "qualifier": qualifier}
            for qualifier, targets in links.items()
            for target in targets
        ]
        links_of[object_id] = relationships
        item = {
            "id": object_id,
            "type": description["type"],
            "attributes": _attributes(description["values"]),
            "relationships": relationships,
        }
        yield ("" if first else ", ") + json.dumps(item)
        first = False
    yield '], "events": ['
    first = True
    events = Event.objects.filter(subject_type__in=OBJECT_TYPES).order_by("id")
    fields = ("id", "type", "subject_type", "subject_id", "occurred_at")
    for event_id, kind, subject_type, subject_id, occurred_at in events.values_list(
        *fields
    ).iterator(chunk_size=CHUNK):
        subject = f"{subject_type}:{subject_id}"
        if subject not in links_of:
            continue  # not visible to the user, or deleted since
        relationships = [{"objectId": subject, "qualifier": "subject"}, *links_of[subject]]
        item = {
            "id": f"e{event_id}",
            "type": kind,
            "time": occurred_at.isoformat(),
            "attributes": [],
            "relationships": relationships,
        }
        yield ("" if first else ", ") + json.dumps(item)
        first = False
    yield "]}\n"
