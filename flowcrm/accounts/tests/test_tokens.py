from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import call_command

from flowcrm.accounts.models import ApiToken, User
from flowcrm.accounts.services import token_authenticate, token_create, token_revoke
from flowcrm.core.actors import Actor
from flowcrm.core.errors import NotFound

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_hashed_and_authenticates(make_user: Callable[..., User]) -> None:
    user = make_user()
    token, raw = token_create(user=user, name="zapier", actor=Actor.system())
    assert raw.startswith("fcrm_")
    assert raw not in token.token_hash and token.prefix == raw[:12]
    assert token_authenticate(raw).user == user
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_a_revoked_token_no_longer_authenticates(make_user: Callable[..., User]) -> None:
    token, raw = token_create(user=make_user(), name="old", actor=Actor.system())
    token_revoke(token=token, actor=Actor.system())
    with pytest.raises(NotFound):
        token_authenticate(raw)


def test_the_cli_prints_a_working_token_once(
    make_user: Callable[..., User], capsys: pytest.CaptureFixture[str]
) -> None:
    user = make_user(email="rep@example.com")
    call_command("token", "create", "--user", "rep@example.com", "--name", "script")
    raw = capsys.readouterr().out.strip()
    assert token_authenticate(raw).user == user
    assert ApiToken.objects.get(user=user).name == "script"


def test_the_api_refuses_a_bad_token_with_a_problem_document(db: None) -> None:
    from django.test import Client

    response = Client(HTTP_AUTHORIZATION="Bearer fcrm_nope").get("/api/v1/events")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Unauthorized"
