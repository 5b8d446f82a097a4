"""Evaluating a condition tree on one record snapshot (pure Python: no Django import).

Missing values (absent key, null, a null relation on the way, ``""`` text, ``[]`` list) make
every positive operator false; a negative operator (``ne``, ``not_in``, ``not_contains``,
``is_empty``) is the negation of its positive twin, so it is true. ``not`` inverts its child.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowcrm.core.conditions.tree import (
    NEGATED,
    AllGroup,
    Condition,
    FieldType,
    NotGroup,
    Operator,
    Rule,
)
from flowcrm.core.conditions.values import (
    MISSING,
    ConditionValueError,
    Window,
    lookup_path,
    operand,
    record_value,
    resolve_value,
    scalar,
)
from flowcrm.core.errors import ValidationFailed


@dataclass
class ConditionTrace:
    """What a dry run shows: every group and rule with its result; rules with what they saw."""

    kind: str  # "all" | "any" | "not" | "rule"
    path: str
    result: bool
    field: str | None = None
    op: str | None = None
    value: Any = None  # the rule's value with references resolved
    seen: Any = None  # the record's value at the field path
    children: list[ConditionTrace] = dataclasses.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "path": self.path, "result": self.result}
        if self.kind == "rule":
            data |= {"field": self.field, "op": self.op, "value": self.value, "seen": self.seen}
        else:
            data["children"] = [child.to_dict() for child in self.children]
        return data


def evaluate(
    condition: Condition,
    record: Mapping[str, Any],
    *,
    context: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Whether ``record`` (a nested snapshot) meets ``condition``.

    ``changes`` are the triggering event's ``{"field": {"before": .., "after": ..}}`` (needed by
    changed/changed_to/changed_from, which are false without them); ``context`` resolves
    ``{"ref": ...}`` values; ``now`` (default: the current UTC time) anchors relative dates.
    Raises ValidationFailed naming the rule's JSON path when a reference is missing or a
    referenced value does not fit the field.
    """
    moment = now or dt.datetime.now(dt.UTC)
    try:
        return _holds(condition, record, context, changes or {}, moment)
    except ValidationFailed:
        # the fast path does not track JSON paths; the trace raises with the rule's path
        explain(condition, record, context=context, changes=changes, now=moment)
        raise


def _holds(
    condition: Condition,
    record: Mapping[str, Any],
    context: Mapping[str, Any] | None,
    changes: Mapping[str, Any],
    now: dt.datetime,
) -> bool:
    """The result alone, short-circuiting groups (the hot path of flow branches)."""
    if isinstance(condition, Rule):
        return _rule_result(condition, record, context, changes, now, "condition")[1]
    if isinstance(condition, NotGroup):
        return not _holds(condition.not_, record, context, changes, now)
    if isinstance(condition, AllGroup):
        return all(_holds(child, record, context, changes, now) for child in condition.all_)
    return any(_holds(child, record, context, changes, now) for child in condition.any_)


def explain(
    condition: Condition,
    record: Mapping[str, Any],
    *,
    context: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    path: str = "condition",
) -> ConditionTrace:
    """The full trace of evaluating ``condition`` (no short-circuit: every rule is shown)."""
    moment = now or dt.datetime.now(dt.UTC)
    return _trace(condition, record, context, changes or {}, moment, path)


def _trace(
    condition: Condition,
    record: Mapping[str, Any],
    context: Mapping[str, Any] | None,
    changes: Mapping[str, Any],
    now: dt.datetime,
    path: str,
) -> ConditionTrace:
    if isinstance(condition, Rule):
        return _rule_trace(condition, record, context, changes, now, path)
    if isinstance(condition, NotGroup):
        child = _trace(condition.not_, record, context, changes, now, f"{path}.not")
        return ConditionTrace("not", path, not child.result, children=[child])
    kind = "all" if isinstance(condition, AllGroup) else "any"
    members = condition.all_ if isinstance(condition, AllGroup) else condition.any_
    children = [
        _trace(child, record, context, changes, now, f"{path}.{kind}[{index}]")
        for index, child in enumerate(members)
    ]
    results = [child.result for child in children]
    result = all(results) if isinstance(condition, AllGroup) else any(results)
    return ConditionTrace(kind, path, result, children=children)


def _rule_trace(
    rule: Rule,
    record: Mapping[str, Any],
    context: Mapping[str, Any] | None,
    changes: Mapping[str, Any],
    now: dt.datetime,
    path: str,
) -> ConditionTrace:
    seen, result = _rule_result(rule, record, context, changes, now, path)
    shown = resolve_value(rule, context)
    return ConditionTrace(
        "rule", path, result, field=rule.field, op=rule.op.value, value=shown, seen=seen
    )


def _rule_result(
    rule: Rule,
    record: Mapping[str, Any],
    context: Mapping[str, Any] | None,
    changes: Mapping[str, Any],
    now: dt.datetime,
    path: str,
) -> tuple[Any, bool]:
    """``(value seen, result)`` of one rule; raises ValidationFailed naming ``path.value``."""
    try:
        target = operand(rule, context, now)
    except ConditionValueError as error:
        raise ValidationFailed({f"{path}.value": str(error)}) from error
    if rule.op in (Operator.CHANGED, Operator.CHANGED_TO, Operator.CHANGED_FROM):
        before, after, present = change_of(changes, rule.field)
        seen = {"before": before, "after": after} if present else None
        return seen, (_changed(rule, target, before, after) if present else False)
    seen = record_value(record, rule.field)
    return seen, rule_holds(rule, seen, target)


def rule_holds(rule: Rule, raw: Any, target: Any) -> bool:
    """The result of a (non-change) rule for a raw record value and a normalised operand."""
    field_type = rule.field_type or FieldType.TEXT
    value = scalar(field_type, raw)
    if rule.op in NEGATED:
        return not _positive(NEGATED[rule.op], field_type, value, target)
    return _positive(rule.op, field_type, value, target)


def _positive(op: Operator, field_type: FieldType, value: Any, target: Any) -> bool:
    if value is MISSING:
        return False
    many = field_type == FieldType.MULTI_CHOICE
    match op:
        case Operator.IS_NOT_EMPTY:
            return True
        case Operator.EQ:
            return bool(value == target)
        case Operator.GT:
            return bool(value > target)
        case Operator.GTE:
            return bool(value >= target)
        case Operator.LT:
            return bool(value < target)
        case Operator.LTE:
            return bool(value <= target)
        case Operator.IN:
            return any(item in target for item in value) if many else value in target
        case Operator.CONTAINS:
            return target in value
        case Operator.STARTS_WITH:
            return bool(value.startswith(target))
        case Operator.ENDS_WITH:
            return bool(value.endswith(target))
        case (
            Operator.BETWEEN
            | Operator.WITHIN_LAST
            | Operator.WITHIN_NEXT
            | Operator.MORE_THAN_DAYS_AGO
        ):
            return isinstance(target, Window) and target.contains(value)
    raise ValueError(f"operator {op.value!r} is not a positive comparison")


def change_key(path: str) -> str:
    """The key of a field in an event's ``changes``: the path without the record type."""
    return path.split(".", 1)[1]


def change_of(changes: Mapping[str, Any], path: str) -> tuple[Any, Any, bool]:
    """``(before, after, present)`` of a field in the triggering event's changes.

    Custom fields may be recorded one key each (``custom.region``) or as the whole ``custom``
    dict; relation ids as ``stage`` or ``stage_id`` (path ``deal.stage.id``).
    """
    key = change_key(path)
    candidates = [key]
    if key.endswith(".id"):
        relation = key.removesuffix(".id")
        candidates += [relation, f"{relation}_id"]
    for candidate in candidates:
        entry = changes.get(candidate)
        if isinstance(entry, Mapping):
            return entry.get("before"), entry.get("after"), True
    if key.startswith("custom.") and isinstance(changes.get("custom"), Mapping):
        entry = changes["custom"]
        sub = key.removeprefix("custom.")
        before = lookup_path(entry.get("before") or {}, sub)[1]
        after = lookup_path(entry.get("after") or {}, sub)[1]
        return before, after, True
    return None, None, False


def _changed(rule: Rule, target: Any, before: Any, after: Any) -> bool:
    field_type = rule.field_type or FieldType.TEXT
    old, new = scalar(field_type, before), scalar(field_type, after)
    if old == new:
        return False
    if rule.op == Operator.CHANGED_TO:
        return new is not MISSING and bool(new == target)
    if rule.op == Operator.CHANGED_FROM:
        return old is not MISSING and bool(old == target)
    return True
