"""The flows API: definitions, publishing, runs, operator actions, approvals, triggers."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import Client

from flowcrm.contacts.models import Contact
from flowcrm.flows.engine import process_due_runs
from flowcrm.flows.models import Flow, FlowRun, FlowVersion, RunStatus
from flowcrm.flows.tests.runtime_helpers import lead_routing, make_flow, new_contact

pytestmark = pytest.mark.django_db

TAGGING = {
    "name": "Tag new contacts",
    "trigger": {"type": "record_event", "event": "contact.created"},
    "nodes": [
        {"id": "tag", "kind": "action", "action": "add_tag", "config": {"tag": "new"}},
        {"id": "done", "kind": "end"},
    ],
    "edges": [{"from": "tag", "to": "done"}],
}


def test_admins_create_publish_and_activate_a_flow_and_new_contacts_enroll(admin_api):
    created = admin_api.post("flows/", {"name": "Tagging", "definition": TAGGING})
    assert created.status_code == 201
    flow_id = created.json()["id"]

    published = admin_api.post(f"flows/{flow_id}/publish", {"activate": True})

    assert published.status_code == 201
    assert published.json()["number"] == 1
    assert admin_api.get(f"flows/{flow_id}").json()["active_version"] == 1
    contact = new_contact(email="new@example.com")
    process_due_runs()
    assert list(contact.tags.values_list("name", flat=True)) == ["new"]


def test_publishing_a_broken_draft_is_refused_naming_the_node_and_writes_nothing(admin_api):
    broken = json.loads(json.dumps(TAGGING))
    broken["nodes"][0]["config"] = {"tga": "new"}
    flow_id = admin_api.post("flows/", {"name": "Broken", "definition": broken}).json()["id"]

    response = admin_api.post(f"flows/{flow_id}/publish", {"activate": True})

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "definition.nodes[0].config", "message": "unknown field 'tga'"},
        {"field": "definition.nodes[0].config.tag", "message": "required"},
    ]
    assert FlowVersion.objects.count() == 0
    assert Flow.objects.get().status == "draft"


def test_a_sales_rep_cannot_change_flows(api_for, make_user):
    response = api_for(make_user()).post("flows/", {"name": "Mine", "definition": TAGGING})

    assert response.status_code == 403
    assert Flow.objects.count() == 0


def test_the_flow_list_has_run_counts_in_a_fixed_number_of_queries(
    admin_api, django_assert_num_queries
):
    make_flow(TAGGING)
    make_flow({**TAGGING, "name": "Second"})
    new_contact(email="a@example.com")

    with django_assert_num_queries(3):  # token, token last-used, flows with counts
        response = admin_api.get("flows/")

    assert [(f["name"], f["runs_30d"], f["failures_30d"]) for f in response.json()] == [
        ("Second", 1, 0),
        ("Tag new contacts", 1, 0),
    ]


def test_runs_are_listed_with_filters_and_a_run_shows_its_trace(
    admin_api, django_assert_num_queries, make_user
):
    flow = make_flow(lead_routing([make_user().pk]))
    hot = new_contact(email="hot@example.com", score=90, country="DE", first_name="Hot")
    new_contact(email="cold@example.com", score=1, country="DE")
    process_due_runs()

    with django_assert_num_queries(3):
        listed = admin_api.get("flows/runs", {"flow": flow.pk, "record_id": hot.pk})
    run_id = listed.json()[0]["id"]
    detail = admin_api.get(f"flows/runs/{run_id}").json()

    assert [r["record_id"] for r in listed.json()] == [hot.pk]
    assert detail["status"] == "completed"
    assert [s["node_id"] for s in detail["steps"]] == [
        "qualified",
        "assign",
        "qualify",
        "follow_up",
        "done",
    ]
    assert all(s["processing_seconds"] is not None for s in detail["steps"])


def test_an_operator_retries_skips_and_cancels_through_the_api(admin_api):
    failing = json.loads(json.dumps(TAGGING))
    failing["nodes"][0] = {
        "id": "tag",
        "kind": "action",
        "action": "move_deal_stage",
        "config": {"stage_id": 1},
    }
    make_flow(failing)
    new_contact(email="f@example.com")
    process_due_runs()
    run = FlowRun.objects.get()

    assert admin_api.post(f"flows/runs/{run.pk}/retry").json()["status"] == "failed"
    assert admin_api.post(f"flows/runs/{run.pk}/skip").json()["status"] == "completed"
    refused = admin_api.post(f"flows/runs/{run.pk}/cancel")
    assert refused.status_code == 409


def test_an_approver_sees_and_decides_an_approval(api_for, make_user):
    manager = make_user(role="manager")
    make_flow(
        {
            "name": "Discount approval",
            "trigger": {"type": "record_event", "event": "contact.created"},
            "nodes": [
                {"id": "ok", "kind": "approval", "config": {"approvers": {"users": [manager.pk]}}},
                {"id": "yes", "kind": "end"},
                {"id": "no", "kind": "end"},
            ],
            "edges": [
                {"from": "ok", "to": "yes", "label": "approved"},
                {"from": "ok", "to": "no", "label": "rejected"},
            ],
        }
    )
    new_contact(email="d@example.com")
    process_due_runs()
    client = api_for(manager)

    inbox = client.get("flows/approvals").json()
    decided = client.post(
        f"flows/approvals/{inbox[0]['id']}/decide", {"approved": True, "comment": "fine"}
    )
    process_due_runs()

    assert [a["title"] for a in inbox] == ["ok"]
    assert decided.json()["status"] == "approved"
    assert FlowRun.objects.get().status == RunStatus.COMPLETED
    assert client.get("flows/approvals").json() == []


def _hook_flow() -> Flow:
    return make_flow(
        {
            "name": "Inbound",
            "trigger": {"type": "webhook", "record_type": "contact"},
            "nodes": [
                {"id": "tag", "kind": "action", "action": "add_tag", "config": {"tag": "hooked"}},
                {"id": "done", "kind": "end"},
            ],
            "edges": [{"from": "tag", "to": "done"}],
        }
    )


def test_an_inbound_webhook_with_a_valid_signature_enrolls_the_record():
    flow = _hook_flow()
    contact = new_contact(email="w@example.com")
    body = json.dumps({"record_id": contact.pk}).encode()
    signature = "sha256=" + hmac.new(flow.webhook_secret.encode(), body, hashlib.sha256).hexdigest()

    response = Client().post(
        f"/api/v1/flows/hooks/{flow.pk}",
        body,
        content_type="application/json",
        HTTP_X_FLOWCRM_SIGNATURE=signature,
    )
    process_due_runs()

    assert response.status_code == 202
    assert list(contact.tags.values_list("name", flat=True)) == ["hooked"]


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"record_id": 1}', {"HTTP_X_FLOWCRM_SIGNATURE": "sha256=00"}, 403),
        (b'{"record_id": 1}', {}, 403),
        (b'{"record_id": ', "token", 422),
        (b'["record_id"]', "token", 422),
        (b'{"record_id": "x"}', "token", 422),
    ],
)
def test_an_inbound_webhook_with_a_bad_signature_or_body_enrolls_nothing(body, headers, status):
    flow = _hook_flow()
    new_contact(email="w@example.com")
    if headers == "token":
        headers = {"HTTP_X_FLOWCRM_TOKEN": flow.webhook_secret}

    response = Client().post(
        f"/api/v1/flows/hooks/{flow.pk}", body, content_type="application/json", **headers
    )

    assert response.status_code == status
    assert FlowRun.objects.count() == 0


def test_a_manual_trigger_starts_runs_on_every_record_matching_a_condition(admin_api):
    flow = make_flow(
        {**TAGGING, "name": "Manual", "trigger": {"type": "manual", "record_type": "contact"}}
    )
    Contact.objects.create(email="a@example.com", score=70)
    Contact.objects.create(email="b@example.com", score=10)
    Contact.objects.create(email="c@example.com", score=90)

    response = admin_api.post(
        f"flows/{flow.pk}/trigger",
        {
            "record_type": "contact",
            "condition": {"field": "contact.score", "op": "gte", "value": 50},
        },
    )

    assert response.status_code == 201
    assert response.json()["started"] == 2
    assert sorted(FlowRun.objects.values_list("record_id", flat=True)) == sorted(
        Contact.objects.filter(score__gte=50).values_list("pk", flat=True)
    )
