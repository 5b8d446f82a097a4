"""Validating condition JSON into a typed tree, with JSON-path error messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flowcrm.core.conditions.tree import (
    CHANGE_OPERATORS,
    OPERATORS_BY_TYPE,
    VALUELESS_OPERATORS,
    AllGroup,
    AnyGroup,
    Condition,
    FieldInfo,
    FieldType,
    NotGroup,
    Operator,
    Rule,
)
from flowcrm.core.conditions.values import (
    ConditionValueError,
    ascii_lower,
    is_ref,
    operand,
    valid_ref,
)
from flowcrm.core.errors import ValidationFailed

MAX_DEPTH = 10
MAX_RULES = 200
_RULE_KEYS = frozenset({"field", "op", "value"})
_PARSE_NOW = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # only checks value shapes


def parse_condition(
    data: Any,
    *,
    record_type: str,
    path: str = "condition",
    fields: Mapping[str, FieldInfo] | None = None,
) -> Condition:
    """A validated condition tree for ``record_type``.

    Checks the shape, that every field path exists, that the operator is allowed for the
    field's type, and the value's type. Raises ValidationFailed mapping each JSON path to its
    problem, e.g. ``{"condition.all[1].field": "unknown field 'deal.compnay.industry'"}``.
    ``fields`` (optional) is ``fields_for(record_type)``, to avoid re-reading it in a loop.
    """
    if fields is None:
        from flowcrm.core.conditions.fields import fields_for  # needs Django

        fields = fields_for(record_type)
    registry = fields
    parser = _Parser(registry, record_type)
    tree = parser.node(data, path, depth=1)
    if parser.rules > MAX_RULES:
        parser.errors.setdefault(path, f"a condition may have at most {MAX_RULES} rules")
    if parser.errors or tree is None:
        raise ValidationFailed(parser.errors or {path: "invalid condition"})
    return tree


class _Parser:
    def __init__(self, registry: Mapping[str, FieldInfo], record_type: str) -> None:
        self.registry = registry
        self.record_type = record_type
        self.errors: dict[str, str] = {}
        self.rules = 0

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def node(self, data: Any, path: str, *, depth: int) -> Condition | None:
        if depth > MAX_DEPTH:
            self.fail(path, f"conditions may nest at most {MAX_DEPTH} levels")
            return None
        if not isinstance(data, dict):
            self.fail(
                path,
                'expected an object: {"all": [...]}, {"any": [...]}, {"not": {...}} '
                'or a rule {"field", "op", "value"}',
            )
            return None
        groups = [key for key in ("all", "any", "not") if key in data]
        if groups:
            if len(data) != 1:
                self.fail(path, f"a {groups[0]!r} group must have no other keys")
                return None
            return self.group(groups[0], data[groups[0]], f"{path}.{groups[0]}", depth)
        return self.rule(data, path)

    def group(self, kind: str, members: Any, path: str, depth: int) -> Condition | None:
        if kind == "not":
            child = self.node(members, path, depth=depth + 1)
            return NotGroup(**{"not": child}) if child is not None else None
        if not isinstance(members, list):
            self.fail(path, "expected a list of conditions")
            return None
        children = [
            self.node(member, f"{path}[{index}]", depth=depth + 1)
            for index, member in enumerate(members)
        ]
        valid = [child for child in children if child is not None]
        if len(valid) != len(children):
            return None
        return AllGroup(**{"all": valid}) if kind == "all" else AnyGroup(**{"any": valid})

    def rule(self, data: dict[str, Any], path: str) -> Rule | None:
        self.rules += 1
        unknown = sorted(set(data) - _RULE_KEYS)
        if unknown:
            self.fail(f"{path}.{unknown[0]}", f"unknown key {unknown[0]!r}")
            return None
        field_path, op_name = data.get("field"), data.get("op")
        if not isinstance(field_path, str) or not field_path:
            self.fail(f"{path}.field", "expected a field path")
            return None
        info = self.registry.get(field_path)
        if info is None:
            self.fail(f"{path}.field", self._unknown_field(field_path))
            return None
        if not isinstance(op_name, str) or op_name not in Operator.__members__.values():
            self.fail(f"{path}.op", f"unknown operator {op_name!r}")
            return None
        op = Operator(op_name)
        allowed = OPERATORS_BY_TYPE[info.type]
        if op not in allowed:
            names = ", ".join(item.value for item in allowed)
            self.fail(
                f"{path}.op",
                f"operator {op.value!r} is not allowed for {info.type.value} field "
                f"{field_path!r} (allowed: {names})",
            )
            return None
        if op in CHANGE_OPERATORS and not _changes_are_recorded(info):
            self.fail(
                f"{path}.op",
                f"operator {op.value!r} needs a field of the {self.record_type} itself "
                f"(a change of {field_path!r} is not in the record's events)",
            )
            return None
        rule = Rule(field=field_path, op=op, value=data.get("value"), field_type=info.type)
        message = self._value_problem(rule, info)
        if message:
            self.fail(f"{path}.value", message)
            return None
        return rule

    def _unknown_field(self, field_path: str) -> str:
        root = field_path.split(".", 1)[0]
        if root != self.record_type:
            return f"unknown field {field_path!r} (paths start with {self.record_type!r})"
        return f"unknown field {field_path!r}"

    def _value_problem(self, rule: Rule, info: FieldInfo) -> str | None:
        value = rule.value
        if rule.op in VALUELESS_OPERATORS:
            return f"operator {rule.op.value!r} takes no value" if value is not None else None
        if value is None:
            return "a value is required"
        if is_ref(value):
            return None if valid_ref(value) else 'a reference is {"ref": "vars.name"}'
        items = value if isinstance(value, list) else [value]
        for item in items:
            if is_ref(item) and not valid_ref(item):
                return 'a reference is {"ref": "vars.name"}'
        if any(is_ref(item) for item in items):
            concrete = [item for item in items if not is_ref(item)]
            probe = rule.model_copy(update={"value": concrete, "op": Operator.IN})
            try:
                if concrete:
                    operand(probe, None, _PARSE_NOW)
            except ConditionValueError as error:
                return str(error)
            return None
        try:
            target = operand(rule, None, _PARSE_NOW)
        except ConditionValueError as error:
            return str(error)
        return _choice_problem(info, rule.op, target)


def _changes_are_recorded(info: FieldInfo) -> bool:
    """Events record the record's own fields, and its foreign keys as ids."""
    if info.is_tags:
        return False
    if info.is_local:
        return True
    return len(info.relations) == 1 and info.column == "id"


def _choice_problem(info: FieldInfo, op: Operator, target: Any) -> str | None:
    if info.type not in (FieldType.CHOICE, FieldType.MULTI_CHOICE) or not info.choices:
        return None
    offered = {ascii_lower(choice) for choice in info.choices}
    given = target if isinstance(target, list) else [target]
    for item in given:
        if isinstance(item, str) and item not in offered:
            return f"{item!r} is not one of {', '.join(info.choices)}"
    return None
