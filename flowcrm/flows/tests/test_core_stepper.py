"""The stepper: actions, branches, set, loops, goal, failures and operator operations.

Every test drives runs through ``Runner``, which round-trips the state through JSON at every
step and checks that ``advance`` never changes the state it was given.
"""

from __future__ import annotations

from typing import Any

import pytest

from flowcrm.flows.core.effects import (
    ActionEffect,
    ActionResult,
    ApprovalDecision,
    CloseApprovalEffect,
    OpenApprovalEffect,
)
from flowcrm.flows.core.errors import EngineError
from flowcrm.flows.core.state import STATE_UPGRADES, load_run_state
from flowcrm.flows.core.stepper import (
    MAX_STEPS_PER_ADVANCE,
    StepOutcome,
    cancel_run,
    retry_failed_step,
    skip_failed_step,
)
from flowcrm.flows.tests.core_builders import (
    Runner,
    at,
    flow,
    installed_languages,
    node,
    registered_note_action,
)

T0 = at("2026-11-23 10:00")


@pytest.fixture(autouse=True)
def _engine():
    with registered_note_action(), installed_languages():
        yield


def rule(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": f"contact.{field}", "op": op, "value": value}


def asked_for(outcome: StepOutcome) -> list[tuple[str, int]]:
    return [(e.idempotency_key, e.attempt) for e in outcome.effects if isinstance(e, ActionEffect)]


def welcome_flow() -> dict[str, Any]:
    return flow(
        [node("welcome", "action", subject="Hi {{ record.first_name }}"), node("done", "end")],
        [("welcome", "done")],
    )


def test_an_action_is_asked_for_with_an_idempotency_key_and_its_output_is_kept():
    runner = Runner(welcome_flow(), now=T0, record={"id": 7, "first_name": "Ada"})

    first = runner.advance(now=at("2026-11-23 10:00:05"))

    assert len(first.effects) == 1
    effect = first.effects[0]
    assert isinstance(effect, ActionEffect)
    assert (effect.idempotency_key, effect.action, effect.attempt) == (
        "run-1:welcome:1",
        "test_note",
        1,
    )
    assert effect.config == {"subject": "Hi {{ record.first_name }}", "body": "", "field": None}
    assert effect.context["record"] == {"id": 7, "first_name": "Ada"}
    assert first.status == "waiting" and first.wait is not None and first.wait.kind == "action"

    done = runner.advance(
        now=at("2026-11-23 10:00:06"),
        action_results=[ActionResult("run-1:welcome:1", output={"note_id": 91})],
    )

    assert done.effects == []
    assert done.status == "completed"
    assert runner.state.outputs == {"welcome": {"note_id": 91}}
    welcome, end = runner.state.steps
    assert (welcome.queued_at, welcome.started_at, welcome.finished_at) == (
        T0,
        at("2026-11-23 10:00:05"),
        at("2026-11-23 10:00:06"),
    )
    assert (welcome.status, welcome.output, end.status) == ("finished", {"note_id": 91}, "finished")
    assert [(t.subject, t.before, t.after) for t in runner.state.log] == [
        ("run", None, "running"),
        ("step", None, "queued"),
        ("step", "queued", "started"),
        ("step", "started", "waiting"),
        ("run", "running", "waiting"),
        ("run", "waiting", "running"),
        ("step", "waiting", "finished"),
        ("step", None, "queued"),
        ("step", "queued", "started"),
        ("step", "started", "finished"),
        ("run", "running", "completed"),
    ]


def test_an_unanswered_action_is_asked_for_again_with_the_same_key():
    runner = Runner(welcome_flow(), now=T0)
    first = runner.advance(now=T0)

    again = runner.advance(now=at("2026-11-23 10:05"))

    assert [e.idempotency_key for e in again.effects] == [first.effects[0].idempotency_key]
    assert len(runner.state.steps) == 1


def test_a_retryable_failure_backs_off_then_retries_with_the_same_key():
    runner = Runner(welcome_flow(), now=T0)
    runner.advance(now=T0)

    failed = runner.advance(
        now=T0, action_results=[ActionResult("run-1:welcome:1", error="503", retryable=True)]
    )
    assert failed.effects == []
    assert failed.wait is not None and failed.wait.kind == "retry"
    assert failed.wake_at is not None and at("2026-11-23 10:00:30") <= failed.wake_at
    assert failed.wake_at <= at("2026-11-23 10:00:36")

    too_early = runner.advance(now=at("2026-11-23 10:00:10"))
    assert too_early.effects == []

    retried = runner.advance(now=failed.wake_at)
    assert asked_for(retried) == [("run-1:welcome:1", 2)]


def test_retry_after_from_the_action_overrides_the_backoff():
    runner = Runner(welcome_flow(), now=T0)
    runner.advance(now=T0)

    outcome = runner.advance(
        now=T0,
        action_results=[
            ActionResult("run-1:welcome:1", error="429", retryable=True, retry_after=120)
        ],
    )

    assert outcome.wake_at == at("2026-11-23 10:02")


def test_a_final_failure_fails_the_run_and_an_operator_can_retry_or_skip():
    runner = Runner(welcome_flow(), now=T0)
    runner.advance(now=T0)

    failed = runner.advance(
        now=T0, action_results=[ActionResult("run-1:welcome:1", error="400 bad")]
    )

    assert failed.status == "failed"
    assert runner.state.error == "welcome: 400 bad"
    assert runner.state.steps[0].status == "failed"
    assert runner.advance(now=at("2026-11-23 11:00")).effects == []  # waits for an operator

    retried = runner.apply(retry_failed_step, now=at("2026-11-23 11:00"), record={"id": 7})
    assert asked_for(retried) == [("run-1:welcome:1", 2)]
    runner.advance(
        now=at("2026-11-23 11:00"), action_results=[ActionResult("run-1:welcome:1", error="no")]
    )

    skipped = runner.apply(skip_failed_step, now=at("2026-11-23 12:00"), record={"id": 7})
    assert skipped.status == "completed"
    assert [s.status for s in runner.state.steps] == ["skipped", "finished"]


def test_retrying_a_run_that_did_not_fail_is_refused():
    runner = Runner(welcome_flow(), now=T0)
    with pytest.raises(EngineError, match="only a failed run"):
        retry_failed_step(runner.definition, runner.state, now=T0, record={})


def switch_flow() -> dict[str, Any]:
    return flow(
        [
            node(
                "route",
                "branch",
                cases=[
                    {"name": "hot", "condition": {"all": [rule("score", "gte", 80)]}},
                    {"name": "warm", "condition": {"all": [rule("score", "gte", 50)]}},
                ],
            ),
            node(
                "hot_end",
                "end",
            ),
            node("warm_end", "end"),
            node("cold_end", "end"),
        ],
        [
            ("route", "hot_end", "hot"),
            ("route", "warm_end", "warm"),
            ("route", "cold_end", "default"),
        ],
    )


@pytest.mark.parametrize(
    ("score", "expected"), [(90, "hot_end"), (50, "warm_end"), (10, "cold_end"), (None, "cold_end")]
)
def test_a_switch_takes_the_first_case_that_holds_else_the_default(score, expected):
    runner = Runner(switch_flow(), now=T0, record={"id": 1, "score": score})

    outcome = runner.advance(now=T0)

    assert outcome.status == "completed"
    assert runner.path() == ["route", expected]


def test_a_branch_records_each_condition_with_the_values_it_saw():
    runner = Runner(switch_flow(), now=T0, record={"id": 1, "score": 60})

    runner.advance(now=T0)

    detail = runner.state.steps[0].detail
    assert detail["chosen"] == "warm"
    assert [(c["case"], c["result"]) for c in detail["cases"]] == [("hot", False), ("warm", True)]
    assert detail["cases"][0]["explanation"]["children"][0]["seen"] == 60
    assert runner.state.steps[0].edge == "warm"


def test_set_computes_run_variables_with_cel_in_order():
    data = flow(
        [
            node(
                "calc", "set", values={"doubled": "record.score * 2", "big": "vars.doubled > 100"}
            ),
            node("done", "end"),
        ],
        [("calc", "done")],
    )
    runner = Runner(data, now=T0, record={"id": 1, "score": 60})

    runner.advance(now=T0)

    assert runner.state.variables == {"doubled": 120, "big": True}
    assert runner.state.steps[0].output == {"doubled": 120, "big": True}


def test_a_set_expression_failing_at_runtime_fails_the_run_naming_the_value():
    data = flow(
        [node("calc", "set", values={"x": "record.missing + 1"}), node("done", "end")],
        [("calc", "done")],
    )
    runner = Runner(data, now=T0, record={"id": 1})

    outcome = runner.advance(now=T0)

    assert outcome.status == "failed"
    assert runner.state.error == "calc: config.values.x: no such key: missing"


def counting_loop(with_delay: bool) -> dict[str, Any]:
    nodes = [
        node("count", "set", values={"n": "has(vars.n) ? vars.n + 1 : 1"}),
        node(
            "again",
            "branch",
            cases=[
                {"name": "more", "condition": {"all": [rule("score", "gt", {"ref": "vars.n"})]}}
            ],
        ),
        node("done", "end"),
    ]
    edges: list[tuple[Any, ...]] = [("count", "again"), ("again", "done", "default")]
    if with_delay:
        nodes.append(node("pause", "delay", type="duration", hours=1))
        edges += [("again", "pause", "more"), ("pause", "count")]
    else:
        edges.append(("again", "count", "more"))
    return flow(nodes, edges)


def test_a_loop_with_a_delay_comes_back_after_each_delay():
    runner = Runner(counting_loop(with_delay=True), now=T0, record={"id": 1, "score": 3})

    first = runner.advance(now=T0)
    assert first.wake_at == at("2026-11-23 11:00")
    second = runner.advance(now=at("2026-11-23 11:00"))
    assert second.wake_at == at("2026-11-23 12:00")
    last = runner.advance(now=at("2026-11-23 12:00"))

    assert last.status == "completed"
    assert runner.state.variables == {"n": 3}
    assert runner.state.visits == {"count": 3, "again": 3, "pause": 2, "done": 1}


def test_a_loop_without_a_pause_is_stopped_instead_of_spinning():
    runner = Runner(counting_loop(with_delay=False), now=T0, record={"id": 1, "score": 10**6})

    outcome = runner.advance(now=T0)

    assert outcome.status == "failed"
    assert runner.state.error is not None
    assert f"more than {MAX_STEPS_PER_ADVANCE} steps without waiting" in runner.state.error


def approval_flow(**settings: Any) -> dict[str, Any]:
    return flow(
        [
            node("ask", "approval", approvers={"role": "manager"}),
            node("yes", "end"),
            node("no", "end"),
        ],
        [("ask", "yes", "approved"), ("ask", "no", "rejected")],
        **settings,
    )


def test_reaching_the_goal_exits_the_run_and_closes_its_open_approval():
    data = approval_flow(goal={"all": [rule("meeting_booked", "eq", True)]})
    runner = Runner(data, now=T0, record={"id": 1, "meeting_booked": False})
    opened = runner.advance(now=T0)
    assert isinstance(opened.effects[0], OpenApprovalEffect)

    exited = runner.advance(now=at("2026-11-24 09:00"), record={"id": 1, "meeting_booked": True})

    assert exited.status == "exited"
    assert runner.state.outcome == "goal_reached"
    assert exited.effects == [
        CloseApprovalEffect("run-1:ask:1", run_id="run-1", node_id="ask", reason="goal reached")
    ]
    assert runner.state.steps[0].status == "cancelled"
    late = runner.advance(
        now=at("2026-11-24 10:00"), signal=ApprovalDecision("run-1:ask:1", "approved")
    )
    assert late.effects == [] and late.status == "exited"


def test_cancelling_a_waiting_run_closes_its_approval():
    runner = Runner(approval_flow(), now=T0)
    runner.advance(now=T0)

    outcome = runner.apply(cancel_run, now=at("2026-11-23 11:00"), reason="duplicate lead")

    assert outcome.status == "cancelled"
    assert [type(e).__name__ for e in outcome.effects] == ["CloseApprovalEffect"]
    assert runner.state.finished_at == at("2026-11-23 11:00")


def rename_vars(data: dict[str, Any]) -> dict[str, Any]:
    data["variables"] = data.pop("vars")
    return data


def test_state_from_an_older_schema_version_is_upgraded(monkeypatch):
    runner = Runner(welcome_flow(), now=T0)
    old = runner.state.to_data()
    old["schema_version"] = 1
    old["vars"] = old.pop("variables")  # pretend version 1 called it "vars"
    monkeypatch.setattr("flowcrm.flows.core.state.RUN_STATE_SCHEMA_VERSION", 2)
    monkeypatch.setitem(STATE_UPGRADES, 1, rename_vars)

    restored = load_run_state(old)

    assert restored.schema_version == 2
    assert restored.variables == {}


def test_state_from_a_newer_engine_is_refused():
    runner = Runner(welcome_flow(), now=T0)
    data = {**runner.state.to_data(), "schema_version": 99}

    with pytest.raises(EngineError, match="newer than this engine"):
        load_run_state(data)


def test_naive_times_are_refused():
    runner = Runner(welcome_flow(), now=T0)
    with pytest.raises(EngineError, match="timezone-aware"):
        runner.advance(now=T0.replace(tzinfo=None))
