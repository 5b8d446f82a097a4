"""Delivering e-mails and webhook calls that steps wrote to the outbox.

The protocol that keeps a visible effect from happening twice:

1. the step's transaction inserts the message (``pending``) with the step's idempotency key;
2. a worker claims due messages in a short transaction: ``sending``, ``attempts + 1``, and a
   lease (``claimed_until``);
3. it delivers: webhooks carry ``Idempotency-Key: <key>``; e-mails carry the key in their
   Message-ID;
4. it records the outcome (``sent``, back to ``pending`` with a backoff, or ``failed``) only if
   the message is still ``sending`` — and resumes the run that waits for it.

A worker that dies between 2 and 4 leaves a ``sending`` message whose lease runs out. A webhook
is then delivered again with the same key, so the receiver can discard the repeat. An e-mail
cannot be recalled or deduplicated by SMTP, so it becomes ``in_doubt`` and is *not* resent
(at most once; an operator can resend it); its run continues. The window is the SMTP
conversation itself, a few milliseconds on a local relay.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import random
import re
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from flowcrm.flows.claiming import lock_due
from flowcrm.flows.models import FlowRun, OutboxKind, OutboxMessage, OutboxStatus, RunStatus

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-FlowCRM-Signature"
# Extra seconds a claim outlives the delivery timeout before another worker may take it over.
LEASE_GRACE_SECONDS = float(os.environ.get("FLOWCRM_OUTBOX_LEASE_GRACE", "30"))
EMAIL_MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 3600.0


class DeliveryError(Exception):
    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with full jitter: uniform in [base·2^(n-1)/2, base·2^(n-1)]."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempt - 1))
    return random.uniform(ceiling / 2, ceiling)


def sign_body(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _timeout(message: OutboxMessage) -> float:
    return float(message.payload.get("timeout_seconds", 10))


def claim_due(*, limit: int = 20, now: dt.datetime | None = None) -> list[OutboxMessage]:
    """Claim due pending messages (and expired ``sending`` ones) for delivery by this worker."""
    now = now or timezone.now()
    with transaction.atomic():
        _recover_expired(now)
        messages = lock_due(
            OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
            .select_related("run__flow")
            .order_by("next_attempt_at", "id"),
            limit=limit,
        )
        for message in messages:
            message.status = OutboxStatus.SENDING
            message.attempts += 1
            message.claimed_until = now + dt.timedelta(
                seconds=_timeout(message) + LEASE_GRACE_SECONDS
            )
            message.save(update_fields=["status", "attempts", "claimed_until"])
    return messages


def _recover_expired(now: dt.datetime) -> None:
    """Messages whose deliverer died: webhooks go again (same key), e-mails become in doubt."""
    expired = lock_due(
        OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_until__lt=now).order_by(
            "id"
        ),
        limit=200,
    )
    for message in expired:
        if message.kind == OutboxKind.WEBHOOK:
            message.status = OutboxStatus.PENDING
            message.next_attempt_at = now
            message.save(update_fields=["status", "next_attempt_at"])
        else:
            message.status = OutboxStatus.IN_DOUBT
            message.last_error = "the worker stopped while sending; not resent automatically"
            message.save(update_fields=["status", "last_error"])
            _resume_run(message, now)


def deliver_due(*, limit: int = 20) -> int:
    """Claim and deliver due messages; returns how many were attempted."""
    messages = claim_due(limit=limit)
    for message in messages:
        deliver(message)
    return len(messages)


def deliver(message: OutboxMessage) -> None:
    """Deliver one claimed message and record the outcome (never raises for delivery errors)."""
    try:
        response = (
            _send_webhook(message) if message.kind == OutboxKind.WEBHOOK else _send_email(message)
        )
    except DeliveryError as error:
        _record_failure(message, error)
    else:
        _record_success(message, response)


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID carrying an idempotency key (``:`` is not allowed in its left part)."""
    local = re.sub(r"[^A-Za-z0-9.\-]", ".", key)
    return f"<{local}@{domain}>"


def _send_email(message: OutboxMessage) -> dict[str, Any]:
    payload = message.payload
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].rstrip(">") or "flowcrm.localhost"
    email = EmailMessage(
        subject=payload["subject"],
        body=payload["body"],
        from_email=payload.get("from_email") or None,
        to=[payload["to"]],
        headers={"Message-ID": message_id_for(message.idempotency_key, domain)},
    )
    try:
        email.send(using="default")
    except Exception as error:  # SMTP and socket errors: all worth another attempt
        raise DeliveryError(f"{type(error).__name__}: {error}", retryable=True) from error
    return {"message_id": email.extra_headers["Message-ID"]}


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def _send_webhook(message: OutboxMessage) -> dict[str, Any]:
    payload = message.payload
    body = json.dumps(payload.get("body", {}), sort_keys=True).encode()
    secret = message.run.flow.webhook_secret if message.run else ""
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": message.idempotency_key,
        SIGNATURE_HEADER: sign_body(secret, body),
    }
    try:
        response = httpx.post(
            payload["url"], content=body, headers=headers, timeout=_timeout(message)
        )
    except httpx.HTTPError as error:
        raise DeliveryError(f"{type(error).__name__}: {error}", retryable=True) from error
    if response.status_code >= 500 or response.status_code == 429:
        raise DeliveryError(
            f"HTTP {response.status_code}", retryable=True, retry_after=_retry_after(response)
        )
    if response.status_code >= 400:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:300]}", retryable=False)
    try:
        parsed: Any = response.json() if response.content else None
    except ValueError:
        parsed = response.text[:2000]
    return {"status": response.status_code, "body": parsed}


def _max_attempts(message: OutboxMessage) -> int:
    return int(message.payload.get("max_attempts", EMAIL_MAX_ATTEMPTS))


def _record_success(message: OutboxMessage, response: dict[str, Any]) -> None:
    now = timezone.now()
    with transaction.atomic():
        updated = OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.SENT, sent_at=now, response=response, last_error=""
        )
        if updated:
            message.status, message.response = OutboxStatus.SENT, response
            _resume_run(message, now)


def _record_failure(message: OutboxMessage, error: DeliveryError) -> None:
    now = timezone.now()
    give_up = not error.retryable or message.attempts >= _max_attempts(message)
    with transaction.atomic():
        if give_up:
            updated = OutboxMessage.objects.filter(
                pk=message.pk, status=OutboxStatus.SENDING
            ).update(status=OutboxStatus.FAILED, last_error=str(error))
            if updated:
                message.status, message.last_error = OutboxStatus.FAILED, str(error)
                _resume_run(message, now)
            return
        delay = (
            error.retry_after
            if error.retry_after is not None
            else backoff_seconds(message.attempts)
        )
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.PENDING,
            last_error=str(error),
            next_attempt_at=now + dt.timedelta(seconds=delay),
        )


def _resume_run(message: OutboxMessage, now: dt.datetime) -> None:
    """Make the run waiting for this message due again (the engine reads the outcome)."""
    if message.run_id is None:
        return
    FlowRun.objects.filter(
        pk=message.run_id, status=RunStatus.WAITING, waiting_event=outbox_wait_key(message.pk)
    ).update(status=RunStatus.RUNNING, due_at=now, updated_at=now)


def outbox_wait_key(message_id: int) -> str:
    return f"outbox:{message_id}"


def resend(*, message: OutboxMessage) -> None:
    """Operator: deliver a failed or in-doubt message again (same idempotency key)."""
    OutboxMessage.objects.filter(
        pk=message.pk, status__in=[OutboxStatus.FAILED, OutboxStatus.IN_DOUBT]
    ).update(status=OutboxStatus.PENDING, next_attempt_at=timezone.now(), attempts=F("attempts"))
