"""The action node: asks the runtime to run a registered action, retries with backoff."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from flowcrm.flows.core.actions import get_action
from flowcrm.flows.core.effects import ActionEffect, Fail, NodeOutcome, Proceed, Suspend
from flowcrm.flows.core.errors import Path, PathError
from flowcrm.flows.core.language import check_expression
from flowcrm.flows.core.nodes.base import Node
from flowcrm.flows.core.templates import template_errors

if TYPE_CHECKING:
    from flowcrm.flows.core.effects import StepContext
    from flowcrm.flows.core.state import Wait

RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600


def retry_delay(key: str, attempt: int) -> dt.timedelta:
    """Exponential backoff (30 s, 60 s, ... capped at an hour) plus up to 20 % jitter.

    The jitter is derived from the idempotency key, so it spreads runs apart yet replaying a
    run gives the same schedule.
    """
    base = min(RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0), RETRY_MAX_SECONDS)
    digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
    jitter = base * 0.2 * (digest[0] / 255)
    return dt.timedelta(seconds=base + jitter)


class ActionNode(Node):
    """Runs a registered action; ``config`` is validated by the action's own config model."""

    node_kind: ClassVar[str] = "action"
    kind: Literal["action"]
    action: str
    config: dict[str, Any] = Field(default_factory=dict)
    max_attempts: int | None = Field(default=None, ge=1, le=25)

    def validate_node(self, *, record_type: str | None, path: Path) -> list[PathError]:
        spec = get_action(self.action)
        if spec is None:
            return []  # reported while parsing, where the action kind is looked up
        errors: list[PathError] = []
        for key in spec.template_keys:
            value = self.config.get(key)
            if isinstance(value, str):
                errors += template_errors(value, (*path, "config", key))
        for key in spec.expression_keys:
            value = self.config.get(key)
            if value is not None:
                errors += check_expression(value, (*path, "config", key))
        return errors

    def attempts_allowed(self) -> int:
        spec = get_action(self.action)
        default = spec.max_attempts if spec is not None else 1
        return self.max_attempts or default

    def effect(self, ctx: StepContext) -> ActionEffect:
        return ActionEffect(
            idempotency_key=ctx.key,
            run_id=ctx.state.run_id,
            node_id=self.id,
            step_index=ctx.step.index,
            action=self.action,
            config=self.config,
            attempt=ctx.step.attempt,
            context=ctx.context(),
        )

    def enter(self, ctx: StepContext) -> NodeOutcome:
        return Suspend(kind="action", key=ctx.key, effects=[self.effect(ctx)])

    def resume(self, ctx: StepContext, wait: Wait) -> NodeOutcome | None:
        if wait.kind == "retry":
            if wait.wake_at is not None and ctx.now < wait.wake_at:
                return None
            ctx.step.attempt += 1
            return Suspend(kind="action", key=ctx.key, effects=[self.effect(ctx)])
        result = ctx.results.get(ctx.key)
        if result is None:
            # Issued before and not answered (a crash, a second worker): issue it again; the
            # idempotency key keeps its visible effect single.
            return Suspend(kind="action", key=ctx.key, effects=[self.effect(ctx)])
        if result.error is None:
            ctx.state.outputs[self.id] = result.output
            return Proceed(output=result.output)
        spec = get_action(self.action)
        retryable = result.retryable and spec is not None and spec.retryable
        if retryable and ctx.step.attempt < self.attempts_allowed():
            if result.retry_after is not None:
                delay = dt.timedelta(seconds=result.retry_after)
            else:
                delay = retry_delay(ctx.key, ctx.step.attempt)
            ctx.step.error = result.error
            return Suspend(kind="retry", key=ctx.key, wake_at=ctx.now + delay)
        return Fail(result.error)
