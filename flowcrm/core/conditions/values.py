"""Normalising operands and record values, shared by both evaluators (pure Python, no Django).

Both the Python evaluator and the ``Q`` compiler turn a rule's value into the same *operand*
here, so they compare against exactly the same thing:

- text and choice values are compared with ASCII letters folded to lower case (``"ÉCOLE"`` and
  ``"École"`` differ; ``"Retail"`` and ``"RETAIL"`` match) — the one case rule SQLite and
  PostgreSQL both implement identically;
- numbers are compared as ``Decimal`` (``10`` == ``10.0``);
- dates as ``datetime.date``, datetimes as aware ``datetime.datetime`` (naive ones are UTC);
- relative operators become a window ``(start, end)`` computed from ``now``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flowcrm.core.conditions.tree import FieldType, Operator, Rule

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
MAX_LIST_VALUES = 500
_RELATIVE = frozenset((Operator.WITHIN_LAST, Operator.WITHIN_NEXT, Operator.MORE_THAN_DAYS_AGO))
MISSING: Any = None  # a missing value: absent key, null, null relation, "" text or [] list


class ConditionValueError(ValueError):
    """A rule's value (or a referenced context value) does not fit the field."""


class UnresolvedReference(ConditionValueError):
    """A ``{"ref": ...}`` value names nothing in the run context."""


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only; every other character stays as it is."""
    return text.translate(_ASCII_LOWER)


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"ref"}


def valid_ref(value: Any) -> bool:
    return is_ref(value) and isinstance(value["ref"], str) and bool(_REF.match(value["ref"]))


def lookup_path(data: Mapping[str, Any] | None, dotted: str) -> tuple[bool, Any]:
    """``(found, value)`` of a dotted path in nested mappings."""
    current: Any = data
    for part in dotted.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return False, None
        current = current[part]
    return True, current


def record_value(record: Mapping[str, Any], path: str) -> Any:
    """The raw value at a field path of a snapshot; ``None`` when any step is missing."""
    return lookup_path(record, path)[1]


# ---------------------------------------------------------------- scalars


def scalar(field_type: FieldType, raw: Any) -> Any:
    """A stored or given value in comparable form, or MISSING. Never raises."""
    try:
        return _scalar(field_type, raw)
    except (ValueError, TypeError, InvalidOperation):
        return MISSING


def _scalar(field_type: FieldType, raw: Any) -> Any:
    if raw is None:
        return MISSING
    if field_type in (FieldType.TEXT, FieldType.CHOICE):
        if isinstance(raw, bool):
            return MISSING
        text = str(raw) if isinstance(raw, int | float | Decimal) else raw
        return ascii_lower(text) if isinstance(text, str) and text != "" else MISSING
    if field_type == FieldType.NUMBER:
        return to_decimal(raw)
    if field_type == FieldType.DATE:
        return to_date(raw)
    if field_type == FieldType.DATETIME:
        return to_datetime(raw)
    if field_type == FieldType.BOOLEAN:
        return raw if isinstance(raw, bool) else MISSING
    if field_type in (FieldType.USER, FieldType.RELATION):
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else MISSING
    if field_type == FieldType.MULTI_CHOICE:
        if not isinstance(raw, list | tuple):
            return MISSING
        items = [ascii_lower(item) for item in raw if isinstance(item, str) and item != ""]
        return items or MISSING
    raise ValueError(field_type)


def to_decimal(raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        return None
    if isinstance(raw, float) and not math.isfinite(raw):
        return None
    number = Decimal(str(raw))
    return number if number.is_finite() else None


def to_date(raw: Any) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        return dt.date.fromisoformat(raw.strip()[:10]) if len(raw.strip()) >= 10 else None
    return None


def to_datetime(raw: Any) -> dt.datetime | None:
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    elif isinstance(raw, str):
        value = dt.datetime.fromisoformat(raw.strip())
    else:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------- operands


@dataclass(frozen=True)
class Window:
    """A closed interval; an open end is ``None``. ``strict_end`` makes the end exclusive."""

    start: Any
    end: Any
    strict_end: bool = False

    def contains(self, value: Any) -> bool:
        if self.start is not None and value < self.start:
            return False
        if self.end is None:
            return True
        return bool(value < self.end) if self.strict_end else bool(value <= self.end)


def resolve_value(rule: Rule, context: Mapping[str, Any] | None) -> Any:
    """The rule's value with ``{"ref": ...}`` (at the top or inside a list) looked up."""
    value = rule.value
    if is_ref(value):
        return _lookup_ref(value, context)
    if isinstance(value, list):
        return [_lookup_ref(item, context) if is_ref(item) else item for item in value]
    return value


def _lookup_ref(value: dict[str, Any], context: Mapping[str, Any] | None) -> Any:
    found, resolved = lookup_path(context, str(value["ref"]))
    if not found:
        raise UnresolvedReference(f"reference {value['ref']!r} is not in the run context")
    return resolved


def operand(rule: Rule, context: Mapping[str, Any] | None, now: dt.datetime) -> Any:
    """What a rule compares against, normalised (see the module docstring).

    Raises ConditionValueError when the (resolved) value does not fit the field's type.
    """
    # read pydantic's private-attribute dict directly: attribute access to it is slow
    private = rule.__pydantic_private__
    if private is not None and private["_has_static_operand"]:
        return private["_static_operand"]
    field_type = rule.field_type or FieldType.TEXT
    op = rule.op
    if op in (Operator.IS_EMPTY, Operator.IS_NOT_EMPTY, Operator.CHANGED):
        return None
    value = resolve_value(rule, context)
    if op not in _RELATIVE and not _mentions_ref(rule.value):
        target = _operand(field_type, op, value, now)
        if private is not None:
            private["_static_operand"], private["_has_static_operand"] = target, True
        return target
    return _operand(field_type, op, value, now)


def _mentions_ref(value: Any) -> bool:
    return is_ref(value) or (isinstance(value, list) and any(is_ref(item) for item in value))


def _operand(field_type: FieldType, op: Operator, value: Any, now: dt.datetime) -> Any:
    if op in _RELATIVE:
        return _window(field_type, op, value, now)
    if op == Operator.BETWEEN:
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ConditionValueError("expected a list of two values [low, high]")
        low, high = (_one(field_type, item) for item in value)
        return Window(low, high)
    if op in (Operator.IN, Operator.NOT_IN):
        if not isinstance(value, list | tuple) or not value:
            raise ConditionValueError("expected a non-empty list of values")
        if len(value) > MAX_LIST_VALUES:
            raise ConditionValueError(f"expected at most {MAX_LIST_VALUES} values")
        return [_one(field_type, item) for item in value]
    return _one(field_type, value)


def _one(field_type: FieldType, value: Any) -> Any:
    item_type = FieldType.TEXT if field_type == FieldType.MULTI_CHOICE else field_type
    if item_type in (FieldType.TEXT, FieldType.CHOICE) and not isinstance(value, str):
        raise ConditionValueError("expected text")
    if item_type == FieldType.NUMBER and (
        isinstance(value, bool) or not isinstance(value, int | float | Decimal)
    ):
        raise ConditionValueError("expected a number")
    if item_type in (FieldType.DATE, FieldType.DATETIME) and not isinstance(value, str | dt.date):
        raise ConditionValueError(f"expected an ISO {item_type.value} string")
    normalised = scalar(item_type, value)
    if normalised is MISSING:
        raise ConditionValueError(_expected(item_type))
    return normalised


def _expected(field_type: FieldType) -> str:
    return {
        FieldType.TEXT: "expected non-empty text",
        FieldType.CHOICE: "expected non-empty text",
        FieldType.NUMBER: "expected a finite number",
        FieldType.DATE: "expected a date as YYYY-MM-DD",
        FieldType.DATETIME: "expected an ISO date-time",
        FieldType.BOOLEAN: "expected true or false",
        FieldType.USER: "expected a user id",
        FieldType.RELATION: "expected a record id",
    }.get(field_type, "unexpected value")


def _window(field_type: FieldType, op: Operator, value: Any, now: dt.datetime) -> Window:
    amount, unit = _duration(value, allow_hours=field_type == FieldType.DATETIME)
    if op == Operator.MORE_THAN_DAYS_AGO and unit != "days":
        raise ConditionValueError("expected a number of days")
    delta = dt.timedelta(**{unit: amount})
    if field_type == FieldType.DATE:
        today = now.date()
        days = dt.timedelta(days=amount)
        if op == Operator.WITHIN_LAST:
            return Window(today - days, today)
        if op == Operator.WITHIN_NEXT:
            return Window(today, today + days)
        return Window(None, today - days, strict_end=True)
    if op == Operator.WITHIN_LAST:
        return Window(now - delta, now)
    if op == Operator.WITHIN_NEXT:
        return Window(now, now + delta)
    return Window(None, now - delta, strict_end=True)


def _duration(value: Any, *, allow_hours: bool) -> tuple[int, str]:
    """``7`` (days) or ``{"amount": 7, "unit": "days"|"hours"}``."""
    if isinstance(value, dict):
        amount, unit = value.get("amount"), value.get("unit", "days")
        if set(value) - {"amount", "unit"}:
            raise ConditionValueError('expected {"amount": <days>, "unit": "days"|"hours"}')
    else:
        amount, unit = value, "days"
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= 36500:
        raise ConditionValueError("expected a whole number of days between 0 and 36500")
    if unit not in ("days", "hours") or (unit == "hours" and not allow_hours):
        raise ConditionValueError('unit must be "days"' + (' or "hours"' if allow_hours else ""))
    return amount, str(unit)
