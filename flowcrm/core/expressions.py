"""CEL expressions for computed values and data mapping in flows.

Expressions run on plain dict contexts (``contact``, ``trigger``, ``steps``, ``vars``, …) through
the ``common-expression-language`` package: a side-effect-free, non-Turing-complete language —
nothing is ever passed to Python's ``eval``. CEL does not mix ints and doubles in arithmetic
(``1 + 2.5`` is an error: write ``double(1) + 2.5``); comparisons across them work.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import cel

from flowcrm.core.errors import ValidationFailed

MAX_SOURCE_LENGTH = 4000
_SYNTAX = re.compile(r"<input>:(\d+):(\d+): Syntax error: ([^\n]*)")
# Names bound by comprehension macros (``items.map(x, x * 2)``) are not context variables.
_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


class ExpressionError(Exception):
    """An expression failed while running. ``path`` names where it is configured."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


@dataclass(frozen=True)
class CompiledExpression:
    """A compiled CEL program with its source and the path it was configured at."""

    source: str
    path: str
    program: cel.Program

    @property
    def names(self) -> frozenset[str]:
        """The top-level context names the expression reads (``contact``, ``vars``, …)."""
        return referenced_names(self)


def compile_expression(source: str, *, path: str) -> CompiledExpression:
    """A compiled expression; raises ValidationFailed ``{path: reason}`` on bad syntax."""
    if not isinstance(source, str) or not source.strip():
        raise ValidationFailed({path: "expected an expression"})
    if len(source) > MAX_SOURCE_LENGTH:
        raise ValidationFailed({path: f"expressions are at most {MAX_SOURCE_LENGTH} characters"})
    try:
        program = cel.compile(source)
    except ValueError as error:
        raise ValidationFailed({path: _syntax_message(error)}) from error
    return CompiledExpression(source=source, path=path, program=program)


def evaluate_expression(compiled: CompiledExpression, context: Mapping[str, Any]) -> Any:
    """The value of ``compiled`` over ``context`` (decimals become floats, dates ISO strings).

    Raises ExpressionError naming the path for a missing variable or key, a type mismatch,
    division by zero or any other failure while running.
    """
    try:
        return compiled.program.execute(cel_context(context))
    except KeyError as error:
        raise ExpressionError(compiled.path, f"no key {error.args[0]!r} in the context") from error
    except ZeroDivisionError as error:
        raise ExpressionError(compiled.path, "division by zero") from error
    except (TypeError, ValueError, RuntimeError, OverflowError) as error:
        raise ExpressionError(compiled.path, _first_line(error)) from error


def referenced_names(compiled: CompiledExpression) -> frozenset[str]:
    """Top-level context names an expression reads, without names its macros bind."""
    bound = set(_MACRO_VARIABLE.findall(compiled.source))
    return frozenset(name for name in compiled.program.variables() if name not in bound)


def unknown_names(compiled: CompiledExpression, known: Iterable[str]) -> list[str]:
    """Referenced top-level names that are not in ``known`` (for publish-time checks), sorted."""
    return sorted(referenced_names(compiled) - set(known))


def cel_context(value: Any) -> Any:
    """A context CEL can read: decimals as floats (ints when whole), dates as ISO strings."""
    if isinstance(value, Mapping):
        return {str(key): cel_context(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [cel_context(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _first_line(error: BaseException) -> str:
    """The error's first sentence: the library appends advice that fits no flow author."""
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line.split(". ", 1)[0]


def _syntax_message(error: ValueError) -> str:
    found = _SYNTAX.search(str(error))
    if found is None:
        return f"syntax error: {_first_line(error)}"
    line, column, reason = found.groups()
    return f"syntax error at line {line}, column {column}: {reason.strip()}"
