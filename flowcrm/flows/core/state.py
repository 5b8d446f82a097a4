"""The running instance of a flow, kept apart from its definition.

:class:`RunState` is JSON-serialisable (``to_data`` / :func:`load_run_state`) and carries a
``schema_version``; :func:`load_run_state` upgrades older versions one step at a time through
:data:`STATE_UPGRADES`. Statuses only move forward (:data:`RUN_TRANSITIONS`,
:data:`STEP_TRANSITIONS`) and every move is logged with its time in ``RunState.log``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowcrm.flows.core.errors import EngineError

RUN_STATE_SCHEMA_VERSION = 1

RunStatus = Literal["running", "waiting", "completed", "exited", "failed", "cancelled"]
StepStatus = Literal["queued", "started", "waiting", "finished", "failed", "skipped", "cancelled"]
WaitKind = Literal["timer", "event", "approval", "action", "retry"]

TERMINAL_RUN_STATUSES: frozenset[str] = frozenset({"completed", "exited", "failed", "cancelled"})

#: Allowed status moves of a run. ``failed`` -> ``running`` is the operator's retry/skip.
RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    "running": frozenset({"waiting", "completed", "exited", "failed", "cancelled"}),
    "waiting": frozenset({"running", "exited", "failed", "cancelled"}),
    "failed": frozenset({"running", "cancelled"}),
    "completed": frozenset(),
    "exited": frozenset(),
    "cancelled": frozenset(),
}

#: Allowed status moves of a step (``waiting`` may be entered again, e.g. after an escalation).
STEP_TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"started", "cancelled", "skipped"}),
    "started": frozenset({"waiting", "finished", "failed", "cancelled"}),
    "waiting": frozenset({"waiting", "started", "finished", "failed", "cancelled"}),
    "failed": frozenset({"started", "skipped", "cancelled"}),
    "finished": frozenset(),
    "skipped": frozenset(),
    "cancelled": frozenset(),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class StepRecord(_Model):
    """One visit of one node. ``queued_at`` -> ``started_at`` is waiting time (in the queue or a
    delay), ``started_at`` -> ``finished_at`` is processing time."""

    index: int
    node_id: str
    kind: str
    visit: int
    attempt: int = 1
    status: StepStatus = "queued"
    queued_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    edge: str | None = None
    output: Any = None
    error: str | None = None
    detail: Any = None


class Wait(_Model):
    """What a run is waiting for (at most one thing: the engine runs one token per run)."""

    kind: WaitKind
    node_id: str
    step_index: int
    #: Timer due, timeout, escalation or retry time (``None``: wait without a deadline).
    wake_at: dt.datetime | None = None
    event_type: str | None = None
    #: Waiting for an approval or an action result: the effect's idempotency key.
    key: str | None = None
    escalated: bool = False


class Transition(_Model):
    at: dt.datetime
    subject: Literal["run", "step"]
    step_index: int | None = None
    node_id: str | None = None
    before: str | None
    after: str
    note: str | None = None


class RunState(_Model):
    schema_version: int = RUN_STATE_SCHEMA_VERSION
    run_id: str
    record_type: str | None = None
    record_id: Any = None
    status: RunStatus = "running"
    #: The node the run's token is at (``None`` once it finished).
    cursor: str | None = None
    wait: Wait | None = None
    visits: dict[str, int] = Field(default_factory=dict)
    variables: dict[str, Any] = Field(default_factory=dict)
    outputs: dict[str, Any] = Field(default_factory=dict)
    trigger: dict[str, Any] | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    log: list[Transition] = Field(default_factory=list)
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    outcome: str | None = None
    error: str | None = None

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_RUN_STATUSES

    @property
    def current_step(self) -> StepRecord | None:
        return self.steps[-1] if self.steps else None

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready form to persist."""
        data: dict[str, Any] = self.model_dump(mode="json")
        return data

    def copy_for_step(self) -> RunState:
        """A deep copy the stepper mutates, so the caller's state is never changed."""
        return self.model_copy(deep=True)

    def move_to(self, status: RunStatus, at: dt.datetime, note: str | None = None) -> None:
        if status == self.status:
            return
        if status not in RUN_TRANSITIONS[self.status]:
            raise EngineError(f"a {self.status} run cannot become {status}")
        self.log.append(
            Transition(at=at, subject="run", before=self.status, after=status, note=note)
        )
        self.status = status
        if status in TERMINAL_RUN_STATUSES:
            self.finished_at = at

    def move_step(
        self, step: StepRecord, status: StepStatus, at: dt.datetime, note: str | None = None
    ) -> None:
        if status not in STEP_TRANSITIONS[step.status]:
            raise EngineError(
                f"step {step.index} ({step.node_id}) cannot go {step.status} -> {status}"
            )
        self.log.append(
            Transition(
                at=at,
                subject="step",
                step_index=step.index,
                node_id=step.node_id,
                before=step.status,
                after=status,
                note=note,
            )
        )
        step.status = status
        if status == "started" and step.started_at is None:
            step.started_at = at
        if status in {"finished", "failed", "skipped", "cancelled"}:
            step.finished_at = at


StateUpgrade = Callable[[dict[str, Any]], dict[str, Any]]

#: ``STATE_UPGRADES[n]`` turns version ``n`` data into version ``n + 1`` data.
STATE_UPGRADES: dict[int, StateUpgrade] = {}


def load_run_state(data: dict[str, Any]) -> RunState:
    """Restore a persisted run state, upgrading it to the current schema version first.

    Raises :class:`EngineError` for a version newer than this code or with no upgrade path.
    """
    version = int(data.get("schema_version", 1))
    if version > RUN_STATE_SCHEMA_VERSION:
        raise EngineError(f"run state version {version} is newer than this engine")
    while version < RUN_STATE_SCHEMA_VERSION:
        upgrade = STATE_UPGRADES.get(version)
        if upgrade is None:
            raise EngineError(f"no upgrade from run state version {version}")
        data = {**upgrade(dict(data)), "schema_version": version + 1}
        version += 1
    return RunState.model_validate(data)
