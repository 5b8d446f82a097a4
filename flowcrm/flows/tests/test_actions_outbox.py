"""Delivering outbox messages: webhooks to a real local HTTP server, e-mail over real SMTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from flowcrm.flows import outbox
from flowcrm.flows.models import (
    Flow,
    FlowRun,
    FlowVersion,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    RunStatus,
)
from flowcrm.flows.tests.servers import hook_server, smtp_server

pytestmark = pytest.mark.django_db


def _waiting_run() -> FlowRun:
    flow = Flow.objects.create(name="Accounting sync", webhook_secret="s3cret")
    version = FlowVersion.objects.create(flow=flow, number=1, definition={})
    return FlowRun.objects.create(
        flow=flow, version=version, record_type="deal", record_id=1, status=RunStatus.WAITING
    )


def _webhook(run: FlowRun | None, url: str, key: str = "run-1:n1:1") -> OutboxMessage:
    message = OutboxMessage.objects.create(
        idempotency_key=key,
        kind=OutboxKind.WEBHOOK,
        run=run,
        payload={"url": url, "body": {"deal": 7}, "timeout_seconds": 5, "max_attempts": 3},
    )
    if run is not None:
        FlowRun.objects.filter(pk=run.pk).update(waiting_event=outbox.outbox_wait_key(message.pk))
    return message


def _deliver_now() -> int:
    # Due now, ignoring any backoff: the retry schedule is checked separately.
    OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )
    return outbox.deliver_due()


def test_a_webhook_is_signed_carries_its_key_and_resumes_the_run():
    run = _waiting_run()
    with hook_server([(200, {}, {"invoice": "INV-9"})]) as server:
        message = _webhook(run, server.url)

        assert outbox.deliver_due() == 1

    message.refresh_from_db()
    run.refresh_from_db()
    request = server.requests[0]
    expected = hmac.new(b"s3cret", request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["Idempotency-Key"] == "run-1:n1:1"
    assert request["headers"][outbox.SIGNATURE_HEADER] == f"sha256={expected}"
    assert json.loads(request["body"]) == {"deal": 7}
    assert message.status == OutboxStatus.SENT
    assert message.response == {"status": 200, "body": {"invoice": "INV-9"}}
    assert (run.status, run.due_at is not None) == (RunStatus.RUNNING, True)


def test_a_webhook_retries_5xx_and_429_honouring_retry_after_then_succeeds():
    script = [(500, {}, {}), (429, {"Retry-After": "120"}, {}), (200, {}, {"ok": 1})]
    with hook_server(script) as server:
        message = _webhook(None, server.url)

        before = timezone.now()
        outbox.deliver_due()
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
        assert message.last_error == "HTTP 500"

        _deliver_now()
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.PENDING, 2)
        wait = (message.next_attempt_at - before).total_seconds()
        assert 119 <= wait <= 125

        _deliver_now()
        message.refresh_from_db()

    assert (message.status, message.attempts) == (OutboxStatus.SENT, 3)
    assert [r["status"] for r in server.requests] == [500, 429, 200]
    assert server.applied == {"run-1:n1:1": 1}


def test_a_webhook_answering_4xx_fails_without_retrying_and_resumes_the_run_to_fail():
    run = _waiting_run()
    with hook_server([(400, {}, {"error": "bad"})]) as server:
        message = _webhook(run, server.url)
        outbox.deliver_due()
        _deliver_now()

    message.refresh_from_db()
    run.refresh_from_db()
    assert len(server.requests) == 1
    assert message.status == OutboxStatus.FAILED
    assert message.last_error.startswith("HTTP 400")
    assert run.status == RunStatus.RUNNING


def test_a_webhook_gives_up_after_its_attempt_limit():
    with hook_server([(503, {}, {})] * 5) as server:
        message = _webhook(None, server.url)
        for _ in range(5):
            _deliver_now()

    message.refresh_from_db()
    assert (message.status, message.attempts, len(server.requests)) == (OutboxStatus.FAILED, 3, 3)


def test_an_email_goes_over_smtp_with_its_key_in_the_message_id(settings):
    with smtp_server() as (mail, port):
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port},
            }
        }
        message = OutboxMessage.objects.create(
            idempotency_key="run-5:welcome:1",
            kind=OutboxKind.EMAIL,
            payload={"to": "ada@example.com", "subject": "Welcome", "body": "Hi Ada"},
        )
        outbox.deliver_due()
        outbox.deliver_due()

    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert len(mail.messages) == 1
    assert mail.messages[0]["Subject"] == "Welcome"
    assert mail.messages[0]["To"] == "ada@example.com"
    assert mail.message_ids()[0].startswith("<run-5.welcome.1@")


def test_an_email_whose_sender_died_mid_delivery_is_in_doubt_and_not_resent(settings):
    with smtp_server() as (mail, port):
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": port},
            }
        }
        message = OutboxMessage.objects.create(
            idempotency_key="run-6:welcome:1",
            kind=OutboxKind.EMAIL,
            payload={"to": "bob@example.com", "subject": "Hello", "body": "Hi"},
        )
        # given a worker that claimed the message and then died (its lease ran out)
        outbox.claim_due()
        OutboxMessage.objects.filter(pk=message.pk).update(
            claimed_until=timezone.now() - dt.timedelta(seconds=1)
        )
        # when another worker looks for due work
        delivered = outbox.deliver_due()

    message.refresh_from_db()
    assert delivered == 0
    assert message.status == OutboxStatus.IN_DOUBT
    assert mail.messages == []


def test_a_webhook_whose_sender_died_is_delivered_again_with_the_same_key():
    with hook_server() as server:
        message = _webhook(None, server.url)
        outbox.claim_due()
        OutboxMessage.objects.filter(pk=message.pk).update(
            claimed_until=timezone.now() - dt.timedelta(seconds=1)
        )
        outbox.deliver_due()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
    assert [r["headers"]["Idempotency-Key"] for r in server.requests] == ["run-1:n1:1"]
