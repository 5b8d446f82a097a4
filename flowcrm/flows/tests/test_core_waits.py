"""The stepper's waiting nodes: delays, business hours, wait-for-event, approvals.

Every test round-trips the run state through JSON at every step (see ``Runner``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from flowcrm.flows.core.calendar import BusinessCalendar
from flowcrm.flows.core.effects import (
    ApprovalDecision,
    EscalateApprovalEffect,
    OpenApprovalEffect,
)
from flowcrm.flows.core.nodes import approval_outcome
from flowcrm.flows.tests.core_builders import (
    Runner,
    at,
    flow,
    installed_languages,
    node,
    registered_note_action,
)

FRIDAY_4_30_PM = at("2026-11-20 16:30")


@pytest.fixture(autouse=True)
def _engine():
    with registered_note_action(), installed_languages():
        yield


def delay_flow(**config: Any) -> dict[str, Any]:
    return flow([node("pause", "delay", **config), node("done", "end")], [("pause", "done")])


def test_a_duration_delay_wakes_the_run_when_it_has_passed():
    runner = Runner(delay_flow(type="duration", days=2, hours=3), now=FRIDAY_4_30_PM)

    waiting = runner.advance(now=FRIDAY_4_30_PM)
    assert (waiting.status, waiting.wake_at) == ("waiting", at("2026-11-22 19:30"))
    assert runner.advance(now=at("2026-11-22 19:29")).status == "waiting"

    done = runner.advance(now=at("2026-11-22 19:31"))

    assert done.status == "completed"
    pause = runner.state.steps[0]
    assert (pause.started_at, pause.finished_at) == (FRIDAY_4_30_PM, at("2026-11-22 19:31"))
    assert pause.detail == {"due": "2026-11-22T19:30:00+00:00", "waited": True}


def test_business_time_skips_the_weekend():
    data = delay_flow(type="duration", hours=2, business_time=True)

    runner = Runner(data, now=FRIDAY_4_30_PM)

    assert runner.advance(now=FRIDAY_4_30_PM).wake_at == at("2026-11-23 10:30")


def test_until_business_hours_waits_for_monday_morning_in_the_calendar_zone():
    data = delay_flow(type="business_hours")
    data["calendar"] = {"timezone": "Europe/Berlin", "opens": "08:00", "closes": "18:00"}

    saturday = Runner(data, now=at("2026-11-21 12:00"))
    weekday = Runner(data, now=at("2026-11-23 12:00"))

    assert saturday.advance(now=at("2026-11-21 12:00")).wake_at == at("2026-11-23 07:00")
    assert weekday.advance(now=at("2026-11-23 12:00")).status == "completed"


def test_until_an_instant_already_past_continues_at_once():
    runner = Runner(delay_flow(type="until", at="2026-11-01T09:00:00+01:00"), now=FRIDAY_4_30_PM)

    outcome = runner.advance(now=FRIDAY_4_30_PM)

    assert outcome.status == "completed"
    assert runner.state.steps[0].detail == {"due": "2026-11-01T08:00:00+00:00", "waited": False}


def test_until_a_record_date_field_minus_an_offset_at_a_local_time():
    data = delay_flow(
        type="until_field",
        field="renewal_date",
        offset_days=-30,
        time="09:00",
        timezone="America/New_York",
    )
    runner = Runner(data, now=FRIDAY_4_30_PM, record={"id": 1, "renewal_date": "2027-01-15"})

    outcome = runner.advance(now=FRIDAY_4_30_PM)

    assert outcome.wake_at == at("2026-12-16 14:00")


def test_until_an_empty_record_field_continues_and_says_so():
    data = delay_flow(type="until_field", field="renewal_date", offset_hours=2)
    runner = Runner(data, now=FRIDAY_4_30_PM, record={"id": 1, "renewal_date": None})

    outcome = runner.advance(now=FRIDAY_4_30_PM)

    assert outcome.status == "completed"
    assert runner.state.steps[0].detail["skipped"] == "renewal_date is empty or not a date"


def test_the_calendar_adds_business_days_and_honours_holidays():
    calendar = BusinessCalendar(holidays=(dt.date(2026, 11, 23),))

    assert calendar.add_business_days(FRIDAY_4_30_PM, 2) == at("2026-11-25 16:30")
    assert calendar.next_open(at("2026-11-23 10:00")) == at("2026-11-24 09:00")
    assert not calendar.is_open(at("2026-11-23 10:00"))
    assert calendar.is_open(at("2026-11-24 16:59"))


def wait_flow() -> dict[str, Any]:
    return flow(
        [
            node(
                "wait_won",
                "wait_event",
                event="deal.stage_changed",
                to="won",
                condition={"all": [{"field": "deal.amount", "op": "gte", "value": 1000}]},
                timeout={"days": 14},
            ),
            node("celebrate", "end"),
            node("chase", "end"),
        ],
        [("wait_won", "celebrate", "event"), ("wait_won", "chase", "timeout")],
        trigger={"type": "manual", "record_type": "deal"},
    )


def won(deal_id: int) -> dict[str, Any]:
    return {
        "id": 501,
        "type": "deal.stage_changed",
        "subject_type": "deal",
        "subject_id": deal_id,
        "changes": {"stage": {"before": 3, "after": 4}},
        "data": {"to_status": "won", "to_stage": "Closed won"},
    }


def test_a_matching_event_about_the_record_takes_the_event_edge():
    runner = Runner(wait_flow(), now=FRIDAY_4_30_PM, record={"id": 9, "amount": 5000})
    waiting = runner.advance(now=FRIDAY_4_30_PM)
    assert waiting.wait is not None
    assert (waiting.wait.kind, waiting.wait.event_type) == ("event", "deal.stage_changed")
    assert waiting.wake_at == at("2026-12-04 16:30")

    other_deal = runner.advance(now=at("2026-11-21 10:00"), event=won(deal_id=10))
    assert other_deal.status == "waiting"
    too_small = runner.advance(
        now=at("2026-11-21 10:00"), event=won(deal_id=9), record={"id": 9, "amount": 10}
    )
    assert too_small.status == "waiting"

    outcome = runner.advance(now=at("2026-11-21 11:00"), event=won(deal_id=9))

    assert outcome.status == "completed"
    assert runner.path() == ["wait_won", "celebrate"]
    assert runner.state.steps[0].output == {
        "type": "deal.stage_changed",
        "subject_type": "deal",
        "subject_id": 9,
        "id": 501,
    }


def test_without_the_event_the_timeout_edge_is_taken():
    runner = Runner(wait_flow(), now=FRIDAY_4_30_PM, record={"id": 9, "amount": 5000})
    runner.advance(now=FRIDAY_4_30_PM)

    outcome = runner.advance(now=at("2026-12-04 16:30"))

    assert outcome.status == "completed"
    assert runner.path() == ["wait_won", "chase"]
    assert runner.state.steps[0].edge == "timeout"


def discount_approval() -> dict[str, Any]:
    return flow(
        [
            node(
                "finance",
                "approval",
                title="Discount over 20%",
                approvers={"team": "Finance"},
                policy="n_of_m",
                required=2,
                timeout={"hours": 24},
                escalate_to={"role": "admin"},
            ),
            node("book", "action", subject="Approved"),
            node("yes", "end"),
            node("no", "end"),
        ],
        [("finance", "book", "approved"), ("book", "yes"), ("finance", "no", "rejected")],
    )


def test_an_approval_opens_escalates_after_its_timeout_and_resumes_on_the_decision():
    runner = Runner(discount_approval(), now=FRIDAY_4_30_PM)

    opened = runner.advance(now=FRIDAY_4_30_PM)
    assert opened.effects == [
        OpenApprovalEffect(
            idempotency_key="run-1:finance:1",
            run_id="run-1",
            node_id="finance",
            step_index=0,
            title="Discount over 20%",
            approvers={"users": [], "team": "Finance", "role": None},
            policy="n_of_m",
            required=2,
            escalate_at=at("2026-11-21 16:30"),
        )
    ]

    escalated = runner.advance(now=at("2026-11-21 16:31"))
    assert escalated.effects == [
        EscalateApprovalEffect(
            "run-1:finance:1",
            run_id="run-1",
            node_id="finance",
            approvers={"users": [], "team": None, "role": "admin"},
        )
    ]
    assert escalated.wake_at is None
    assert runner.advance(now=at("2026-11-22 16:31")).effects == []  # escalates once

    stale = runner.advance(
        now=at("2026-11-23 09:00"), signal=ApprovalDecision("old:key:1", "approved")
    )
    assert stale.status == "waiting"
    decided = runner.advance(
        now=at("2026-11-23 09:00"),
        signal=ApprovalDecision("run-1:finance:1", "approved", comment="ok", decided_by=4),
    )

    assert [e.idempotency_key for e in decided.effects] == ["run-1:book:1"]
    assert runner.state.steps[0].output == {"outcome": "approved", "comment": "ok", "decided_by": 4}
    assert runner.path() == ["finance", "book"]


def test_a_rejection_takes_the_rejected_edge():
    runner = Runner(discount_approval(), now=FRIDAY_4_30_PM)
    runner.advance(now=FRIDAY_4_30_PM)

    outcome = runner.advance(
        now=at("2026-11-21 09:00"), signal=ApprovalDecision("run-1:finance:1", "rejected")
    )

    assert outcome.status == "completed"
    assert runner.path() == ["finance", "no"]


@pytest.mark.parametrize(
    ("policy", "required", "approvals", "rejections", "expected"),
    [
        ("any", None, 0, 0, None),
        ("any", None, 1, 0, "approved"),
        ("any", None, 0, 1, "rejected"),
        ("all", None, 2, 0, None),
        ("all", None, 3, 0, "approved"),
        ("all", None, 2, 1, "rejected"),
        ("n_of_m", 2, 1, 0, None),
        ("n_of_m", 2, 2, 1, "approved"),
        ("n_of_m", 2, 1, 1, None),
        ("n_of_m", 2, 0, 2, "rejected"),
    ],
)
def test_approval_policies_decide_from_the_votes(policy, required, approvals, rejections, expected):
    outcome = approval_outcome(
        policy, required=required, eligible=3, approvals=approvals, rejections=rejections
    )

    assert outcome == expected
