"""Compiling a condition tree to a Django ``Q`` with exactly the Python evaluator's semantics.

SQL has three-valued logic: ``NOT (x = 1)`` is NULL, not true, when ``x`` is NULL. So every
positive rule compiles to a predicate that is never NULL (``x IS NOT NULL AND x = 1``), and
negative operators and ``not`` groups negate such predicates — giving the evaluator's two-valued
results. Relations are crossed with ``fk IS NOT NULL AND fk IN (SELECT id ...)`` rather than joins,
so a null relation is simply "missing", a negation never drops rows through an inner join, and
to-many tags never duplicate rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import DecimalField, Expression, F, Q, Value
from django.db.models.lookups import (
    Contains,
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
    StartsWith,
)

from flowcrm.core.conditions.fields import fields_for
from flowcrm.core.conditions.sql import AsciiLower, JsonArrayHasAny, JsonScalar
from flowcrm.core.conditions.tree import (
    CHANGE_OPERATORS,
    NEGATED,
    AllGroup,
    AnyGroup,
    Condition,
    FieldInfo,
    FieldType,
    NotGroup,
    Operator,
    Rule,
)
from flowcrm.core.conditions.values import ConditionValueError, Window, operand
from flowcrm.core.errors import ValidationFailed

RECORD_MODELS: dict[str, str] = {
    "contact": "contacts.Contact",
    "company": "contacts.Company",
    "deal": "sales.Deal",
    "task": "activities.Task",
    "activity": "activities.Activity",
}
_TEXTUAL = (FieldType.TEXT, FieldType.CHOICE)


def model_for(record_type: str) -> type[models.Model]:
    if record_type not in RECORD_MODELS:
        raise ValidationFailed({"record_type": f"unknown record type {record_type!r}"})
    return apps.get_model(RECORD_MODELS[record_type])


def _always() -> Q:
    return Q(pk__isnull=False)


def _never() -> Q:
    return Q(pk__in=[])


def compile_q(
    condition: Condition,
    *,
    record_type: str,
    context: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    fields: Mapping[str, FieldInfo] | None = None,
    path: str = "condition",
) -> Q:
    """A ``Q`` over the record type's model selecting exactly the records ``evaluate`` accepts.

    Raises ValidationFailed naming the rule's path for changed/changed_to/changed_from (they
    need a triggering change), an unresolved reference or a referenced value of the wrong type.
    """
    compiler = _Compiler(
        model_for(record_type),
        fields if fields is not None else fields_for(record_type),
        context,
        now or dt.datetime.now(dt.UTC),
    )
    return compiler.node(condition, path)


class _Compiler:
    def __init__(
        self,
        model: type[models.Model],
        registry: Mapping[str, FieldInfo],
        context: Mapping[str, Any] | None,
        now: dt.datetime,
    ) -> None:
        self.model = model
        self.registry = registry
        self.context = context
        self.now = now

    def node(self, condition: Condition, path: str) -> Q:
        if isinstance(condition, Rule):
            return self.rule(condition, path)
        if isinstance(condition, NotGroup):
            return ~self.node(condition.not_, f"{path}.not")
        if isinstance(condition, AllGroup):
            result = _always()
            for index, child in enumerate(condition.all_):
                result &= self.node(child, f"{path}.all[{index}]")
            return result
        if isinstance(condition, AnyGroup):
            if not condition.any_:
                return _never()
            result = Q()
            for index, child in enumerate(condition.any_):
                result |= self.node(child, f"{path}.any[{index}]")
            return result
        raise TypeError(type(condition))

    def rule(self, rule: Rule, path: str) -> Q:
        if rule.op in CHANGE_OPERATORS:
            raise ValidationFailed(
                {
                    f"{path}.op": f"operator {rule.op.value!r} needs a triggering change; "
                    "it cannot select records"
                }
            )
        info = self.registry.get(rule.field)
        if info is None:
            raise ValidationFailed({f"{path}.field": f"unknown field {rule.field!r}"})
        try:
            target = operand(rule, self.context, self.now)
        except ConditionValueError as error:
            raise ValidationFailed({f"{path}.value": str(error)}) from error
        if rule.op in NEGATED:
            return ~_across(self.model, info, info.relations, NEGATED[rule.op], target)
        return _across(self.model, info, info.relations, rule.op, target)


def _across(
    model: type[models.Model],
    info: FieldInfo,
    relations: tuple[str, ...],
    op: Operator,
    target: Any,
) -> Q:
    """The positive predicate, crossing the remaining relations with ``IN`` subqueries."""
    if not relations:
        return _leaf(model, info, info.column, op, target)
    hop = relations[0]
    if len(relations) == 1 and info.column == "id":
        return _leaf(model, info, f"{hop}_id", op, target)  # the foreign key holds the id
    related = model._meta.get_field(hop).related_model
    assert isinstance(related, type) and issubclass(related, models.Model)
    inner = _across(related, info, relations[1:], op, target)
    subquery = related._default_manager.filter(inner).values("pk")
    return Q(**{f"{hop}__isnull": False}) & Q(**{f"{hop}__in": subquery})


def _leaf(
    model: type[models.Model], info: FieldInfo, column: str | None, op: Operator, target: Any
) -> Q:
    if info.is_tags:
        return _tags(model, op, target)
    if info.custom_key is not None and info.type == FieldType.MULTI_CHOICE:
        values = None if op == Operator.IS_NOT_EMPTY else _as_list(target)
        return Q(JsonArrayHasAny("custom", info.custom_key, values))
    raw: Any
    if info.custom_key is not None:
        raw = JsonScalar("custom", info.custom_key, _json_kind(info.type))
    else:
        assert column is not None
        raw = F(column)
    lhs: Any = AsciiLower(raw) if info.type in _TEXTUAL else raw
    present = Q(IsNull(raw, False))
    if op == Operator.IS_NOT_EMPTY:
        return present & Q(GreaterThan(lhs, "")) if info.type in _TEXTUAL else present
    return present & _compare(lhs, op, _db_value(info, target))


def _compare(lhs: Any, op: Operator, target: Any) -> Q:
    if isinstance(target, Window):
        result = Q()
        if target.start is not None:
            result &= Q(GreaterThanOrEqual(lhs, target.start))
        if target.end is not None:
            end_lookup = LessThan if target.strict_end else LessThanOrEqual
            result &= Q(end_lookup(lhs, target.end))
        return result
    lookups: dict[Operator, Any] = {
        Operator.EQ: Exact,
        Operator.GT: GreaterThan,
        Operator.GTE: GreaterThanOrEqual,
        Operator.LT: LessThan,
        Operator.LTE: LessThanOrEqual,
        Operator.CONTAINS: Contains,
        Operator.STARTS_WITH: StartsWith,
        Operator.ENDS_WITH: EndsWith,
    }
    if op == Operator.IN:
        if target and isinstance(target[0], Expression):
            result = Q()
            for item in target:
                result |= Q(Exact(lhs, item))
            return result
        return Q(In(lhs, target))
    return Q(lookups[op](lhs, target))


def _db_value(info: FieldInfo, target: Any) -> Any:
    """The operand in the form the column (or JSON extraction) compares with."""
    if isinstance(target, Window):
        return Window(
            _db_scalar(info, target.start), _db_scalar(info, target.end), target.strict_end
        )
    if isinstance(target, list):
        return [_db_scalar(info, item) for item in target]
    return _db_scalar(info, target)


def _db_scalar(info: FieldInfo, value: Any) -> Any:
    if value is None:
        return None
    if info.custom_key is not None:
        if info.type == FieldType.NUMBER:
            return float(value)
        if info.type == FieldType.DATE:
            return value.isoformat()
        return value
    if info.type == FieldType.NUMBER:
        # An expression keeps integer columns from truncating 50.5 to 50 when preparing it.
        return Value(Decimal(value), output_field=DecimalField())
    return value


def _json_kind(field_type: FieldType) -> str:
    if field_type in (FieldType.NUMBER, FieldType.USER, FieldType.RELATION):
        return "number"
    if field_type == FieldType.BOOLEAN:
        return "boolean"
    return "text"


def _as_list(target: Any) -> list[str]:
    return list(target) if isinstance(target, list) else [target]


def _tags(model: type[models.Model], op: Operator, target: Any) -> Q:
    field = model._meta.get_field("tags")
    assert isinstance(field, models.ManyToManyField)
    through = field.remote_field.through
    assert isinstance(through, type) and issubclass(through, models.Model)
    owner_column = f"{field.m2m_field_name()}_id"
    links = through._default_manager.all()
    if op != Operator.IS_NOT_EMPTY:
        tag_name = AsciiLower(F(f"{field.m2m_reverse_field_name()}__name"))
        links = links.filter(In(tag_name, _as_list(target)))
    return Q(pk__in=links.values(owner_column))
