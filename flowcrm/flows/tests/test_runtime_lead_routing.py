"""End to end: a contact is created, the run is enrolled in that transaction, the worker
advances it through branch and actions, every change carries the flow step as its actor."""

from __future__ import annotations

import pytest

from flowcrm.activities.models import Task
from flowcrm.core.models import Event
from flowcrm.flows.definitions import active_index
from flowcrm.flows.engine import process_due_runs
from flowcrm.flows.models import FlowRun, RunStatus, StepExecution
from flowcrm.flows.tests.runtime_helpers import lead_routing, make_flow, new_contact

pytestmark = pytest.mark.django_db


def test_a_hot_lead_is_assigned_round_robin_qualified_and_gets_a_follow_up_task(make_user):
    reps = [make_user(), make_user()]
    flow = make_flow(lead_routing([r.pk for r in reps]))

    first = new_contact(first_name="Ada", email="ada@example.com", score=80, country="DE")
    second = new_contact(first_name="Bob", email="bob@example.com", score=60, country="AT")
    assert FlowRun.objects.filter(flow=flow, status=RunStatus.RUNNING).count() == 2

    assert process_due_runs() == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.owner_id, second.owner_id) == (reps[0].pk, reps[1].pk)
    assert (first.lead_status, second.lead_status) == ("qualified", "qualified")
    task = Task.objects.get(contact=first)
    assert (task.title, task.assignee_id) == ("Call Ada", reps[0].pk)
    run = FlowRun.objects.get(record_id=first.pk)
    assert run.status == RunStatus.COMPLETED
    assert list(
        StepExecution.objects.filter(run=run).order_by("id").values_list("node_id", flat=True)
    ) == ["assign", "qualify", "follow_up", "qualified", "done"]
    event = Event.objects.get(type="task.created", subject_id=task.pk)
    step = StepExecution.objects.get(run=run, node_id="follow_up")
    assert (event.actor_kind, event.flow_id, event.flow_run_id, event.flow_step_id) == (
        "flow",
        flow.pk,
        run.pk,
        step.pk,
    )


def test_a_cold_lead_is_tagged_nurture_and_not_assigned(make_user):
    make_flow(lead_routing([make_user().pk]))
    contact = new_contact(email="cold@example.com", score=10, country="DE")

    process_due_runs()

    contact.refresh_from_db()
    assert contact.owner_id is None
    assert list(contact.tags.values_list("name", flat=True)) == ["nurture"]
    assert Task.objects.count() == 0


def test_nothing_is_enrolled_when_no_flow_listens(django_assert_num_queries):
    active_index()  # warm: the index is cached between writes
    # the contact, the event, two savepoints and their releases: no query for flows
    with django_assert_num_queries(6):
        new_contact(email="quiet@example.com", score=90, country="DE")
    assert FlowRun.objects.count() == 0
