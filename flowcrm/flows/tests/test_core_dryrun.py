"""Dry run: the full trace of a record through a flow, with previews and no side effects."""

from __future__ import annotations

from typing import Any

import pytest

from flowcrm.flows.core.definition import parse_definition
from flowcrm.flows.core.dryrun import dry_run
from flowcrm.flows.tests.core_builders import (
    at,
    flow,
    installed_languages,
    node,
    registered_note_action,
)

NOW = at("2026-11-20 16:30")
PREVIEWS: list[str] = []


def recording_preview(config: Any, context: Any) -> dict[str, Any]:
    PREVIEWS.append(config.subject)
    return {"would_send": config.subject, "to": context["record"].get("email")}


@pytest.fixture(autouse=True)
def _engine():
    PREVIEWS.clear()
    with registered_note_action(preview=recording_preview), installed_languages():
        yield


def rule(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": f"contact.{field}", "op": op, "value": value}


def nurture() -> dict[str, Any]:
    return flow(
        [
            node(
                "route",
                "branch",
                cases=[{"name": "hot", "condition": {"all": [rule("score", "gte", 50)]}}],
            ),
            node("call", "action", subject="Call {{ record.first_name }}"),
            node("wait", "delay", type="duration", business_time=True, hours=4),
            node("mail", "action", subject="Checking in"),
            node("opened", "wait_event", event="email.opened", timeout={"days": 3}),
            node("ask", "approval", approvers={"role": "manager"}),
            node("done", "end"),
            node(
                "dropped",
                "end",
            ),
        ],
        [
            ("route", "call", "hot"),
            ("route", "wait", "default"),
            ("call", "done"),
            ("wait", "mail"),
            ("mail", "opened"),
            ("opened", "done", "event"),
            ("opened", "ask", "timeout"),
            ("ask", "done", "approved"),
            ("ask", "dropped", "rejected"),
        ],
        enrollment={"all": [rule("email", "is_not_empty", None)]},
    )


def created(contact_id: int) -> dict[str, Any]:
    return {"type": "contact.created", "subject_type": "contact", "subject_id": contact_id}


def test_a_dry_run_traces_conditions_previews_and_skipped_waits():
    record = {"id": 3, "email": "ada@example.com", "score": 20, "first_name": "Ada"}

    trace = dry_run(
        parse_definition(nurture()), record=record, now=NOW, event=created(3), approval="rejected"
    )

    assert trace.status == "completed"
    assert trace.trigger_matched is True
    assert trace.enrollment is not None and trace.enrollment["result"] is True
    assert trace.path == ["route", "wait", "mail", "opened", "ask", "dropped"]
    route, wait, mail, opened, ask, _ = trace.steps
    assert route.edge == "default"
    assert route.detail["cases"][0]["explanation"]["children"][0] == {
        "kind": "rule",
        "path": "condition.all[0]",
        "result": False,
        "field": "contact.score",
        "op": "gte",
        "value": 50,
        "seen": 20,
    }
    assert wait.notes == ["delay until 2026-11-23T12:30:00+00:00 skipped"]
    assert mail.output == {"would_send": "Checking in", "to": "ada@example.com"}
    assert mail.notes == ["output previewed, not executed"]
    assert opened.edge == "timeout"
    assert opened.notes == ["wait (no event assumed) until 2026-11-26T12:30:00+00:00 skipped"]
    assert (ask.edge, ask.notes) == ("rejected", ["assumed rejected"])
    assert PREVIEWS == ["Checking in"]
    assert trace.as_dict()["path"] == trace.path


def test_a_record_that_would_not_enroll_stops_before_any_node():
    trace = dry_run(parse_definition(nurture()), record={"id": 3, "score": 90}, now=NOW)

    assert trace.status == "not_enrolled"
    assert trace.enrollment is not None
    assert trace.enrollment["explanation"]["children"][0]["seen"] is None
    assert trace.steps == []
    assert PREVIEWS == []


def test_an_event_the_trigger_does_not_match_is_reported():
    event = {"type": "contact.updated", "subject_type": "contact", "subject_id": 3}

    trace = dry_run(parse_definition(nurture()), record={"id": 3}, now=NOW, event=event)

    assert (trace.status, trace.trigger_matched) == ("not_triggered", False)


def test_a_wait_without_timeout_stops_the_trace_saying_what_it_waits_for():
    data = flow(
        [node("opened", "wait_event", event="email.opened"), node("done", "end")],
        [("opened", "done", "event")],
    )

    trace = dry_run(parse_definition(data), record={"id": 1}, now=NOW)

    assert (trace.status, trace.stopped_at) == ("waiting", "opened")
    assert trace.steps[0].notes == ["would wait for email.opened"]
