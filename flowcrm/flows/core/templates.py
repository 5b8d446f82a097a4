"""Text templates (e-mail subject/body, task title): syntax and referenced record fields.

Rendering happens in the runtime with a sandboxed Jinja2 environment over plain dicts; here the
engine only parses, so errors surface at publish time with the config path.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

from flowcrm.flows.core.errors import Path, PathError

_environment = SandboxedEnvironment(autoescape=False)


def template_errors(source: str, path: Path) -> list[PathError]:
    """Syntax errors of a template, as path errors (empty when it parses)."""
    try:
        _environment.parse(source)
    except TemplateSyntaxError as exc:
        return [PathError(path, f"template syntax error on line {exc.lineno}: {exc.message}")]
    return []


@lru_cache(maxsize=2048)
def record_fields_in_template(source: str) -> tuple[str, ...]:
    """Fields read as ``record.<field>`` (or ``record["field"]``) by a template, sorted."""
    try:
        tree = _environment.parse(source)
    except TemplateSyntaxError:
        return ()
    found: set[str] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if not _is_record(node):
            continue
        if isinstance(node, nodes.Getattr):
            found.add(node.attr)
        else:
            key = getattr(node, "arg", None)
            if isinstance(key, nodes.Const) and isinstance(key.value, str):
                found.add(key.value)
    return tuple(sorted(found))


def _is_record(node: nodes.Node) -> bool:
    target = getattr(node, "node", None)
    return isinstance(target, nodes.Name) and target.name == "record"
