"""Fixtures shared by every app's tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from flowcrm.accounts.models import Role, Team, User
from flowcrm.accounts.services import token_create
from flowcrm.core.actors import Actor


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Tests create many users; a slow key-derivation function only costs time here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def system_actor() -> Actor:
    return Actor.system("tests")


@pytest.fixture
def make_team(db: None) -> Callable[..., Team]:
    def make(name: str = "Sales") -> Team:
        return Team.objects.get_or_create(name=name)[0]

    return make


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    counter = {"n": 0}

    def make(
        role: str = Role.SALES_REP, team: Team | None = None, email: str | None = None
    ) -> User:
        counter["n"] += 1
        return User.objects.create_user(
            email or f"user{counter['n']}@example.com",
            "correct horse battery",
            name=f"User {counter['n']}",
            role=role,
            team=team,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user(role=Role.ADMIN, email="admin@example.com")


class ApiClient:
    """A test client that talks JSON to /api/v1 with a bearer token."""

    def __init__(self, user: User) -> None:
        self.user = user
        _token, self.raw_token = token_create(user=user, name="tests", actor=Actor.system())
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.raw_token}")

    def _call(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        data = json.dumps(body) if body is not None and not isinstance(body, str | bytes) else body
        return getattr(self.client, method)(
            url, data=data, content_type="application/json", **extra
        )

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        url = path if path.startswith("/") else f"/api/v1/{path}"
        return self.client.get(url, params or {})

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self._call("post", path, body, **extra)

    def patch(self, path: str, body: Any = None) -> Any:
        return self._call("patch", path, body)

    def put(self, path: str, body: Any = None) -> Any:
        return self._call("put", path, body)

    def delete(self, path: str) -> Any:
        return self._call("delete", path)


@pytest.fixture
def api_for(db: None) -> Callable[[User], ApiClient]:
    return ApiClient


@pytest.fixture
def admin_api(admin_user: User) -> ApiClient:
    return ApiClient(admin_user)
