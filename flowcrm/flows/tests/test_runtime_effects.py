"""Runs through webhooks, e-mails, approvals, waits, retries and operator actions, with the
state persisted and re-loaded between every turn (each turn is a fresh worker pass)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from flowcrm.activities.models import Activity
from flowcrm.contacts.models import Contact
from flowcrm.core.actors import Actor
from flowcrm.core.errors import Conflict, PermissionDenied
from flowcrm.core.models import Event
from flowcrm.flows import outbox
from flowcrm.flows.approvals import approval_decide
from flowcrm.flows.engine import process_due_runs
from flowcrm.flows.models import (
    Approval,
    FlowRun,
    Notification,
    OutboxMessage,
    OutboxStatus,
    RunStatus,
    StepExecution,
)
from flowcrm.flows.services import run_cancel, run_retry, run_skip
from flowcrm.flows.tests.runtime_helpers import ADMIN, make_flow, new_contact
from flowcrm.flows.tests.servers import hook_server, smtp_server

pytestmark = pytest.mark.django_db


def definition(
    nodes: list[dict[str, Any]], edges: list[tuple[str, ...]], **extra: Any
) -> dict[str, Any]:
    return {
        "name": extra.pop("name", "Test flow"),
        "trigger": {"type": "record_event", "event": "contact.created"},
        "nodes": nodes,
        "edges": [
            {"from": e[0], "to": e[1], **({"label": e[2]} if len(e) > 2 else {})} for e in edges
        ],
        **extra,
    }


def drain(now: dt.datetime | None = None) -> None:
    """Worker passes until nothing is due (deliveries included)."""
    for _ in range(20):
        if process_due_runs(now=now) + outbox.deliver_due() == 0:
            return


def test_a_webhook_response_is_mapped_into_the_run_and_retries_honour_5xx(settings):
    with hook_server([(503, {}, {}), (200, {}, {"invoice": "INV-7"})]) as server:
        make_flow(
            definition(
                [
                    {
                        "id": "sync",
                        "kind": "action",
                        "action": "call_webhook",
                        "config": {"url": server.url, "payload": {"email": "{{ record.email }}"}},
                    },
                    {
                        "id": "note",
                        "kind": "action",
                        "action": "log_activity",
                        "config": {"body": "Invoice {{ steps.sync.output.body.invoice }}"},
                    },
                    {"id": "done", "kind": "end"},
                ],
                [("sync", "note"), ("note", "done")],
            )
        )
        contact = new_contact(email="ada@example.com")
        drain()
        # the 503 scheduled a retry with backoff: deliver it now
        OutboxMessage.objects.update(next_attempt_at=timezone.now())
        drain()

    run = FlowRun.objects.get()
    assert run.status == RunStatus.COMPLETED
    assert [r["status"] for r in server.requests] == [503, 200]
    assert server.requests[1]["headers"]["Idempotency-Key"] == f"{run.pk}:sync:1"
    assert Activity.objects.get(contact=contact).body == "Invoice INV-7"


def test_an_email_goes_out_once_and_lands_on_the_timeline_unless_unsubscribed(settings):
    with smtp_server() as (mail, port):
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port},
            }
        }
        make_flow(
            definition(
                [
                    {
                        "id": "welcome",
                        "kind": "action",
                        "action": "send_email",
                        "config": {"subject": "Welcome {{ record.first_name }}", "body": "Hi!"},
                    },
                    {"id": "done", "kind": "end"},
                ],
                [("welcome", "done")],
            )
        )
        ada = new_contact(first_name="Ada", email="ada@example.com")
        new_contact(first_name="Bob", email="bob@example.com", unsubscribed=True)
        drain()
        drain()

    assert [m["To"] for m in mail.messages] == ["ada@example.com"]
    assert mail.messages[0]["Subject"] == "Welcome Ada"
    assert list(FlowRun.objects.values_list("status", flat=True)) == ["completed", "completed"]
    assert Activity.objects.get(kind="email").contact_id == ada.pk
    assert OutboxMessage.objects.get().status == OutboxStatus.SENT


APPROVAL_FLOW: list[dict[str, Any]] = [
    {
        "id": "ok",
        "kind": "approval",
        "config": {"title": "Approve discount", "approvers": {"role": "manager"}, "policy": "any"},
    },
    {"id": "yes", "kind": "action", "action": "add_tag", "config": {"tag": "approved"}},
    {"id": "no", "kind": "action", "action": "add_tag", "config": {"tag": "rejected"}},
    {"id": "done", "kind": "end"},
]
APPROVAL_EDGES = [
    ("ok", "yes", "approved"),
    ("ok", "no", "rejected"),
    ("yes", "done"),
    ("no", "done"),
]


def test_an_approval_notifies_approvers_and_resumes_on_the_decision(make_user):
    manager, rep = make_user(role="manager"), make_user()
    make_flow(definition(APPROVAL_FLOW, APPROVAL_EDGES))
    contact = new_contact(email="deal@example.com")
    drain()

    approval = Approval.objects.get()
    run = FlowRun.objects.get()
    assert run.status == RunStatus.WAITING
    assert approval.approver_ids == [manager.pk]
    assert list(Notification.objects.values_list("user_id", flat=True)) == [manager.pk]

    with pytest.raises(PermissionDenied):
        approval_decide(approval=approval, user=rep, approved=True, comment="", actor=ADMIN)
    approval_decide(
        approval=approval,
        user=manager,
        approved=False,
        comment="too much",
        actor=Actor.for_user(manager),
    )
    with pytest.raises(Conflict):
        approval_decide(approval=approval, user=manager, approved=True, comment="", actor=ADMIN)
    drain()

    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert list(contact.tags.values_list("name", flat=True)) == ["rejected"]
    decided = Event.objects.get(type="approval.decided")
    assert decided.data["comment"] == "too much"


def test_a_wait_for_event_resumes_on_the_matching_event_and_times_out_otherwise():
    make_flow(
        definition(
            [
                {
                    "id": "wait",
                    "kind": "wait_event",
                    "config": {
                        "event": "contact.updated",
                        "field": "lead_status",
                        "to": "qualified",
                        "timeout": {"days": 3},
                    },
                },
                {"id": "hot", "kind": "action", "action": "add_tag", "config": {"tag": "hot"}},
                {"id": "cold", "kind": "action", "action": "add_tag", "config": {"tag": "cold"}},
                {"id": "done", "kind": "end"},
            ],
            [
                ("wait", "hot", "event"),
                ("wait", "cold", "timeout"),
                ("hot", "done"),
                ("cold", "done"),
            ],
        )
    )
    from flowcrm.contacts.services import contact_update

    quick = new_contact(email="quick@example.com")
    slow = new_contact(email="slow@example.com")
    drain()
    contact_update(contact=quick, values={"lead_status": "qualified"}, actor=ADMIN)
    drain()
    drain(now=timezone.now() + dt.timedelta(days=3, minutes=1))

    assert list(quick.tags.values_list("name", flat=True)) == ["hot"]
    assert list(slow.tags.values_list("name", flat=True)) == ["cold"]


def test_a_failing_action_fails_the_run_visibly_and_an_operator_can_retry_or_skip():
    flow = make_flow(
        definition(
            [
                {
                    "id": "move",
                    "kind": "action",
                    "action": "move_deal_stage",
                    "config": {"stage_id": 1},
                },
                {"id": "tag", "kind": "action", "action": "add_tag", "config": {"tag": "after"}},
                {"id": "done", "kind": "end"},
            ],
            [("move", "tag"), ("tag", "done")],
        )
    )
    contact = new_contact(email="x@example.com")
    drain()

    run = FlowRun.objects.get(flow=flow)
    step = StepExecution.objects.get(run=run, node_id="move")
    assert (run.status, step.status) == (RunStatus.FAILED, "failed")
    assert run.error == "move: move_deal_stage needs a deal record"
    assert contact.tags.count() == 0  # the run stopped at the failing step

    run = run_retry(run=run, actor=ADMIN)
    assert run.status == RunStatus.FAILED  # the same error again, attempt 2
    assert StepExecution.objects.get(run=run, node_id="move").attempt == 2

    run = run_skip(run=run, actor=ADMIN)
    assert run.status == RunStatus.COMPLETED
    assert list(contact.tags.values_list("name", flat=True)) == ["after"]
    with pytest.raises(Conflict):
        run_cancel(run=run, actor=ADMIN)


def test_a_goal_met_while_waiting_exits_the_run():
    make_flow(
        definition(
            [
                {"id": "pause", "kind": "delay", "config": {"type": "duration", "days": 2}},
                {"id": "nudge", "kind": "action", "action": "add_tag", "config": {"tag": "nudged"}},
                {"id": "done", "kind": "end"},
            ],
            [("pause", "nudge"), ("nudge", "done")],
            goal={"field": "contact.lead_status", "op": "eq", "value": "qualified"},
        )
    )
    contact = new_contact(email="goal@example.com")
    drain()
    Contact.objects.filter(pk=contact.pk).update(lead_status="qualified")
    drain(now=timezone.now() + dt.timedelta(days=2, minutes=1))

    run = FlowRun.objects.get()
    assert run.status == RunStatus.EXITED_BY_GOAL
    assert contact.tags.count() == 0


def test_flows_triggering_each_other_stop_at_the_cascade_limit_naming_the_chain():
    # Ping writes the field Pong listens to, and the other way round
    for name, listens, writes in (("Ping", "source", "job_title"), ("Pong", "job_title", "source")):
        make_flow(
            {
                "name": name,
                "trigger": {"type": "record_event", "event": "contact.updated", "field": listens},
                "reenrollment": {"policy": "every_time"},
                "nodes": [
                    {
                        "id": "bump",
                        "kind": "action",
                        "action": "update_record",
                        "config": {"fields": {writes: "{{ record." + writes + " }}x"}},
                    },
                    {"id": "done", "kind": "end"},
                ],
                "edges": [{"from": "bump", "to": "done"}],
            }
        )
    from flowcrm.contacts.services import contact_update

    contact = new_contact(email="loop@example.com")
    contact_update(contact=contact, values={"source": "web"}, actor=ADMIN)
    drain()

    failed = FlowRun.objects.filter(status=RunStatus.FAILED)
    assert FlowRun.objects.filter(status=RunStatus.COMPLETED).count() == 5
    assert failed.get().error == (
        "cascade depth limit 5 reached: Ping → Pong → Ping → Pong → Ping → Pong"
    )
    contact.refresh_from_db()
    assert (contact.job_title, contact.source) == ("xxx", "webxx")
