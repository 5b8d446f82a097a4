"""The action registry: every action kind is a plug-in with a written contract.

The engine core knows actions only through their :class:`ActionSpec`: a pydantic config model
validated at publish time, the fields the action reads and writes (the static checks and the
cross-flow conflict checker use them), whether a failure is worth retrying, and an optional
``preview`` that computes the output the action *would* produce (dry run and back-test).
The runtime registers the concrete actions (what ``run`` does with the database lives there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

#: Field name standing for "a record of this type is created" in reads/writes declarations.
RECORD_CREATED = "@created"


@dataclass(frozen=True, order=True)
class FieldAccess:
    """A field an action reads or writes. ``record_type=None`` means the run's own record."""

    record_type: str | None
    field: str

    def on(self, run_record_type: str | None) -> FieldAccess:
        """The same access with ``None`` resolved to the run's record type."""
        return FieldAccess(self.record_type or run_record_type, self.field)

    def __str__(self) -> str:
        return f"{self.record_type}.{self.field}" if self.record_type else self.field


FieldDeclaration = Iterable[str | FieldAccess] | Callable[[Any], Iterable[str | FieldAccess]]
PreviewFunction = Callable[[Any, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class ActionSpec:
    """The contract of one action kind.

    ``reads``/``writes`` are field names (on the run's record) or :class:`FieldAccess` values, or
    a function of the validated config returning them (an "update fields" action writes what its
    config names). ``template_keys`` name config keys holding text templates whose
    ``record.<field>`` references are checked against the field registry at publish time.
    ``preview(config, context)`` returns the output ``run`` would produce, without side effects.
    """

    kind: str
    config_model: type[BaseModel]
    reads: FieldDeclaration = ()
    writes: FieldDeclaration = ()
    retryable: bool = True
    max_attempts: int = 3
    preview: PreviewFunction | None = None
    title: str = ""
    template_keys: tuple[str, ...] = ()
    expression_keys: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def parse_config(self, data: Any) -> BaseModel:
        """Validate a config; raises ``pydantic.ValidationError``."""
        return self.config_model.model_validate(data)

    def declared_reads(self, config: BaseModel) -> list[FieldAccess]:
        return _resolve(self.reads, config)

    def declared_writes(self, config: BaseModel) -> list[FieldAccess]:
        return _resolve(self.writes, config)

    def preview_output(self, config: BaseModel, context: Mapping[str, Any]) -> Any:
        """What the action would output; ``None`` when it declares no preview."""
        return self.preview(config, context) if self.preview is not None else None


def _resolve(declaration: FieldDeclaration, config: BaseModel) -> list[FieldAccess]:
    items = declaration(config) if callable(declaration) else declaration
    return [i if isinstance(i, FieldAccess) else FieldAccess(None, i) for i in items]


_actions: dict[str, ActionSpec] = {}


def register_action(
    kind: str,
    config_model: type[BaseModel],
    *,
    reads: FieldDeclaration = (),
    writes: FieldDeclaration = (),
    retryable: bool = True,
    max_attempts: int = 3,
    preview: PreviewFunction | None = None,
    title: str = "",
    template_keys: Iterable[str] = (),
    expression_keys: Iterable[str] = (),
) -> ActionSpec:
    """Register (or replace) the action ``kind``; returns its spec.

    Replacing is allowed so a module can be re-imported (tests, autoreload) without errors.
    """
    if not kind or not kind.replace("_", "").isalnum():
        raise ValueError(f"action kind must be a snake_case name, got {kind!r}")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    spec = ActionSpec(
        kind=kind,
        config_model=config_model,
        reads=reads,
        writes=writes,
        retryable=retryable,
        max_attempts=max_attempts,
        preview=preview,
        title=title or kind.replace("_", " "),
        template_keys=tuple(template_keys),
        expression_keys=tuple(expression_keys),
    )
    _actions[kind] = spec
    return spec


def unregister_action(kind: str) -> None:
    _actions.pop(kind, None)


def get_action(kind: str) -> ActionSpec | None:
    return _actions.get(kind)


def action_kinds() -> list[str]:
    return sorted(_actions)
