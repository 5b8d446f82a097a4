"""Flow runs are a case notion like deals: steps as activities, waiting vs processing time."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from flowcrm.accounts.models import Role
from flowcrm.flows.models import Flow, FlowRun, FlowVersion, StepExecution

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def _at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture
def runs() -> Flow:
    flow = Flow.objects.create(name="Onboarding")
    version = FlowVersion.objects.create(flow=flow, number=1, definition={})
    # (node, queued, started, finished) in minutes after T0, per run
    plans: list[list[tuple[str, int, int, int | None]]] = [
        [("send_welcome", 0, 2, 3), ("wait", 3, 3, 63), ("create_task", 63, 73, 74)],
        [("send_welcome", 10, 14, 16), ("create_task", 16, 20, None)],  # still running
    ]
    for plan in plans:
        run = FlowRun.objects.create(
            flow=flow, version=version, record_type="contact", record_id=1, enrolled_at=_at(0)
        )
        for node, queued, started, finished in plan:
            StepExecution.objects.create(
                run=run,
                node_id=node,
                status="succeeded",
                queued_at=_at(queued),
                started_at=_at(started),
                finished_at=_at(finished) if finished else None,
            )
    return flow


def test_flow_runs_show_steps_with_waiting_and_processing(admin_api: Any, runs: Flow) -> None:
    body = admin_api.get("insights/process/flow_runs", {"flow": runs.pk}).json()
    assert (body["cases"], body["events"]) == (2, 5)
    assert [(e["source"], e["target"], e["count"]) for e in body["dfg"]] == [
        ("send_welcome", "create_task", 1),
        ("send_welcome", "wait", 1),
        ("wait", "create_task", 1),
    ]
    welcome = body["step_times"]["send_welcome"]
    assert welcome["waiting"]["mean_seconds"] == 3 * 60  # (2 + 4) / 2 minutes
    assert welcome["processing"]["mean_seconds"] == 1.5 * 60  # (1 + 2) / 2 minutes
    task = body["step_times"]["create_task"]
    # the second run's create_task has not finished: it counts in neither
    assert task["waiting"] == {
        "count": 1,
        "mean_seconds": 600.0,
        "median_seconds": 600.0,
        "p90_seconds": 600.0,
    }
    assert task["processing"]["count"] == 1 and task["processing"]["mean_seconds"] == 60.0


def test_flow_runs_refuse_record_filters(admin_api: Any, runs: Flow) -> None:
    response = admin_api.get("insights/process/flow_runs", {"pipeline": "1"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "pipeline", "message": "Does not apply to flow runs."}
    ]


def test_flow_runs_are_hidden_from_users_who_do_not_see_everything(
    api_for: Any, make_user: Any, runs: Flow
) -> None:
    body = api_for(make_user(role=Role.SALES_REP)).get("insights/process/flow_runs").json()
    assert body["cases"] == 0
