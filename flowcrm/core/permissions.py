"""Record-level access by role and ownership, applied in selectors so API and pages agree.

- admin, manager and read-only see every record; read-only can change nothing;
- sales reps, support agents and marketers see records they own and records owned by members
  of their team (and unowned records), and may change what they can see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

from flowcrm.core.errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from flowcrm.accounts.models import User

ROLES_THAT_SEE_ALL = frozenset({"admin", "manager", "read_only"})
ROLES_THAT_CANNOT_WRITE = frozenset({"read_only"})


def sees_all(user: User) -> bool:
    return user.is_superuser or user.role in ROLES_THAT_SEE_ALL


def can_write(user: User) -> bool:
    return user.is_active and user.role not in ROLES_THAT_CANNOT_WRITE


def is_admin(user: User) -> bool:
    return user.is_superuser or user.role == "admin"


def visible_q(user: User, owner_field: str = "owner") -> Q:
    """A filter matching the records ``user`` may see, by the record's ``owner_field``."""
    if sees_all(user):
        return Q()
    q = Q(**{f"{owner_field}__isnull": True}) | Q(**{f"{owner_field}_id": user.pk})
    if user.team_id is not None:
        q |= Q(**{f"{owner_field}__team_id": user.team_id})
    return q


def scope[ModelT: models.Model](
    queryset: models.QuerySet[ModelT], user: User, owner_field: str = "owner"
) -> models.QuerySet[ModelT]:
    return queryset.filter(visible_q(user, owner_field))


def ensure_can_write(user: User) -> None:
    if not can_write(user):
        raise PermissionDenied("Your role is read-only.")


def ensure_admin(user: User) -> None:
    if not is_admin(user):
        raise PermissionDenied("Only admins can change configuration.")


def get_visible[ModelT: models.Model](
    queryset: models.QuerySet[ModelT], user: User, pk: int, owner_field: str = "owner"
) -> ModelT:
    """The record ``pk`` if ``user`` may see it; NotFound otherwise (existence is not leaked)."""
    record = scope(queryset, user, owner_field).filter(pk=pk).first()
    if record is None:
        raise NotFound(f"No {queryset.model._meta.verbose_name} with id {pk}.")
    return record
