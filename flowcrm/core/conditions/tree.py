"""The condition tree: all/any/not groups of ``field op value`` rules (pure Python, no Django).

JSON shape::

    {"all": [<condition>, ...]}     every child is true (an empty list is true)
    {"any": [<condition>, ...]}     at least one child is true (an empty list is false)
    {"not": <condition>}            the child is false
    {"field": "deal.amount", "op": "gte", "value": 1000}
    {"field": "deal.amount", "op": "gte", "value": {"ref": "vars.threshold"}}
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, cast

from pydantic import BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, TypeAdapter
from pydantic.json_schema import SkipJsonSchema


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    USER = "user"
    RELATION = "relation"


class Operator(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    BETWEEN = "between"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    IS_EMPTY = "is_empty"
    IS_NOT_EMPTY = "is_not_empty"
    CHANGED = "changed"
    CHANGED_TO = "changed_to"
    CHANGED_FROM = "changed_from"
    WITHIN_LAST = "within_last"
    MORE_THAN_DAYS_AGO = "more_than_days_ago"
    WITHIN_NEXT = "within_next"


_O = Operator
_CHANGE = (_O.CHANGED, _O.CHANGED_TO, _O.CHANGED_FROM)
_EMPTY = (_O.IS_EMPTY, _O.IS_NOT_EMPTY)
_ORDER = (_O.GT, _O.GTE, _O.LT, _O.LTE, _O.BETWEEN)
_RELATIVE = (_O.WITHIN_LAST, _O.MORE_THAN_DAYS_AGO, _O.WITHIN_NEXT)
_TEXT_MATCH = (_O.CONTAINS, _O.NOT_CONTAINS, _O.STARTS_WITH, _O.ENDS_WITH)

OPERATORS_BY_TYPE: dict[FieldType, tuple[Operator, ...]] = {
    FieldType.TEXT: (_O.EQ, _O.NE, _O.IN, _O.NOT_IN, *_TEXT_MATCH, *_EMPTY, *_CHANGE),
    FieldType.NUMBER: (_O.EQ, _O.NE, *_ORDER, _O.IN, _O.NOT_IN, *_EMPTY, *_CHANGE),
    FieldType.DATE: (_O.EQ, _O.NE, *_ORDER, *_RELATIVE, *_EMPTY, *_CHANGE),
    FieldType.DATETIME: (*_ORDER, *_RELATIVE, *_EMPTY, _O.CHANGED),
    FieldType.BOOLEAN: (_O.EQ, _O.NE, *_EMPTY, *_CHANGE),
    FieldType.CHOICE: (_O.EQ, _O.NE, _O.IN, _O.NOT_IN, *_EMPTY, *_CHANGE),
    FieldType.MULTI_CHOICE: (_O.CONTAINS, _O.NOT_CONTAINS, _O.IN, _O.NOT_IN, *_EMPTY, _O.CHANGED),
    FieldType.USER: (_O.EQ, _O.NE, _O.IN, _O.NOT_IN, *_EMPTY, *_CHANGE),
    FieldType.RELATION: (_O.EQ, _O.NE, _O.IN, _O.NOT_IN, *_EMPTY, *_CHANGE),
}

# Each negative operator is exactly the negation of a positive one. Both evaluators derive the
# negative from the positive, so a missing value makes every positive rule false and every
# negative rule true, identically in Python and in SQL.
NEGATED: dict[Operator, Operator] = {
    _O.NE: _O.EQ,
    _O.NOT_IN: _O.IN,
    _O.NOT_CONTAINS: _O.CONTAINS,
    _O.IS_EMPTY: _O.IS_NOT_EMPTY,
}
CHANGE_OPERATORS = frozenset(_CHANGE)
VALUELESS_OPERATORS = frozenset((_O.IS_EMPTY, _O.IS_NOT_EMPTY, _O.CHANGED))


@dataclass(frozen=True)
class FieldInfo:
    """One filterable field path.

    ``relations`` are the ORM names of the foreign keys crossed from the record (``("owner",
    "team")``); the leaf is a model ``column``, a ``custom_key`` inside the ``custom`` JSON column,
    or the record's tags (``is_tags``).
    """

    path: str
    type: FieldType
    label: str
    choices: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    column: str | None = None
    custom_key: str | None = None
    is_tags: bool = False

    @property
    def is_local(self) -> bool:
        """True for a field of the record itself (no relation crossed)."""
        return not self.relations


class Rule(BaseModel):
    """``field op value``. ``field_type`` is filled in by :func:`parse_condition`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    op: Operator
    value: Any = None
    field_type: SkipJsonSchema[FieldType | None] = Field(default=None, exclude=True)
    # The normalised operand of a rule without references or relative dates, computed once.
    _static_operand: Any = PrivateAttr(default=None)
    _has_static_operand: bool = PrivateAttr(default=False)


class AllGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    all_: list[Condition] = Field(alias="all")


class AnyGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    any_: list[Condition] = Field(alias="any")


class NotGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    not_: Condition = Field(alias="not")


def _node_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {AllGroup: "all", AnyGroup: "any", NotGroup: "not", Rule: "rule"}.get(type(value))
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "rule"
    return None


Condition = Annotated[
    Annotated[AllGroup, Tag("all")]
    | Annotated[AnyGroup, Tag("any")]
    | Annotated[NotGroup, Tag("not")]
    | Annotated[Rule, Tag("rule")],
    Discriminator(_node_kind),
]

AllGroup.model_rebuild()
AnyGroup.model_rebuild()
NotGroup.model_rebuild()

# mypy takes the Annotated union for a value, not a type form; pydantic accepts it.
CONDITION_ADAPTER: TypeAdapter[Condition] = TypeAdapter(cast(Any, Condition))


def condition_to_json(condition: Condition) -> Any:
    """The JSON form of a tree (the inverse of parsing)."""
    return CONDITION_ADAPTER.dump_python(condition, by_alias=True, mode="json", exclude_none=True)


def iter_rules(condition: Condition) -> list[Rule]:
    """Every rule of a tree, depth first."""
    if isinstance(condition, Rule):
        return [condition]
    if isinstance(condition, NotGroup):
        return iter_rules(condition.not_)
    children = condition.all_ if isinstance(condition, AllGroup) else condition.any_
    return [rule for child in children for rule in iter_rules(child)]


def condition_fields(condition: Condition) -> set[str]:
    """The field paths a tree reads (to snapshot only what is needed)."""
    return {rule.field for rule in iter_rules(condition)}
