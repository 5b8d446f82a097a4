"""The inbound webhook trigger: an authenticated URL per flow.

A request is accepted when it carries either ``X-FlowCRM-Signature: sha256=<hex>`` (HMAC-SHA256
of the raw body with the flow's secret) or ``X-FlowCRM-Token: <secret>``; compared in constant
time. The body must be a JSON object; for a flow whose trigger names a record type it must
carry ``record_id``. A refused request enrolls nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from django.utils import timezone

from flowcrm.core.errors import NotFound, PermissionDenied, ValidationFailed
from flowcrm.flows.actions.records import load_record_for_flow
from flowcrm.flows.core.triggers import WebhookTrigger
from flowcrm.flows.definitions import definition_of
from flowcrm.flows.enrollment import enroll_record
from flowcrm.flows.models import Flow, FlowRun, FlowStatus

SIGNATURE_HEADER = "X-FlowCRM-Signature"
TOKEN_HEADER = "X-FlowCRM-Token"  # noqa: S105  # a header name, not a secret


def authenticate(flow: Flow, body: bytes, headers: Any) -> None:
    """Raise PermissionDenied unless the request is signed or carries the flow's token."""
    secret = flow.webhook_secret.encode()
    signature = headers.get(SIGNATURE_HEADER, "")
    token = headers.get(TOKEN_HEADER, "")
    if signature:
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(signature.encode(), expected.encode()):
            return
    elif token and hmac.compare_digest(token.encode(), secret):
        return
    raise PermissionDenied("Missing or wrong webhook signature.")


def receive(*, flow_id: int, body: bytes, headers: Any) -> FlowRun | None:
    """Check and enroll one inbound webhook; returns the run (None when the enrollment
    condition or policy turned it away). Raises NotFound, PermissionDenied, ValidationFailed."""
    flow = Flow.objects.select_related("active_version").filter(pk=flow_id).first()
    if flow is None or flow.active_version is None or flow.status != FlowStatus.ACTIVE:
        raise NotFound(f"No active flow with id {flow_id}.")
    authenticate(flow, body, headers)
    try:
        payload = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed({"body": f"Malformed JSON: {error}"}) from error
    if not isinstance(payload, dict):
        raise ValidationFailed({"body": "Expected a JSON object."})
    trigger = definition_of(flow.active_version).trigger
    if not isinstance(trigger, WebhookTrigger):
        raise ValidationFailed({"flow": "This flow is not started by a webhook."})
    record_type = trigger.record_type or ""
    record_id = payload.get("record_id")
    if record_type:
        if not isinstance(record_id, int) or isinstance(record_id, bool):
            raise ValidationFailed({"record_id": "Expected the id of a record (an integer)."})
        if load_record_for_flow(record_type, record_id) is None:
            raise ValidationFailed({"record_id": f"No {record_type} with id {record_id}."})
    return enroll_record(
        flow=flow,
        record_type=record_type,
        record_id=int(record_id) if record_type and record_id is not None else 0,
        trigger={"type": "webhook", "payload": payload, "received_at": timezone.now().isoformat()},
    )
