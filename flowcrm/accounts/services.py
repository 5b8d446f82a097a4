"""Writes for users, teams and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from flowcrm.accounts.models import ApiToken, Role, Team, User
from flowcrm.core.actors import Actor
from flowcrm.core.errors import NotFound, ValidationFailed
from flowcrm.core.events import created_changes, record_event

TOKEN_PREFIX = "fcrm_"  # noqa: S105  # a public prefix, not a secret
# last_used_at is written at most this often per token, so reads do not turn into writes.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _hash_token(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(raw.encode()).hexdigest()


def team_create(*, name: str, description: str = "", actor: Actor) -> Team:
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": "A team needs a name."})
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationFailed({"name": f"A team named {name!r} already exists."})
    with transaction.atomic():
        team = Team.objects.create(name=name, description=description)
        record_event(
            type="team.created",
            subject=team,
            actor=actor,
            changes=created_changes({"name": name, "description": description}),
        )
    return team


def user_create(
    *,
    email: str,
    password: str | None,
    name: str = "",
    role: str = Role.SALES_REP,
    team: Team | None = None,
    actor: Actor,
) -> User:
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationFailed({"role": f"Unknown role {role!r}; one of {', '.join(Role.values)}."})
    if User.objects.filter(email=email).exists():
        raise ValidationFailed({"email": f"A user with e-mail {email} already exists."})
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            name=name,
            role=role,
            team=team,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        record_event(
            type="user.created",
            subject=user,
            actor=actor,
            changes=created_changes(
                {"email": email, "name": name, "role": role, "team": team.pk if team else None}
            ),
        )
    return user


def token_create(*, user: User, name: str, actor: Actor) -> tuple[ApiToken, str]:
    """Create a token for ``user``. Returns the row and the raw token, which is never stored."""
    name = name.strip() or "API token"
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user, name=name[:100], prefix=raw[:12], token_hash=_hash_token(raw)
        )
        record_event(
            type="api_token.created",
            subject=token,
            actor=actor,
            changes=created_changes({"name": token.name, "user": user.pk}),
        )
    return token, raw


def token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    if token.revoked_at is not None:
        return token
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record_event(
            type="api_token.revoked",
            subject=token,
            actor=actor,
            changes={"revoked_at": {"before": None, "after": token.revoked_at.isoformat()}},
        )
    return token


def token_authenticate(raw: str) -> ApiToken:
    """The active token for ``raw`` (updating its last-used time), or raise NotFound."""
    if not raw.startswith(TOKEN_PREFIX):
        raise NotFound("Unknown API token.")
    token = (
        ApiToken.objects.select_related("user", "user__team")
        .filter(token_hash=_hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        raise NotFound("Unknown or revoked API token.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
