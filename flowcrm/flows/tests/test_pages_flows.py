"""The flows pages: list, flow with its flowchart, runs, run trace with operator buttons,
approvals inbox."""

from __future__ import annotations

import pytest
from django.test import Client

from flowcrm.accounts.models import User
from flowcrm.flows.demo import install_demo_flows, lead_routing
from flowcrm.flows.engine import process_due_runs
from flowcrm.flows.models import Approval, FlowRun
from flowcrm.flows.svg import render_flowchart
from flowcrm.flows.tests.runtime_helpers import ADMIN, make_flow, new_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_the_flows_list_shows_every_flow_with_its_numbers_in_fixed_queries(
    admin_client, make_user, django_assert_max_num_queries
):
    make_user()
    install_demo_flows(ADMIN)
    new_contact(email="lead@example.com", score=80, country="DE")

    with django_assert_max_num_queries(8):
        response = admin_client.get("/flows/")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('href="/flows/') >= 6 + 2
    assert "Route new inbound leads" in page
    assert "Onboard won deals" in page


def test_a_flow_page_draws_its_lanes_and_nodes(admin_client, make_user):
    flow = make_flow(lead_routing([make_user().pk]))

    page = admin_client.get(f"/flows/{flow.pk}/").content.decode()

    assert "<svg" in page
    assert page.count('class="lane"') == 2
    assert page.count('class="node"') == 6
    assert ">Marketing</text>" in page and ">Sales</text>" in page


def test_the_flowchart_escapes_user_text_and_places_nodes_left_to_right():
    definition = lead_routing([1])
    definition["nodes"][0]["name"] = "<script>x</script>"

    svg = render_flowchart(definition)

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    first = svg.index('data-node="qualified"')
    assert svg.index('data-node="done"') > first


def test_a_run_page_shows_the_trace_and_an_admin_can_skip_a_failed_step(
    admin_client, django_assert_max_num_queries
):
    make_flow(
        {
            "name": "Breaks",
            "trigger": {"type": "record_event", "event": "contact.created"},
            "nodes": [
                {
                    "id": "move",
                    "kind": "action",
                    "action": "create_deal",
                    "config": {"title": "Deal", "pipeline_id": 999999},
                },
                {"id": "done", "kind": "end"},
            ],
            "edges": [{"from": "move", "to": "done"}],
        }
    )
    new_contact(email="x@example.com")
    process_due_runs()
    run = FlowRun.objects.get()

    with django_assert_max_num_queries(8):
        page = admin_client.get(f"/flows/runs/{run.pk}/").content.decode()
    assert "pipeline 999999 does not exist" in page
    assert "Retry the failed step" in page

    admin_client.post(f"/flows/runs/{run.pk}/skip/")
    run.refresh_from_db()
    assert run.status == "completed"


def test_the_runs_list_filters_by_status_in_fixed_queries(
    admin_client, make_user, django_assert_max_num_queries
):
    make_flow(lead_routing([make_user().pk]))
    for index in range(3):
        new_contact(email=f"l{index}@example.com", score=90, country="DE")
    process_due_runs()

    with django_assert_max_num_queries(6):
        page = admin_client.get("/flows/runs/", {"status": "completed"}).content.decode()

    assert page.count("/flows/runs/") >= 3
    assert (
        admin_client.get("/flows/runs/", {"status": "failed"})
        .content.decode()
        .count('href="/flows/runs/')
        == 0
    )


def test_an_approver_decides_from_the_inbox(make_user):
    manager = make_user(role="manager")
    make_flow(
        {
            "name": "Needs approval",
            "trigger": {"type": "record_event", "event": "contact.created"},
            "nodes": [
                {
                    "id": "ok",
                    "kind": "approval",
                    "config": {"title": "Big discount", "approvers": {"role": "manager"}},
                },
                {"id": "yes", "kind": "end"},
                {"id": "no", "kind": "end"},
            ],
            "edges": [
                {"from": "ok", "to": "yes", "label": "approved"},
                {"from": "ok", "to": "no", "label": "rejected"},
            ],
        }
    )
    new_contact(email="a@example.com")
    process_due_runs()
    client = Client()
    client.force_login(manager)

    assert "Big discount" in client.get("/flows/approvals/").content.decode()
    approval = Approval.objects.get()
    client.post(f"/flows/approvals/{approval.pk}/decide/", {"decision": "approve", "comment": "ok"})
    process_due_runs()

    assert FlowRun.objects.get().status == "completed"
    assert "Nothing to decide" in client.get("/flows/approvals/").content.decode()
