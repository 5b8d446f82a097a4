"""Helpers for runtime tests: a tiny condition language, flows, contacts."""

from __future__ import annotations

from typing import Any

from flowcrm.contacts.models import Contact
from flowcrm.core.actors import Actor
from flowcrm.core.events import created_changes, record_event
from flowcrm.flows.models import Flow
from flowcrm.flows.services import flow_create, flow_publish

ADMIN = Actor.system("tests")


def make_flow(definition: dict[str, Any], name: str | None = None) -> Flow:
    flow = flow_create(name=name or definition["name"], draft=definition, actor=ADMIN)
    flow_publish(flow=flow, actor=ADMIN, activate=True)
    flow.refresh_from_db()
    return flow


def new_contact(**values: Any) -> Contact:
    """A contact written with its ``contact.created`` event (as the contacts service does)."""
    contact = Contact.objects.create(**values)
    record_event(
        type="contact.created",
        subject=contact,
        actor=ADMIN,
        changes=created_changes({k: getattr(contact, k) for k in ("email", "score", "country")}),
    )
    return contact


def lead_routing(rep_ids: list[int]) -> dict[str, Any]:
    return {
        "name": "Route new inbound leads",
        "trigger": {"type": "record_event", "event": "contact.created"},
        "lanes": [{"id": "sales", "name": "Sales", "role": "sales_rep"}],
        "nodes": [
            {
                "id": "qualified",
                "kind": "branch",
                "lane": "sales",
                "config": {
                    "cases": [
                        {
                            "name": "hot",
                            "condition": {
                                "all": [
                                    {"field": "contact.score", "op": "gte", "value": 50},
                                    {
                                        "field": "contact.country",
                                        "op": "in",
                                        "value": ["DE", "AT", "CH"],
                                    },
                                ]
                            },
                        }
                    ]
                },
            },
            {
                "id": "assign",
                "kind": "action",
                "action": "assign_owner",
                "lane": "sales",
                "config": {"strategy": "round_robin", "user_ids": rep_ids},
            },
            {
                "id": "qualify",
                "kind": "action",
                "action": "update_record",
                "lane": "sales",
                "config": {"fields": {"lead_status": "qualified"}},
            },
            {
                "id": "follow_up",
                "kind": "action",
                "action": "create_task",
                "lane": "sales",
                "config": {"title": "Call {{ record.first_name }}", "due_in_business_days": 2},
            },
            {
                "id": "nurture",
                "kind": "action",
                "action": "add_tag",
                "lane": "sales",
                "config": {"tag": "nurture"},
            },
            {"id": "done", "kind": "end", "lane": "sales"},
        ],
        "edges": [
            {"from": "qualified", "to": "assign", "label": "hot"},
            {"from": "qualified", "to": "nurture", "label": "default"},
            {"from": "assign", "to": "qualify"},
            {"from": "qualify", "to": "follow_up"},
            {"from": "follow_up", "to": "done"},
            {"from": "nurture", "to": "done"},
        ],
    }
