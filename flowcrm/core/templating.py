"""Sandboxed text templates (e-mail subject and body, task titles) over flow contexts.

Jinja2's ``SandboxedEnvironment`` with ``StrictUndefined``: ``{{ contact.frist_name }}`` is an
error, not an empty string. Plain-text templates are not escaped; HTML templates escape every
value. Templates cannot reach Python internals, and output size and repetition are bounded.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from flowcrm.core.errors import ValidationFailed
from flowcrm.core.expressions import ExpressionError

MAX_SOURCE_LENGTH = 50_000
MAX_OUTPUT_LENGTH = 200_000
MAX_REPEAT = 10_000


class TemplateRenderError(ExpressionError):
    """A template failed while rendering; ``path`` names where it is configured."""


class _BoundedSandbox(SandboxedEnvironment):
    """The sandbox, plus limits on ``*`` and ``**`` so a template cannot exhaust memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 100:
                raise SecurityError("exponent too large")
            return operator.pow(left, right)
        for sequence, count in ((left, right), (right, left)):
            repeats = isinstance(sequence, str | list | tuple) and isinstance(count, int)
            if repeats and len(sequence) * max(count, 0) > MAX_REPEAT:
                raise SecurityError("repetition too large")
        return operator.mul(left, right)


class _NamedUndefined(StrictUndefined):
    """Strict, and says which keys were available when a mapping lacks the one asked for."""

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        owner, name = self._undefined_obj, self._undefined_name
        if isinstance(owner, Mapping) and isinstance(name, str):
            known = ", ".join(sorted(map(str, owner))[:20]) or "none"
            raise self._undefined_exception(f"no field {name!r} (available: {known})")
        if name is not None and owner is missing:
            raise self._undefined_exception(f"{name!r} is undefined")
        return super()._fail_with_undefined_error(*args, **kwargs)

    # as in StrictUndefined: every use of an undefined value fails, now with this message
    __iter__ = __str__ = __len__ = _fail_with_undefined_error
    __eq__ = __ne__ = __bool__ = __hash__ = __contains__ = _fail_with_undefined_error


_TEXT = _BoundedSandbox(undefined=_NamedUndefined, autoescape=False, keep_trailing_newline=True)
_HTML = _BoundedSandbox(undefined=_NamedUndefined, autoescape=True, keep_trailing_newline=True)


@dataclass(frozen=True)
class CompiledTemplate:
    source: str
    path: str
    html: bool
    template: Template


def compile_template(source: str, *, path: str, html: bool = False) -> CompiledTemplate:
    """A compiled template; raises ValidationFailed ``{path: reason}`` on bad syntax.

    ``html=True`` escapes every substituted value (for HTML e-mail bodies).
    """
    if not isinstance(source, str):
        raise ValidationFailed({path: "expected a template string"})
    if len(source) > MAX_SOURCE_LENGTH:
        raise ValidationFailed({path: f"templates are at most {MAX_SOURCE_LENGTH} characters"})
    environment = _HTML if html else _TEXT
    try:
        template = environment.from_string(source)
    except TemplateSyntaxError as error:
        raise ValidationFailed(
            {path: f"syntax error on line {error.lineno}: {error.message}"}
        ) from error
    return CompiledTemplate(source=source, path=path, html=html, template=template)


def render_template(compiled: CompiledTemplate, context: Mapping[str, Any]) -> str:
    """The rendered text. Raises TemplateRenderError naming the path for an undefined name,
    a forbidden operation or an output longer than ``MAX_OUTPUT_LENGTH``."""
    try:
        text = compiled.template.render(dict(context))
    except UndefinedError as error:
        raise TemplateRenderError(compiled.path, str(error.message)) from error
    except SecurityError as error:
        raise TemplateRenderError(compiled.path, f"not allowed: {error}") from error
    except (TemplateError, TypeError, ValueError, ArithmeticError) as error:
        raise TemplateRenderError(compiled.path, str(error) or type(error).__name__) from error
    if len(text) > MAX_OUTPUT_LENGTH:
        raise TemplateRenderError(
            compiled.path, f"output is longer than {MAX_OUTPUT_LENGTH} characters"
        )
    return text


def template_fields(source: str) -> set[str]:
    """The dotted context names a template reads (``contact.first_name``, ``vars.total``).

    Names the template defines itself (``{% set %}``, loop variables) are left out; an
    attribute chain ends at the first non-constant subscript or at a method call's owner.
    Raises ValidationFailed ``{"template": reason}`` on bad syntax.
    """
    try:
        tree = _TEXT.parse(source)
    except TemplateSyntaxError as error:
        raise ValidationFailed({"template": f"syntax error: {error.message}"}) from error
    free = meta.find_undeclared_variables(tree)
    found: set[str] = set()
    _collect(tree, free, found)
    return found


def unknown_template_fields(
    source: str, *, known_paths: Iterable[str], open_roots: Iterable[str] = ()
) -> list[str]:
    """Names a template reads that are neither field paths nor under an open root, sorted.

    A name is known when it is a path of ``known_paths`` (``contact.first_name``) or leads to
    one (``contact``, ``contact.company``); names under ``open_roots`` (``vars``, ``steps``),
    whose shape is only known at run time, are never reported. For publish-time messages like
    ``nodes[3].config.subject: unknown field 'contact.frist_name'``.
    """
    paths = set(known_paths)
    prefixes = {".".join(path.split(".")[:depth]) for path in paths for depth in range(1, 8)}
    roots = set(open_roots)
    return sorted(
        name
        for name in template_fields(source)
        if name not in paths and name not in prefixes and name.split(".", 1)[0] not in roots
    )


def _collect(node: nodes.Node, free: set[str], found: set[str]) -> None:
    chain = _dotted(node)
    if chain is not None:
        if chain[0] in free:
            found.add(".".join(chain))
        return
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
        # ``contact.name.upper()``: the field is ``contact.name``; ``upper`` is a method.
        _collect(node.node.node, free, found)
        for child in (*node.args, *node.kwargs):
            _collect(child, free, found)
        return
    for child in node.iter_child_nodes():
        _collect(child, free, found)


def _dotted(node: nodes.Node) -> list[str] | None:
    if isinstance(node, nodes.Name) and node.ctx == "load":
        return [node.name]
    if isinstance(node, nodes.Getattr):
        inner = _dotted(node.node)
        return [*inner, node.attr] if inner is not None else None
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
    ):
        inner = _dotted(node.node)
        return [*inner, node.arg.value] if inner is not None else None
    return None
