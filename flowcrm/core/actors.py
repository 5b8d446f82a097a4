"""Who caused a change: a user, an API token, the system, or a flow step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from flowcrm.accounts.models import ApiToken, User

ActorKind = Literal["user", "token", "system", "flow"]


@dataclass(frozen=True, slots=True)
class Actor:
    """The author of an event. Every service takes one; it ends up on the Event row.

    A flow actor carries the flow, version, run and step so that every change an automation
    makes can be traced to the exact step that made it.
    """

    kind: ActorKind
    label: str
    user_id: int | None = None
    token_id: int | None = None
    flow_id: int | None = None
    flow_version_id: int | None = None
    flow_run_id: int | None = None
    flow_step_id: int | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(kind="user", label=user.email, user_id=user.pk)

    @classmethod
    def for_token(cls, token: ApiToken) -> Actor:
        return cls(
            kind="token",
            label=f"{token.user.email} (token {token.name})",
            user_id=token.user_id,
            token_id=token.pk,
        )

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind="system", label=label)

    @classmethod
    def for_flow_step(
        cls,
        *,
        flow_id: int,
        flow_version_id: int,
        flow_run_id: int,
        flow_step_id: int | None,
        label: str,
    ) -> Actor:
        return cls(
            kind="flow",
            label=label,
            flow_id=flow_id,
            flow_version_id=flow_version_id,
            flow_run_id=flow_run_id,
            flow_step_id=flow_step_id,
        )

    def event_fields(self) -> dict[str, object]:
        """The Event model fields that store this actor."""
        return {
            "actor_kind": self.kind,
            "actor_label": self.label[:200],
            "actor_user_id": self.user_id,
            "actor_token_id": self.token_id,
            "flow_id": self.flow_id,
            "flow_version_id": self.flow_version_id,
            "flow_run_id": self.flow_run_id,
            "flow_step_id": self.flow_step_id,
        }
