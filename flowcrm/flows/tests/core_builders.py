"""Builders for engine-core tests: small definitions and a registered test action."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict

from flowcrm.core.conditions import FieldInfo, FieldType
from flowcrm.core.errors import ValidationFailed
from flowcrm.flows.core import language
from flowcrm.flows.core.actions import (
    ActionSpec,
    FieldAccess,
    get_action,
    register_action,
    unregister_action,
)
from flowcrm.flows.core.definition import parse_definition
from flowcrm.flows.core.state import load_run_state
from flowcrm.flows.core.stepper import StepOutcome, advance, start_run
from flowcrm.flows.languages import CelExpressionLanguage, TreeConditionLanguage


class NoteConfig(BaseModel):
    """Config of the ``test_note`` action used by these tests."""

    model_config = ConfigDict(extra="forbid")
    subject: str
    body: str = ""
    field: str | None = None


def _note_writes(config: Any) -> list[str | FieldAccess]:
    return [config.field] if config.field else []


def _note_preview(config: Any, context: Any) -> dict[str, Any]:
    return {"subject": config.subject, "record_id": context["record"].get("id")}


@contextmanager
def registered_note_action(kind: str = "test_note", **overrides: Any) -> Iterator[ActionSpec]:
    """Register a test action for the duration of a ``with`` block."""
    previous = get_action(kind)
    options: dict[str, Any] = {
        "reads": ("email",),
        "writes": _note_writes,
        "template_keys": ("subject", "body"),
        "preview": _note_preview,
    }
    options.update(overrides)
    spec = register_action(kind, NoteConfig, **options)
    try:
        yield spec
    finally:
        unregister_action(kind)
        if previous is not None:
            register_action(
                previous.kind,
                previous.config_model,
                reads=previous.reads,
                writes=previous.writes,
                retryable=previous.retryable,
                max_attempts=previous.max_attempts,
                preview=previous.preview,
                title=previous.title,
                template_keys=previous.template_keys,
                expression_keys=previous.expression_keys,
            )


def flow(
    nodes: list[dict[str, Any]], edges: list[tuple[Any, ...]], **settings: Any
) -> dict[str, Any]:
    """A definition dict; edges as ``(from, to)`` or ``(from, to, label)``."""
    data: dict[str, Any] = {
        "name": "Test flow",
        "trigger": {"type": "record_event", "event": "contact.created"},
        "nodes": copy.deepcopy(nodes),
        "edges": [
            {"from": e[0], "to": e[1], **({"label": e[2]} if len(e) > 2 else {})} for e in edges
        ],
    }
    data.update(settings)
    return data


def node(node_id: str, kind: str, **config: Any) -> dict[str, Any]:
    if kind == "action":
        action = config.pop("action", "test_note")
        return {"id": node_id, "kind": "action", "action": action, "config": config}
    if kind == "end":
        return {"id": node_id, "kind": "end"}
    return {"id": node_id, "kind": kind, "config": config}


def _field(path: str, kind: FieldType, column: str, relations: tuple[str, ...] = ()) -> FieldInfo:
    return FieldInfo(path=path, type=kind, label=path, relations=relations, column=column)


#: A fixed field registry, so engine-core tests need no database (no custom fields).
TEST_FIELDS: dict[str, dict[str, FieldInfo]] = {
    "contact": {
        f.path: f
        for f in (
            _field("contact.id", FieldType.RELATION, "id"),
            _field("contact.first_name", FieldType.TEXT, "first_name"),
            _field("contact.email", FieldType.TEXT, "email"),
            _field("contact.score", FieldType.NUMBER, "score"),
            _field("contact.country", FieldType.TEXT, "country"),
            _field("contact.status", FieldType.TEXT, "status"),
            _field("contact.renewal_date", FieldType.DATE, "renewal_date"),
            _field("contact.owner", FieldType.USER, "owner"),
            _field("contact.meeting_booked", FieldType.BOOLEAN, "meeting_booked"),
        )
    },
    "deal": {
        f.path: f
        for f in (
            _field("deal.id", FieldType.RELATION, "id"),
            _field("deal.amount", FieldType.NUMBER, "amount"),
            _field("deal.stage", FieldType.TEXT, "stage"),
            _field("deal.discount", FieldType.NUMBER, "discount"),
        )
    },
}


def registry_for_tests(record_type: str) -> dict[str, FieldInfo]:
    if record_type not in TEST_FIELDS:
        raise ValidationFailed({"record_type": f"unknown record type {record_type!r}"})
    return TEST_FIELDS[record_type]


@contextmanager
def installed_languages() -> Iterator[None]:
    """The real condition tree (over :data:`TEST_FIELDS`) and CEL, for one test."""
    previous = (language.condition_language(), language.expression_language())
    language.install_condition_language(TreeConditionLanguage(fields=registry_for_tests))
    language.install_expression_language(CelExpressionLanguage())
    language.clear_condition_cache()
    try:
        yield
    finally:
        language.install_condition_language(previous[0])
        language.install_expression_language(previous[1])
        language.clear_condition_cache()


class Runner:
    """Drives one run through :func:`advance`, saving and restoring its state at every step.

    After each step the state goes through JSON and :func:`load_run_state`; the restored state
    must equal the original, and the state passed in must be unchanged (the stepper is pure).
    """

    def __init__(
        self,
        data: dict[str, Any],
        *,
        now: dt.datetime,
        record: dict[str, Any] | None = None,
        run_id: str = "run-1",
        trigger_event: dict[str, Any] | None = None,
    ) -> None:
        self.definition = parse_definition(data)
        self.record = record if record is not None else {"id": 7}
        self.state = start_run(
            self.definition,
            run_id=run_id,
            now=now,
            record_id=self.record.get("id"),
            trigger_event=trigger_event,
        )
        self.roundtrip()

    def roundtrip(self) -> None:
        saved = json.loads(json.dumps(self.state.to_data()))
        restored = load_run_state(saved)
        assert restored == self.state
        assert restored.to_data() == saved
        self.state = restored

    def advance(self, *, now: dt.datetime, **kwargs: Any) -> StepOutcome:
        before = self.state.to_data()
        kwargs.setdefault("record", self.record)
        outcome = advance(self.definition, self.state, now=now, **kwargs)
        assert self.state.to_data() == before, "advance() changed the state it was given"
        self.state = outcome.state
        self.roundtrip()
        return outcome

    def apply(self, operation: Any, *, now: dt.datetime, **kwargs: Any) -> StepOutcome:
        """An operator operation (retry_failed_step, skip_failed_step, cancel_run)."""
        outcome: StepOutcome = operation(self.definition, self.state, now=now, **kwargs)
        self.state = outcome.state
        self.roundtrip()
        return outcome

    def path(self) -> list[str]:
        return [step.node_id for step in self.state.steps]


def at(text: str) -> dt.datetime:
    """An aware UTC datetime from ``"2026-11-20 16:30"``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
