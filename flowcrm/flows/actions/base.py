"""The contract every action kind fulfils (each kind is one module in this package).

An action kind has:

- ``name``: the ``action`` value of a node in a definition;
- ``Config``: a Pydantic model of the node's ``config``, validated at publish time;
- ``reads`` / ``writes``: the record fields it reads and writes (``"contact.owner"``), used by
  the data-flow view and the cross-flow conflict check;
- ``retryable`` and ``max_attempts``: whether a failure is worth retrying and how often;
- ``run(context) -> output``: applies the effect inside the step's transaction. It must be
  idempotent given ``context.idempotency_key`` (the runtime records the key with the output in
  the same transaction, and a re-executed step gets the recorded output back instead of a second
  effect);
- ``preview(context) -> output``: what ``run`` would do, with no side effect at all (dry run and
  back-test).

Errors: raise :class:`ActionFailed` (``retryable`` says whether another attempt may succeed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from flowcrm.core.actors import Actor

if TYPE_CHECKING:
    from django.db import models

    from flowcrm.flows.models import Flow, FlowRun, StepExecution


class ActionFailed(Exception):
    """The action could not do its work. ``retry_after`` (seconds) overrides the backoff."""

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class ActionConfig(BaseModel):
    """Base of every action's config: unknown keys are errors (they are usually typos)."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class ActionContext:
    """What an action sees when it runs (or previews) on one step of one run."""

    flow: Flow
    run: FlowRun | None
    node_id: str
    config: Any
    record_type: str
    record: models.Model | None
    variables: dict[str, Any]
    idempotency_key: str
    actor: Actor
    now: dt.datetime
    step: StepExecution | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Action:
    """Base class of action kinds; subclasses set the class attributes and implement ``run``."""

    name: ClassVar[str]
    label: ClassVar[str]
    Config: ClassVar[type[ActionConfig]]
    reads: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[str, ...]] = ()
    retryable: ClassVar[bool] = False
    max_attempts: ClassVar[int] = 1

    def run(self, context: ActionContext) -> dict[str, Any]:
        raise NotImplementedError

    def preview(self, context: ActionContext) -> dict[str, Any]:
        raise NotImplementedError

    def writes_for(self, config: Any) -> tuple[str, ...]:
        """The fields written by a node with this ``config`` (default: the static list)."""
        return self.writes
