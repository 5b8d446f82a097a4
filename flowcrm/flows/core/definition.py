"""The flow definition: declarative data validated into typed, immutable models.

Build one with :func:`parse_definition` (a dict) or :func:`load_definition` (JSON or YAML text);
both raise :class:`~flowcrm.flows.core.errors.DefinitionInvalid` listing every problem with its
JSON path. :meth:`FlowDefinition.to_data` is the canonical JSON form (what is stored and hashed).
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cached_property
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationError, model_validator

from flowcrm.flows.core.actions import get_action
from flowcrm.flows.core.calendar import BusinessCalendar
from flowcrm.flows.core.errors import DefinitionInvalid, PathError
from flowcrm.flows.core.language import check_condition
from flowcrm.flows.core.nodes import NODE_ID_PATTERN, NODE_KINDS, ActionNode, Node
from flowcrm.flows.core.triggers import Trigger, parse_trigger
from flowcrm.flows.core.validation import pydantic_errors, validate_model

MAX_NODES = 300
MAX_EDGES = 1000
MAX_DEFINITION_BYTES = 256 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Lane(_Strict):
    """A swim lane: the team (department) or role responsible for the nodes in it."""

    id: str = Field(pattern=NODE_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    team: str | None = None
    role: str | None = None

    @model_validator(mode="after")
    def _team_or_role(self) -> Lane:
        if (self.team is None) == (self.role is None):
            raise ValueError("a lane names exactly one of 'team' or 'role'")
        return self


class Edge(_Strict):
    """``from`` -> ``to``; ``label`` is a case name or ``default`` after a branch, ``event`` or
    ``timeout`` after a wait, ``approved`` or ``rejected`` after an approval, else empty."""

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    label: str | None = None


class Reenrollment(_Strict):
    """Whether a record already enrolled may enroll again: ``never``, ``after_days`` (``days``
    after its previous enrollment) or ``every_time``."""

    policy: Literal["never", "after_days", "every_time"] = "never"
    days: int | None = Field(default=None, ge=1, le=3650)

    @model_validator(mode="after")
    def _days_with_after_days(self) -> Reenrollment:
        if (self.policy == "after_days") != (self.days is not None):
            raise ValueError("'days' is required for, and only for, policy 'after_days'")
        return self

    def allows(self, previous_enrollment: dt.datetime | None, now: dt.datetime) -> bool:
        """May a record last enrolled at ``previous_enrollment`` (``None``: never) enroll now?"""
        if previous_enrollment is None or self.policy == "every_time":
            return True
        if self.policy == "never":
            return False
        assert self.days is not None
        return now - previous_enrollment >= dt.timedelta(days=self.days)


class _Envelope(_Strict):
    """Everything but the trigger and the nodes, which are dispatched on their type/kind."""

    schema_: str | None = Field(default=None, alias="$schema")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    trigger: dict[str, Any]
    enrollment: dict[str, Any] | None = None
    reenrollment: Reenrollment = Field(default_factory=Reenrollment)
    goal: dict[str, Any] | None = None
    calendar: BusinessCalendar = Field(default_factory=BusinessCalendar)
    lanes: list[Lane] = Field(default_factory=list, max_length=50)
    start: str | None = None
    nodes: list[dict[str, Any]] = Field(min_length=1)
    edges: list[Edge] = Field(default_factory=list)


class FlowDefinition(_Strict):
    """A validated flow definition. Construct with :func:`parse_definition`."""

    name: str
    description: str = ""
    trigger: SerializeAsAny[Trigger]
    enrollment: dict[str, Any] | None = None
    reenrollment: Reenrollment = Field(default_factory=Reenrollment)
    goal: dict[str, Any] | None = None
    calendar: BusinessCalendar = Field(default_factory=BusinessCalendar)
    lanes: list[Lane] = Field(default_factory=list)
    start: str
    nodes: list[SerializeAsAny[Node]]
    edges: list[Edge] = Field(default_factory=list)

    @property
    def record_type(self) -> str | None:
        return self.trigger.record_type_name()

    @cached_property
    def node_map(self) -> dict[str, Node]:
        return {node.id: node for node in self.nodes}

    @cached_property
    def outgoing(self) -> dict[str, list[Edge]]:
        result: dict[str, list[Edge]] = {node.id: [] for node in self.nodes}
        for edge in self.edges:
            result[edge.source].append(edge)
        return result

    def node(self, node_id: str) -> Node:
        return self.node_map[node_id]

    def next_node(self, node_id: str, label: str | None) -> str | None:
        """The target of ``node_id``'s edge with ``label`` (``None`` when there is none)."""
        for edge in self.outgoing.get(node_id, ()):
            if edge.label == label:
                return edge.target
        return None

    def to_data(self) -> dict[str, Any]:
        """The canonical JSON-ready dict (``parse_definition(d.to_data()) == d``)."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_data(), sort_keys=True, separators=(",", ":"))


def load_definition(
    text: str, *, format: Literal["json", "yaml", "auto"] = "auto"
) -> FlowDefinition:
    """Parse JSON or YAML text (``auto``: JSON when it starts with ``{``) into a definition."""
    if len(text.encode()) > MAX_DEFINITION_BYTES:
        raise DefinitionInvalid([PathError((), _too_large())])
    try:
        if format == "json" or (format == "auto" and text.lstrip().startswith("{")):
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise DefinitionInvalid(
            [PathError((), f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise DefinitionInvalid([PathError((), f"not valid YAML{where}")]) from exc
    return parse_definition(data)


def _too_large() -> str:
    return f"the definition is larger than {MAX_DEFINITION_BYTES // 1024} KiB"


def parse_definition(data: Any) -> FlowDefinition:
    """Validate a definition dict; raises :class:`DefinitionInvalid` listing every problem."""
    if not isinstance(data, dict):
        raise DefinitionInvalid([PathError((), "a flow definition must be an object")])
    errors: list[PathError] = []
    try:
        size = len(json.dumps(data, default=str))
    except (TypeError, ValueError) as exc:
        raise DefinitionInvalid([PathError((), f"not JSON-serialisable: {exc}")]) from exc
    if size > MAX_DEFINITION_BYTES:
        raise DefinitionInvalid([PathError((), _too_large())])
    nodes_data = data.get("nodes")
    if isinstance(nodes_data, list) and len(nodes_data) > MAX_NODES:
        raise DefinitionInvalid([PathError(("nodes",), f"at most {MAX_NODES} nodes are allowed")])
    edges_data = data.get("edges")
    if isinstance(edges_data, list) and len(edges_data) > MAX_EDGES:
        raise DefinitionInvalid([PathError(("edges",), f"at most {MAX_EDGES} edges are allowed")])

    envelope = validate_model(_Envelope, data, (), errors)
    trigger: Trigger | None = None
    if isinstance(data.get("trigger"), dict):
        try:
            trigger = parse_trigger(data["trigger"])
        except DefinitionInvalid as exc:
            errors += exc.errors
    record_type = trigger.record_type_name() if trigger else None
    parsed = _parse_nodes(nodes_data, record_type, errors)
    if envelope is not None and isinstance(nodes_data, list):
        _check_references(envelope, nodes_data, parsed, errors)
    nodes = list(parsed.values())
    if envelope is None or trigger is None or errors:
        raise DefinitionInvalid(errors)

    for key in ("enrollment", "goal"):
        condition = getattr(envelope, key)
        if condition is not None:
            errors += check_condition(condition, record_type=record_type, path=(key,))
    for key, condition in trigger.condition_paths():
        errors += check_condition(condition, record_type=record_type, path=("trigger", key))
    if errors:
        raise DefinitionInvalid(errors)
    return FlowDefinition(
        name=envelope.name,
        description=envelope.description,
        trigger=trigger,
        enrollment=envelope.enrollment,
        reenrollment=envelope.reenrollment,
        goal=envelope.goal,
        calendar=envelope.calendar,
        lanes=envelope.lanes,
        start=envelope.start or nodes[0].id,
        nodes=nodes,
        edges=envelope.edges,
    )


def _parse_nodes(data: Any, record_type: str | None, errors: list[PathError]) -> dict[int, Node]:
    """The nodes that validated, by index (errors for the others are appended)."""
    nodes: dict[int, Node] = {}
    if not isinstance(data, list):
        return nodes  # the envelope reported it
    for index, item in enumerate(data):
        path = ("nodes", index)
        if not isinstance(item, dict):
            continue  # the envelope reported it
        kind = item.get("kind")
        model = NODE_KINDS.get(kind) if isinstance(kind, str) else None
        if model is None:
            known = ", ".join(NODE_KINDS)
            errors.append(
                PathError((*path, "kind"), f"unknown node kind {kind!r} (known: {known})")
            )
            continue
        node = validate_model(model, item, path, errors)
        if node is None:
            continue
        if isinstance(node, ActionNode):
            normalised = _normalise_action(node, path)
            if isinstance(normalised, list):
                errors += normalised
                continue
            node = normalised
        errors += node.validate_node(record_type=record_type, path=path)
        nodes[index] = node
    return nodes


def _normalise_action(
    node: ActionNode, path: tuple[str | int, ...]
) -> ActionNode | list[PathError]:
    """The node with its config validated (and defaults filled) by the action's config model."""
    spec = get_action(node.action)
    if spec is None:
        from flowcrm.flows.core.actions import action_kinds

        known = ", ".join(action_kinds()) or "none registered"
        return [PathError((*path, "action"), f"unknown action {node.action!r} (known: {known})")]
    try:
        config = spec.parse_config(node.config)
    except ValidationError as exc:
        return pydantic_errors(exc, (*path, "config"))
    normalised = config.model_dump(mode="json", by_alias=True)
    return node.model_copy(update={"config": normalised})


def _check_references(
    envelope: _Envelope, raw_nodes: list[Any], nodes: dict[int, Node], errors: list[PathError]
) -> None:
    """Duplicate ids, lanes, the start node and edges (ids also of nodes that failed to parse)."""
    seen: dict[str, int] = {}
    for index, item in enumerate(raw_nodes):
        node_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(node_id, str):
            continue
        if node_id in seen:
            message = f"duplicate node id {node_id!r} (also nodes[{seen[node_id]}])"
            errors.append(PathError(("nodes", index, "id"), message))
        seen.setdefault(node_id, index)
    lane_ids = [lane.id for lane in envelope.lanes]
    for index, lane_id in enumerate(lane_ids):
        if lane_ids.index(lane_id) != index:
            errors.append(PathError(("lanes", index, "id"), f"duplicate lane id {lane_id!r}"))
    for index, node in nodes.items():
        if envelope.lanes and node.lane is None:
            errors.append(PathError(("nodes", index, "lane"), "required when the flow has lanes"))
        elif node.lane is not None and node.lane not in lane_ids:
            errors.append(PathError(("nodes", index, "lane"), f"unknown lane {node.lane!r}"))
    if envelope.start is not None and envelope.start not in seen:
        errors.append(PathError(("start",), f"unknown node {envelope.start!r}"))
    by_id = {node.id: node for node in nodes.values()}
    used: set[tuple[str, str | None]] = set()
    for index, edge in enumerate(envelope.edges):
        path = ("edges", index)
        for key, alias in (("source", "from"), ("target", "to")):
            if getattr(edge, key) not in seen:
                errors.append(PathError((*path, alias), f"unknown node {getattr(edge, key)!r}"))
        source = by_id.get(edge.source)
        if source is None:
            continue
        allowed = source.edge_labels()
        if edge.label not in allowed:
            errors.append(PathError((*path, "label"), _label_message(source, edge.label, allowed)))
        elif (edge.source, edge.label) in used:
            label = f"label {edge.label!r}" if edge.label else "an unlabelled edge"
            errors.append(PathError(path, f"node {edge.source!r} already has {label}"))
        used.add((edge.source, edge.label))


def _label_message(node: Node, label: str | None, allowed: frozenset[str | None]) -> str:
    if not allowed:
        return f"{node.kind} node {node.id!r} has no outgoing edges"
    names = sorted(repr(a) if a else "none" for a in allowed)
    shown = repr(label) if label else "none"
    where = f"{node.kind} node {node.id!r}"
    return f"label {shown} is not allowed after {where} (allowed: {', '.join(names)})"
