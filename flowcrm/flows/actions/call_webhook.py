"""Action ``call_webhook``: a JSON POST to an external system; its response joins the context.

The step writes an outbox row (keyed by the step's idempotency key) and the run waits; the
outbox delivers after commit (``Idempotency-Key`` header, HMAC-SHA256 signature of the body
with the flow's secret), retries 5xx/429 with backoff honouring ``Retry-After``, and resumes the
run with ``{"status": …, "body": …}`` as the step's output, or fails the step (other 4xx, or
attempts exhausted).
"""

from __future__ import annotations

from typing import Any

from pydantic import AnyHttpUrl, Field

from flowcrm.flows.actions.base import Action, ActionConfig, ActionContext
from flowcrm.flows.actions.text import render
from flowcrm.flows.models import OutboxKind, OutboxMessage


class CallWebhookConfig(ActionConfig):
    url: AnyHttpUrl
    # Values that are strings are templates over the run's variables.
    payload: dict[str, Any] = Field(default_factory=dict)
    timeout_seconds: float = Field(default=10, gt=0, le=60)
    max_attempts: int = Field(default=5, ge=1, le=20)


def _render_tree(value: Any, variables: dict[str, Any], path: str) -> Any:
    if isinstance(value, str):
        return render(value, variables, field=path)
    if isinstance(value, dict):
        return {k: _render_tree(v, variables, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_render_tree(v, variables, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


class CallWebhook(Action):
    name = "call_webhook"
    label = "Call a webhook"
    Config = CallWebhookConfig
    retryable = True
    max_attempts = 5

    def preview(self, context: ActionContext) -> dict[str, Any]:
        config: CallWebhookConfig = context.config
        return {
            "url": str(config.url),
            "body": _render_tree(config.payload, context.variables, "payload"),
        }

    def run(self, context: ActionContext) -> dict[str, Any]:
        config: CallWebhookConfig = context.config
        plan = self.preview(context)
        message = OutboxMessage.objects.create(
            idempotency_key=context.idempotency_key,
            kind=OutboxKind.WEBHOOK,
            run=context.run,
            step=context.step,
            payload={
                **plan,
                "timeout_seconds": config.timeout_seconds,
                "max_attempts": config.max_attempts,
            },
        )
        return {"outbox_id": message.pk, "awaiting_delivery": True}
