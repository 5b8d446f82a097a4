"""Condition trees shared by flows, list filters, reports, back-tests and segments.

See ``docs/conditions.md``. One tree, two evaluators that agree exactly: :func:`evaluate` on a
record snapshot (pure Python) and :func:`compile_q` to a Django ``Q``.
"""

from __future__ import annotations

from flowcrm.core.conditions.compiler import compile_q, model_for
from flowcrm.core.conditions.evaluator import ConditionTrace, evaluate, explain
from flowcrm.core.conditions.fields import FieldInfo, fields_for
from flowcrm.core.conditions.parsing import parse_condition
from flowcrm.core.conditions.snapshots import related_paths, snapshot
from flowcrm.core.conditions.tree import (
    CONDITION_ADAPTER,
    OPERATORS_BY_TYPE,
    AllGroup,
    AnyGroup,
    Condition,
    FieldType,
    NotGroup,
    Operator,
    Rule,
    condition_fields,
    condition_to_json,
)

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
