"""The condition and expression languages the engine uses, behind small plug-in protocols.

The engine core never imports Django. The shared condition tree and CEL wrapper live in
``flowcrm.core.conditions`` / ``flowcrm.core.expressions``; the flows app installs adapters for
them with :func:`install_condition_language` / :func:`install_expression_language` (tests may
install their own). Until a language is installed, definitions still validate structurally
(a condition must be a JSON object, an expression a non-empty string) and evaluating raises
:class:`~flowcrm.flows.core.errors.EngineError`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from flowcrm.flows.core.errors import DefinitionInvalid, EngineError, Path, PathError


class ConditionLanguage(Protocol):
    """What the engine needs from the condition tree (``parse`` once, ``explain`` per record)."""

    def parse(self, data: Any, *, record_type: str | None, path: Path) -> Any:
        """A compiled condition; raises :class:`DefinitionInvalid` with paths under ``path``."""
        ...

    def evaluate(
        self,
        condition: Any,
        record: Mapping[str, Any],
        *,
        context: Mapping[str, Any],
        changes: Mapping[str, Any] | None,
    ) -> bool:
        """Whether ``record`` (the run's record as a flat dict, relations nested) meets the
        parsed ``condition``; raises ``ValueError`` when a referenced value is missing."""
        ...

    def explain(
        self,
        condition: Any,
        record: Mapping[str, Any],
        *,
        context: Mapping[str, Any],
        changes: Mapping[str, Any] | None,
    ) -> Any:
        """A JSON-serialisable account of the values the condition saw and its result."""
        ...

    def fields_for(self, record_type: str) -> Mapping[str, str] | None:
        """Field name -> type for a record type (``None``: unknown record type)."""
        ...


class ExpressionLanguage(Protocol):
    """What the engine needs from the expression language (CEL)."""

    def compile(self, source: str) -> Any:
        """A compiled program; raises ``ValueError`` with a readable message."""
        ...

    def evaluate(self, program: Any, context: Mapping[str, Any]) -> Any: ...


_conditions: ConditionLanguage | None = None
_expressions: ExpressionLanguage | None = None


def install_condition_language(language: ConditionLanguage | None) -> None:
    global _conditions
    _conditions = language


def install_expression_language(language: ExpressionLanguage | None) -> None:
    global _expressions
    _expressions = language


def condition_language() -> ConditionLanguage | None:
    return _conditions


def expression_language() -> ExpressionLanguage | None:
    return _expressions


def check_condition(data: Any, *, record_type: str | None, path: Path) -> list[PathError]:
    """Publish-time check of a condition; an empty list when it is valid."""
    if not isinstance(data, dict):
        return [PathError(path, "a condition must be an object")]
    if _conditions is None:
        return []
    try:
        _conditions.parse(data, record_type=record_type, path=path)
    except DefinitionInvalid as exc:
        return list(exc.errors)
    return []


def check_expression(source: Any, path: Path) -> list[PathError]:
    """Publish-time check of a CEL expression; an empty list when it compiles."""
    if not isinstance(source, str) or not source.strip():
        return [PathError(path, "an expression must be a non-empty string")]
    if _expressions is None:
        return []
    try:
        _expressions.compile(source)
    except ValueError as exc:
        return [PathError(path, f"expression does not compile: {exc}")]
    return []


def fields_for(record_type: str | None) -> Mapping[str, str] | None:
    """The field registry for ``record_type`` (``None`` when unknown or no language installed)."""
    if _conditions is None or record_type is None:
        return None
    return _conditions.fields_for(record_type)


def _require_conditions() -> ConditionLanguage:
    if _conditions is None:
        raise EngineError("no condition language installed")
    return _conditions


_parsed: dict[tuple[str | None, str], Any] = {}
_PARSED_LIMIT = 4096


def clear_condition_cache() -> None:
    """Forget parsed conditions (after custom field definitions change)."""
    _parsed.clear()


def evaluate_condition(
    data: Mapping[str, Any],
    record: Mapping[str, Any],
    *,
    record_type: str | None,
    context: Mapping[str, Any],
    changes: Mapping[str, Any] | None = None,
) -> tuple[bool, Any]:
    """Evaluate a condition dict; returns ``(result, explanation)``.

    Parsed trees are cached by their JSON text, so a published flow's conditions are parsed
    once per process, not once per run.
    """
    language = _require_conditions()
    cache_key = (record_type, json.dumps(data, sort_keys=True, default=str))
    condition = _parsed.get(cache_key)
    if condition is None:
        condition = language.parse(data, record_type=record_type, path=())
        if len(_parsed) >= _PARSED_LIMIT:
            _parsed.clear()
        _parsed[cache_key] = condition
    # a language may do both in one pass (``evaluate_and_explain``), as the tree adapter does
    both = getattr(language, "evaluate_and_explain", None)
    if both is not None:
        result, explanation = both(condition, record, context=context, changes=changes)
        return bool(result), explanation
    result = language.evaluate(condition, record, context=context, changes=changes)
    explanation = language.explain(condition, record, context=context, changes=changes)
    return bool(result), explanation


def evaluate_expression(source: str, context: Mapping[str, Any]) -> Any:
    """Compile and evaluate a CEL expression; raises ``ValueError`` on a failure."""
    if _expressions is None:
        raise EngineError("no expression language installed")
    program = _programs.get(source)
    if program is None:
        program = _expressions.compile(source)
        if len(_programs) >= _PARSED_LIMIT:
            _programs.clear()
        _programs[source] = program
    return _expressions.evaluate(program, context)


_programs: dict[str, Any] = {}
