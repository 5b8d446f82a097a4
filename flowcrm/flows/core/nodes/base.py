"""The base of every node kind: identity, edges, a publish-time check and the runtime hooks."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from flowcrm.flows.core.errors import Path, PathError

if TYPE_CHECKING:
    from flowcrm.flows.core.effects import NodeOutcome, StepContext
    from flowcrm.flows.core.state import Wait

NODE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Node(Strict):
    """Base of every node kind.

    Static contract: ``edge_labels()`` are the labels its outgoing edges may carry (``None``: an
    unlabelled edge), ``required_labels()`` those that must exist, ``pauses`` whether the node
    can make a run wait (a cycle through such a node cannot spin), ``validate_node()`` the
    publish-time checks beyond the model's own.

    Runtime contract (pure; ``ctx.state`` is the stepper's private copy): ``enter(ctx)`` is
    called when the run's token reaches the node, ``resume(ctx, wait)`` when something happens
    while the run waits at it; ``resume`` returns ``None`` when nothing changed.
    """

    node_kind: ClassVar[str] = ""
    pauses: ClassVar[bool] = False

    id: str = Field(pattern=NODE_ID_PATTERN, description="unique within the flow; snake_case")
    kind: str
    lane: str | None = None
    name: str = Field(default="", max_length=200)

    def edge_labels(self) -> frozenset[str | None]:
        return frozenset({None})

    def required_labels(self) -> frozenset[str | None]:
        return frozenset({None})

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        return []

    def title(self) -> str:
        return self.name or self.id

    def enter(self, ctx: StepContext) -> NodeOutcome:
        raise NotImplementedError(f"{type(self).__name__}.enter")

    def resume(self, ctx: StepContext, wait: Wait) -> NodeOutcome | None:
        return None
