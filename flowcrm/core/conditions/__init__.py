"""Condition trees shared by flows, list filters, reports, back-tests and segments.

See ``docs/conditions.md``. One tree, two evaluators that agree exactly: :func:`evaluate` on a
record snapshot (pure Python) and :func:`compile_q` to a Django ``Q``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowcrm.core.conditions.evaluator import ConditionTrace, evaluate, explain
from flowcrm.core.conditions.parsing import parse_condition
from flowcrm.core.conditions.tree import (
    CONDITION_ADAPTER,
    OPERATORS_BY_TYPE,
    AllGroup,
    AnyGroup,
    Condition,
    FieldInfo,
    FieldType,
    NotGroup,
    Operator,
    Rule,
    condition_fields,
    condition_to_json,
)

if TYPE_CHECKING:
    from flowcrm.core.conditions.compiler import compile_q, model_for
    from flowcrm.core.conditions.fields import fields_for
    from flowcrm.core.conditions.snapshots import related_paths, snapshot

# The database side loads on first use, so the evaluator stays importable without Django
# (the flow engine core evaluates snapshots in pure Python).
_DATABASE_SIDE = {
    "compile_q": "compiler",
    "model_for": "compiler",
    "fields_for": "fields",
    "snapshot": "snapshots",
    "related_paths": "snapshots",
}


def __getattr__(name: str) -> Any:
    if name in _DATABASE_SIDE:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_DATABASE_SIDE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONDITION_ADAPTER",
    "OPERATORS_BY_TYPE",
    "AllGroup",
    "AnyGroup",
    "Condition",
    "ConditionTrace",
    "FieldInfo",
    "FieldType",
    "NotGroup",
    "Operator",
    "Rule",
    "compile_q",
    "condition_fields",
    "condition_to_json",
    "evaluate",
    "explain",
    "fields_for",
    "model_for",
    "parse_condition",
    "related_paths",
    "snapshot",
]
