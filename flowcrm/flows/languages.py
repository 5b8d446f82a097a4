"""Plugs the shared condition tree and CEL into the engine core.

The engine core (``flowcrm.flows.core``) never imports Django; the condition tree's parser
needs the field registry (custom fields live in the database), so the adapter lives here.
:func:`install_languages` is idempotent; the flows app calls it when it is ready, and the CLI,
checks and back-test call it too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cel

from flowcrm.core.conditions import (
    Condition,
    ConditionTrace,
    FieldInfo,
    explain,
    fields_for,
    parse_condition,
)
from flowcrm.core.errors import ValidationFailed
from flowcrm.flows.core.errors import DefinitionInvalid, Path, PathError, format_path
from flowcrm.flows.core.language import (
    condition_language,
    expression_language,
    install_condition_language,
    install_expression_language,
)

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(text: str) -> Path:
    """``"nodes[3].config.subject"`` -> ``("nodes", 3, "config", "subject")``."""
    if text in ("", "$"):
        return ()
    return tuple(int(index) if index else name for name, index in _PATH_PART.findall(text))


@dataclass(frozen=True)
class ParsedCondition:
    tree: Condition
    record_type: str


FieldRegistry = Callable[[str], Mapping[str, FieldInfo]]


class TreeConditionLanguage:
    """:mod:`flowcrm.core.conditions` behind the engine's ``ConditionLanguage`` protocol.

    The engine hands records over flat (``{"email": ..., "company": {...}}``); the condition
    tree reads snapshots keyed by record type (``{"contact": {...}}``), so records are wrapped.
    ``fields`` gives the field registry of a record type (default: the database-backed one).
    """

    def __init__(self, fields: FieldRegistry = fields_for) -> None:
        self._fields = fields

    def parse(self, data: Any, *, record_type: str | None, path: Path) -> Any:
        if record_type is None:
            message = "this trigger has no record type, so conditions cannot name fields"
            raise DefinitionInvalid([PathError(path, message)])
        try:
            tree = parse_condition(
                data,
                record_type=record_type,
                path=format_path(path),
                fields=self._fields(record_type),
            )
        except ValidationFailed as exc:
            raise DefinitionInvalid(
                PathError(parse_path(key), message) for key, message in exc.errors.items()
            ) from exc
        return ParsedCondition(tree, record_type)

    def evaluate(
        self,
        condition: Any,
        record: Mapping[str, Any],
        *,
        context: Mapping[str, Any],
        changes: Mapping[str, Any] | None,
    ) -> bool:
        return self._trace(condition, record, context, changes).result

    def explain(
        self,
        condition: Any,
        record: Mapping[str, Any],
        *,
        context: Mapping[str, Any],
        changes: Mapping[str, Any] | None,
    ) -> Any:
        return self._trace(condition, record, context, changes).to_dict()

    def evaluate_and_explain(
        self,
        condition: Any,
        record: Mapping[str, Any],
        *,
        context: Mapping[str, Any],
        changes: Mapping[str, Any] | None,
    ) -> tuple[bool, Any]:
        trace = self._trace(condition, record, context, changes)
        return trace.result, trace.to_dict()

    def _trace(
        self,
        condition: ParsedCondition,
        record: Mapping[str, Any],
        context: Mapping[str, Any],
        changes: Mapping[str, Any] | None,
    ) -> ConditionTrace:
        snapshot = {condition.record_type: dict(record)}
        now_text = context.get("now")
        now = dt.datetime.fromisoformat(now_text) if isinstance(now_text, str) else None
        try:
            return explain(condition.tree, snapshot, context=context, changes=changes, now=now)
        except ValidationFailed as exc:
            raise ValueError(str(exc)) from exc

    def fields_for(self, record_type: str) -> Mapping[str, str] | None:
        try:
            registry = self._fields(record_type)
        except ValidationFailed:
            return None
        return {path.split(".", 1)[1]: str(info.type) for path, info in registry.items()}


class CelExpressionLanguage:
    """CEL (``common-expression-language``): sandboxed, no access to Python objects."""

    def compile(self, source: str) -> Any:
        return cel.compile(source)

    def evaluate(self, program: Any, context: Mapping[str, Any]) -> Any:
        try:
            return program.execute(dict(context))
        except KeyError as exc:
            raise ValueError(f"no such key: {exc.args[0]}") from exc
        except (TypeError, RuntimeError) as exc:
            raise ValueError(str(exc)) from exc


def install_languages() -> None:
    """Install the adapters unless a language is already installed (tests may install theirs)."""
    if condition_language() is None:
        install_condition_language(TreeConditionLanguage())
    if expression_language() is None:
        install_expression_language(CelExpressionLanguage())
