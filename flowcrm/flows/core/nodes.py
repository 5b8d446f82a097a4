"""Node kinds: one base class, a static ``validate()`` run at publish time, a runtime hook.

Every node has ``id``, ``kind``, ``lane``, ``name`` and a kind-specific ``config``. The runtime
hooks (``enter`` and ``resume``) live in :mod:`flowcrm.flows.core.behaviour` so the definition
models stay small; :data:`NODE_KINDS` maps each kind to its model.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowcrm.flows.core.actions import get_action
from flowcrm.flows.core.durations import Duration
from flowcrm.flows.core.errors import Path, PathError
from flowcrm.flows.core.language import check_condition, check_expression
from flowcrm.flows.core.templates import template_errors
from flowcrm.flows.core.triggers import EVENT_TYPE_PATTERN

NODE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Node(_Strict):
    """Base of every node kind.

    ``edge_labels()`` are the labels its outgoing edges may carry (``None`` in the set: an
    unlabelled edge), ``required_labels()`` those that must exist, ``pauses`` whether the node
    can make a run wait (delays, waits, approvals: a cycle through one of them cannot spin).
    """

    node_kind: ClassVar[str] = ""
    pauses: ClassVar[bool] = False

    id: str = Field(pattern=NODE_ID_PATTERN, description="unique within the flow; snake_case")
    kind: str
    lane: str | None = None
    name: str = Field(default="", max_length=200)

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset({None})

    def required_labels(self) -> frozenset[str | None]:
        return frozenset({None})

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        """Publish-time checks beyond the model's own (conditions, expressions, templates)."""
        return []

    def title(self) -> str:
        return self.name or self.id


class ActionNode(Node):
    """Runs a registered action; ``config`` is validated by the action's own config model."""

    node_kind: ClassVar[str] = "action"
    kind: Literal["action"]
    action: str
    config: dict[str, Any] = Field(default_factory=dict)
    max_attempts: int | None = Field(default=None, ge=1, le=25)

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        spec = get_action(self.action)
        if spec is None:
            return []  # reported while parsing, where the action kind is looked up
        errors: list[PathError] = []
        for key in spec.template_keys:
            value = self.config.get(key)
            if isinstance(value, str):
                errors += template_errors(value, (*path, "config", key))
        for key in spec.expression_keys:
            value = self.config.get(key)
            if value is not None:
                errors += check_expression(value, (*path, "config", key))
        return errors


class BranchCase(_Strict):
    name: str = Field(pattern=NODE_ID_PATTERN)
    condition: dict[str, Any]


class BranchConfig(_Strict):
    """Cases are tried in order; the first whose condition holds wins, else ``default``."""

    cases: list[BranchCase] = Field(min_length=1, max_length=50)

    @field_validator("cases")
    @classmethod
    def _unique_names(cls, cases: list[BranchCase]) -> list[BranchCase]:
        names = [c.name for c in cases]
        if "default" in names:
            raise ValueError("'default' is the fallback edge and cannot name a case")
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate case names: {', '.join(duplicates)}")
        return cases


class BranchNode(Node):
    """If/else (one case) or a multi-way switch; ``default`` is taken when no case holds."""

    node_kind: ClassVar[str] = "branch"
    kind: Literal["branch"]
    config: BranchConfig

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset([c.name for c in self.config.cases] + ["default"])

    def required_labels(self) -> frozenset[str | None]:
        # the default edge is checked separately so its finding can be named precisely
        return frozenset(c.name for c in self.config.cases)

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        errors: list[PathError] = []
        for index, case in enumerate(self.config.cases):
            errors += check_condition(
                case.condition,
                record_type=record_type,
                path=(*path, "config", "cases", index, "condition"),
            )
        return errors


DelayType = Literal["duration", "until", "until_field", "business_hours"]


class DelayConfig(_Strict):
    """``duration`` (days/hours/minutes/seconds, optionally counting business time only),
    ``until`` an instant, ``until_field`` a record date field ± offset at a local time, or
    ``business_hours`` (until the flow's calendar is open). A moment already past continues at once.
    """

    type: DelayType
    days: int = Field(default=0, ge=0, le=3650)
    hours: int = Field(default=0, ge=0)
    minutes: int = Field(default=0, ge=0)
    seconds: int = Field(default=0, ge=0)
    business_time: bool = False
    at: dt.datetime | None = None
    field: str | None = None
    offset_days: int = Field(default=0, ge=-3650, le=3650)
    offset_hours: int = Field(default=0, ge=-23, le=23)
    time: dt.time | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("'at' needs a time zone offset, e.g. 2027-01-01T09:00:00+01:00")
        return value

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> DelayConfig:
        if self.type == "duration" and self.duration() <= dt.timedelta(0):
            raise ValueError("a 'duration' delay needs days, hours, minutes or seconds")
        if self.type == "until" and self.at is None:
            raise ValueError("an 'until' delay needs 'at'")
        if self.type == "until_field" and not self.field:
            raise ValueError("an 'until_field' delay needs 'field'")
        return self

    def duration(self) -> dt.timedelta:
        return dt.timedelta(
            days=self.days, hours=self.hours, minutes=self.minutes, seconds=self.seconds
        )


class DelayNode(Node):
    node_kind: ClassVar[str] = "delay"
    pauses: ClassVar[bool] = True
    kind: Literal["delay"]
    config: DelayConfig


class WaitEventConfig(_Strict):
    """Wait for an event about the run's record (``field``/``from``/``to`` as in triggers, then
    ``condition`` on the record); with ``timeout`` the ``timeout`` edge is taken when it passes."""

    event: str
    field: str | None = None
    from_value: Any = Field(default=None, alias="from")
    to_value: Any = Field(default=None, alias="to")
    condition: dict[str, Any] | None = None
    timeout: Duration | None = None

    @field_validator("event")
    @classmethod
    def _event_shape(cls, value: str) -> str:
        if not EVENT_TYPE_PATTERN.match(value):
            raise ValueError(f"event type must look like 'subject.verb', got {value!r}")
        return value


class WaitEventNode(Node):
    node_kind: ClassVar[str] = "wait_event"
    pauses: ClassVar[bool] = True
    kind: Literal["wait_event"]
    config: WaitEventConfig

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset({"event", "timeout"} if self.config.timeout else {"event"})

    def required_labels(self) -> frozenset[str | None]:
        return self.edge_labels()

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        if self.config.condition is None:
            return []
        return check_condition(
            self.config.condition, record_type=record_type, path=(*path, "config", "condition")
        )


class Approvers(_Strict):
    users: list[int | str] = Field(default_factory=list, max_length=100)
    team: str | None = None
    role: str | None = None

    @model_validator(mode="after")
    def _someone(self) -> Approvers:
        if not self.users and self.team is None and self.role is None:
            raise ValueError("name at least one of 'users', 'team' or 'role'")
        return self


class ApprovalConfig(_Strict):
    """``policy``: ``any`` one approval, ``all`` approvers, or ``n_of_m`` (``required`` of them).
    A rejection under ``any``/``n_of_m`` counts once it makes the policy unreachable.
    ``escalate_to`` opens the approval to others once ``timeout`` passes without a decision."""

    title: str = Field(default="", max_length=200)
    approvers: Approvers
    policy: Literal["any", "all", "n_of_m"] = "any"
    required: int | None = Field(default=None, ge=1, le=100)
    timeout: Duration | None = None
    escalate_to: Approvers | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ApprovalConfig:
        if self.policy == "n_of_m" and self.required is None:
            raise ValueError("policy 'n_of_m' needs 'required'")
        if self.policy != "n_of_m" and self.required is not None:
            raise ValueError("'required' only applies to policy 'n_of_m'")
        if self.escalate_to is not None and self.timeout is None:
            raise ValueError("'escalate_to' needs a 'timeout'")
        return self


class ApprovalNode(Node):
    node_kind: ClassVar[str] = "approval"
    pauses: ClassVar[bool] = True
    kind: Literal["approval"]
    config: ApprovalConfig

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset({"approved", "rejected"})

    def required_labels(self) -> frozenset[str | None]:
        return self.edge_labels()


class SetConfig(_Strict):
    """Run variables computed with CEL, in order (later ones see earlier ones as ``vars.x``)."""

    values: dict[str, str] = Field(min_length=1, max_length=50)

    @field_validator("values")
    @classmethod
    def _names(cls, values: dict[str, str]) -> dict[str, str]:
        bad = [name for name in values if not NAME_PATTERN.match(name)]
        if bad:
            raise ValueError(f"variable names must be snake_case: {', '.join(bad)}")
        return values


class SetNode(Node):
    node_kind: ClassVar[str] = "set"
    kind: Literal["set"]
    config: SetConfig

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        errors: list[PathError] = []
        for name, source in self.config.values.items():
            errors += check_expression(source, (*path, "config", "values", name))
        return errors


class EndConfig(_Strict):
    outcome: str = Field(default="completed", max_length=64)


class EndNode(Node):
    node_kind: ClassVar[str] = "end"
    kind: Literal["end"]
    config: EndConfig = Field(default_factory=EndConfig)

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset()

    def required_labels(self) -> frozenset[str | None]:
        return frozenset()


NODE_KINDS: dict[str, type[Node]] = {
    model.node_kind: model
    for model in (
        ActionNode,
        BranchNode,
        DelayNode,
        WaitEventNode,
        ApprovalNode,
        SetNode,
        EndNode,
    )
}
