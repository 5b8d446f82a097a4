"""Rendering user-written text (subjects, bodies, titles) over the run's variables.

Templates run in Jinja's sandbox over plain dicts: no attribute access to Python objects, and
an undefined merge field is an error (naming it) rather than silently empty text.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from flowcrm.flows.actions.base import ActionFailed

_environment = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


def render(template: str, variables: dict[str, Any], *, field: str) -> str:
    """``template`` rendered with ``variables``; ActionFailed (not retryable) naming ``field``."""
    if "{" not in template:
        return template
    try:
        return _environment.from_string(template).render(variables)
    except TemplateError as error:
        raise ActionFailed(f"{field}: {error}", retryable=False) from error
