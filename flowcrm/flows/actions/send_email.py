"""Action ``send_email``: an e-mail to the record's contact, from a template with merge fields.

The step writes an outbox row (keyed by the step's idempotency key) and an outbound ``email``
activity on the contact's timeline, in the step's transaction; the message itself is sent
after commit by :mod:`flowcrm.flows.outbox`. A contact who unsubscribed gets nothing, and the
output says so (``skipped: unsubscribed``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from flowcrm.flows.actions.base import Action, ActionConfig, ActionContext, ActionFailed
from flowcrm.flows.actions.records import contact_of
from flowcrm.flows.actions.text import render
from flowcrm.flows.actions.writes import activity_log
from flowcrm.flows.models import OutboxKind, OutboxMessage


class SendEmailConfig(ActionConfig):
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1)
    # Empty: the record's contact's address.
    to: str = ""
    from_email: str = ""


class SendEmail(Action):
    name = "send_email"
    label = "Send an e-mail"
    Config = SendEmailConfig
    reads = ("email", "unsubscribed")
    retryable = True
    max_attempts = 5

    def preview(self, context: ActionContext) -> dict[str, Any]:
        config: SendEmailConfig = context.config
        contact = contact_of(context.record)
        to = render(config.to, context.variables, field="to") if config.to else ""
        if not to and contact is not None:
            to = contact.email or ""
        plan: dict[str, Any] = {
            "to": to,
            "subject": render(config.subject, context.variables, field="subject"),
            "body": render(config.body, context.variables, field="body"),
            "from_email": config.from_email,
        }
        if contact is not None and contact.unsubscribed and not config.to:
            plan["skipped"] = "unsubscribed"
        elif not to:
            plan["skipped"] = "no address"
        return plan

    def run(self, context: ActionContext) -> dict[str, Any]:
        plan = self.preview(context)
        if "skipped" in plan:
            return {"skipped": plan["skipped"], "to": plan["to"]}
        if "@" not in plan["to"]:
            raise ActionFailed(f"to: {plan['to']!r} is not an e-mail address", retryable=False)
        message = OutboxMessage.objects.create(
            idempotency_key=context.idempotency_key,
            kind=OutboxKind.EMAIL,
            run=context.run,
            step=context.step,
            payload={key: plan[key] for key in ("to", "subject", "body", "from_email")},
        )
        activity = activity_log(
            kind="email",
            direction="outbound",
            subject=plan["subject"],
            body=plan["body"],
            actor=context.actor,
            about=context.record,
            owner_id=getattr(context.record, "owner_id", None),
        )
        return {"outbox_id": message.pk, "to": plan["to"], "activity_id": activity.pk}
