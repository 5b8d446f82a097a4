"""The example flows of the demo data: realistic processes a new user can open, dry-run and change.

:func:`install_demo_flows` publishes and activates them (idempotent: existing flows by name are
left alone). The demo loader calls it before creating records, so the records' events enroll
runs and the flows have history.
"""

from __future__ import annotations

from typing import Any

from flowcrm.accounts.models import Role, User
from flowcrm.contacts.services import custom_field_create
from flowcrm.core.actors import Actor
from flowcrm.core.models import CustomFieldDefinition
from flowcrm.flows.models import Flow
from flowcrm.flows.services import flow_create, flow_publish

HOT_COUNTRIES = ["DE", "AT", "CH"]


def lead_routing(rep_ids: list[int]) -> dict[str, Any]:
    """Route new inbound leads: hot ones (score ≥ 50 in the DACH territory) to a rep, round
    robin, qualified and with a follow-up task; the rest into nurturing."""
    return {
        "name": "Route new inbound leads",
        "description": "Score and territory decide: hot leads go to a rep, the rest to nurture.",
        "trigger": {"type": "record_event", "event": "contact.created"},
        "lanes": [
            {"id": "marketing", "name": "Marketing", "role": "marketer"},
            {"id": "sales", "name": "Sales", "role": "sales_rep"},
        ],
        "nodes": [
            {
                "id": "qualified",
                "kind": "branch",
                "lane": "marketing",
                "name": "Hot lead?",
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
                                        "value": HOT_COUNTRIES,
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
                "name": "Assign a rep",
                "config": {"strategy": "round_robin", "user_ids": rep_ids},
            },
            {
                "id": "qualify",
                "kind": "action",
                "action": "update_record",
                "lane": "sales",
                "name": "Mark qualified",
                "config": {"fields": {"lead_status": "qualified"}},
            },
            {
                "id": "follow_up",
                "kind": "action",
                "action": "create_task",
                "lane": "sales",
                "name": "Follow-up task",
                "config": {
                    "title": "Call {{ record.first_name }} {{ record.last_name }}",
                    "due_in_business_days": 2,
                },
            },
            {
                "id": "nurture",
                "kind": "action",
                "action": "add_tag",
                "lane": "marketing",
                "name": "Tag nurture",
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


def nurture_sequence() -> dict[str, Any]:
    """Nurture: three e-mails a few days apart; booking a meeting (lead status in progress or
    qualified) ends the sequence."""

    def email(node_id: str, subject: str, body: str) -> dict[str, Any]:
        return {
            "id": node_id,
            "kind": "action",
            "action": "send_email",
            "lane": "marketing",
            "config": {"subject": subject, "body": body},
        }

    return {
        "name": "Nurture new leads",
        "description": "Three e-mails over two weeks; stops when the lead books a meeting.",
        "trigger": {"type": "record_event", "event": "contact.tag_added"},
        "enrollment": {"field": "contact.tags", "op": "contains", "value": "nurture"},
        "goal": {"field": "contact.lead_status", "op": "in", "value": ["in_progress", "qualified"]},
        "lanes": [{"id": "marketing", "name": "Marketing", "role": "marketer"}],
        "nodes": [
            email("welcome", "Welcome, {{ record.first_name }}", "Thanks for your interest."),
            {
                "id": "wait1",
                "kind": "delay",
                "lane": "marketing",
                "config": {"type": "duration", "days": 3},
            },
            email("case_study", "How teams like yours use FlowCRM", "A short case study."),
            {
                "id": "wait2",
                "kind": "delay",
                "lane": "marketing",
                "config": {"type": "duration", "days": 7},
            },
            email("book", "Shall we talk?", "Book a 20-minute call with us."),
            {"id": "done", "kind": "end", "lane": "marketing"},
        ],
        "edges": [
            {"from": "welcome", "to": "wait1"},
            {"from": "wait1", "to": "case_study"},
            {"from": "case_study", "to": "wait2"},
            {"from": "wait2", "to": "book"},
            {"from": "book", "to": "done"},
        ],
    }


def deal_won_onboarding() -> dict[str, Any]:
    """Deal won → onboarding tasks; a discount over 20 % needs finance's approval first."""
    return {
        "name": "Onboard won deals",
        "description": "Onboarding tasks for every won deal; big discounts go to finance first.",
        "trigger": {"type": "record_event", "event": "deal.stage_changed", "to": "won"},
        "lanes": [
            {"id": "finance", "name": "Finance", "role": "manager"},
            {"id": "service", "name": "Customer success", "role": "support_agent"},
        ],
        "nodes": [
            {
                "id": "discount",
                "kind": "branch",
                "lane": "finance",
                "name": "Discount > 20 %?",
                "config": {
                    "cases": [
                        {
                            "name": "big",
                            "condition": {
                                "field": "deal.custom.discount_percent",
                                "op": "gt",
                                "value": 20,
                            },
                        }
                    ]
                },
            },
            {
                "id": "approve",
                "kind": "approval",
                "lane": "finance",
                "name": "Finance approval",
                "config": {
                    "title": "Approve the discount",
                    "approvers": {"role": "manager"},
                    "policy": "any",
                    "timeout": {"days": 2},
                    "escalate_to": {"role": "admin"},
                },
            },
            {
                "id": "flag",
                "kind": "action",
                "action": "notify_user",
                "lane": "finance",
                "config": {"text": "Discount on {{ record.title }} was rejected: renegotiate."},
            },
            {
                "id": "kickoff",
                "kind": "action",
                "action": "create_task",
                "lane": "service",
                "name": "Kick-off call",
                "config": {"title": "Kick-off call: {{ record.title }}", "due_in_business_days": 2},
            },
            {
                "id": "setup",
                "kind": "action",
                "action": "create_task",
                "lane": "service",
                "name": "Account setup",
                "config": {
                    "title": "Set up the account: {{ record.title }}",
                    "due_in_business_days": 5,
                },
            },
            {"id": "done", "kind": "end", "lane": "service"},
        ],
        "edges": [
            {"from": "discount", "to": "approve", "label": "big"},
            {"from": "discount", "to": "kickoff", "label": "default"},
            {"from": "approve", "to": "kickoff", "label": "approved"},
            {"from": "approve", "to": "flag", "label": "rejected"},
            {"from": "flag", "to": "done"},
            {"from": "kickoff", "to": "setup"},
            {"from": "setup", "to": "done"},
        ],
    }


def stalled_deal_reminder(days: int = 14) -> dict[str, Any]:
    """A deal that sits in a stage for ``days`` days: remind its owner (moving on ends it)."""
    return {
        "name": "Remind owners of stalled deals",
        "description": f"No stage change for {days} days: the owner gets a task.",
        "trigger": {"type": "record_event", "event": "deal.stage_changed"},
        "reenrollment": {"policy": "every_time"},
        "lanes": [{"id": "sales", "name": "Sales", "role": "sales_rep"}],
        "nodes": [
            {
                "id": "watch",
                "kind": "wait_event",
                "lane": "sales",
                "config": {"event": "deal.stage_changed", "timeout": {"days": days}},
            },
            {
                "id": "remind",
                "kind": "action",
                "action": "create_task",
                "lane": "sales",
                "config": {
                    "title": "Stalled: {{ record.title }}",
                    "due_in_business_days": 1,
                    "priority": "high",
                },
            },
            {"id": "moved", "kind": "end", "lane": "sales"},
            {"id": "done", "kind": "end", "lane": "sales"},
        ],
        "edges": [
            {"from": "watch", "to": "moved", "label": "event"},
            {"from": "watch", "to": "remind", "label": "timeout"},
            {"from": "remind", "to": "done"},
        ],
    }


def renewal_reminder() -> dict[str, Any]:
    """30 days before a deal's renewal date (custom field ``renewal_date``): a task."""
    return {
        "name": "Renewal reminder",
        "description": "A renewal task 30 days before the renewal date.",
        "trigger": {"type": "record_event", "event": "deal.created"},
        "lanes": [{"id": "service", "name": "Customer success", "role": "support_agent"}],
        "nodes": [
            {
                "id": "wait",
                "kind": "delay",
                "lane": "service",
                "config": {
                    "type": "until_field",
                    "field": "custom.renewal_date",
                    "offset_days": -30,
                    "time": "09:00:00",
                },
            },
            {
                "id": "renew",
                "kind": "action",
                "action": "create_task",
                "lane": "service",
                "config": {
                    "title": "Renewal coming up: {{ record.title }}",
                    "due_in_business_days": 5,
                },
            },
            {"id": "done", "kind": "end", "lane": "service"},
        ],
        "edges": [{"from": "wait", "to": "renew"}, {"from": "renew", "to": "done"}],
    }


def accounting_webhook(url: str) -> dict[str, Any]:
    """Won deals are posted to the accounting system; its invoice number lands on the deal."""
    return {
        "name": "Send won deals to accounting",
        "description": "POST the won deal to the accounting system (signed, idempotent).",
        "trigger": {"type": "record_event", "event": "deal.stage_changed", "to": "won"},
        "lanes": [{"id": "finance", "name": "Finance", "role": "manager"}],
        "nodes": [
            {
                "id": "post",
                "kind": "action",
                "action": "call_webhook",
                "lane": "finance",
                "config": {
                    "url": url,
                    "payload": {
                        "deal_id": "{{ record.id }}",
                        "title": "{{ record.title }}",
                        "amount": "{{ record.amount }}",
                    },
                },
            },
            {
                "id": "note",
                "kind": "action",
                "action": "log_activity",
                "lane": "finance",
                "config": {"body": "Sent to accounting (HTTP {{ steps.post.output.status }})."},
            },
            {"id": "done", "kind": "end", "lane": "finance"},
        ],
        "edges": [{"from": "post", "to": "note"}, {"from": "note", "to": "done"}],
    }


DEMO_CUSTOM_FIELDS = (
    {
        "record_type": "deal",
        "key": "discount_percent",
        "label": "Discount %",
        "field_type": "number",
    },
    {"record_type": "deal", "key": "renewal_date", "label": "Renewal date", "field_type": "date"},
)


def _ensure_custom_fields(actor: Actor) -> None:
    for values in DEMO_CUSTOM_FIELDS:
        exists = CustomFieldDefinition.objects.filter(
            record_type=values["record_type"], key=values["key"]
        ).exists()
        if not exists:
            custom_field_create(values=values, actor=actor)


def install_demo_flows(
    actor: Actor, *, accounting_url: str = "http://127.0.0.1:9/accounting"
) -> list[Flow]:
    """Publish and activate the demo flows (skipping names that exist); returns them.

    Lead routing rotates among the active sales reps (all users when there are none).
    """
    reps = list(
        User.objects.filter(role=Role.SALES_REP, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    ) or list(User.objects.order_by("pk").values_list("pk", flat=True)[:5])
    _ensure_custom_fields(actor)
    definitions = [
        lead_routing(reps),
        nurture_sequence(),
        deal_won_onboarding(),
        stalled_deal_reminder(),
        renewal_reminder(),
        accounting_webhook(accounting_url),
    ]
    flows: list[Flow] = []
    for definition in definitions:
        existing = Flow.objects.filter(name=definition["name"]).first()
        if existing is not None:
            flows.append(existing)
            continue
        flow = flow_create(
            name=definition["name"],
            description=definition.get("description", ""),
            draft=definition,
            actor=actor,
        )
        flow_publish(flow=flow, actor=actor, activate=True)
        flows.append(flow)
    return flows
