"""Action kinds, one module each; :data:`ACTIONS` maps a node's ``action`` name to its kind."""

from __future__ import annotations

from flowcrm.flows.actions.assign_owner import AssignOwner
from flowcrm.flows.actions.base import Action, ActionContext, ActionFailed
from flowcrm.flows.actions.call_webhook import CallWebhook
from flowcrm.flows.actions.create_task import CreateTask
from flowcrm.flows.actions.deals import CreateDeal, MoveDealStage
from flowcrm.flows.actions.log_activity import LogActivity
from flowcrm.flows.actions.notify_user import NotifyUser
from flowcrm.flows.actions.send_email import SendEmail
from flowcrm.flows.actions.tags import AddTag, RemoveTag
from flowcrm.flows.actions.update_record import UpdateRecord

ACTIONS: dict[str, Action] = {
    kind.name: kind
    for kind in (
        UpdateRecord(),
        CreateTask(),
        LogActivity(),
        AssignOwner(),
        CreateDeal(),
        MoveDealStage(),
        AddTag(),
        RemoveTag(),
        SendEmail(),
        CallWebhook(),
        NotifyUser(),
    )
}

# Actions whose effect is delivered after commit: the run waits for the outbox's outcome.
OUTBOX_ACTIONS = frozenset({"send_email", "call_webhook"})

__all__ = ["ACTIONS", "OUTBOX_ACTIONS", "Action", "ActionContext", "ActionFailed"]
