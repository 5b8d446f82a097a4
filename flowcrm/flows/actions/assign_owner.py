"""Action ``assign_owner``: pick an owner for the record and set it.

Strategies: ``round_robin`` (the next candidate after the one this node picked last),
``load_balanced`` (the candidate with the fewest open deals + open tasks; ties by id), and
``territory`` (the first rule whose field value matches decides the candidates, then round
robin among them). Candidates are a team's members and/or listed users; users marked
unavailable (or inactive) are skipped. No candidate left is a non-retryable failure.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db.models import Count, Q

from flowcrm.accounts.models import User
from flowcrm.activities.models import Task
from flowcrm.flows.actions.base import Action, ActionConfig, ActionContext, ActionFailed
from flowcrm.flows.actions.writes import record_update
from flowcrm.flows.models import AssignmentPointer
from flowcrm.sales.models import Deal


class TerritoryRule(ActionConfig):
    field: str
    values: list[Any]
    user_ids: list[int] = []
    team_id: int | None = None


class AssignOwnerConfig(ActionConfig):
    strategy: Literal["round_robin", "load_balanced", "territory"] = "round_robin"
    team_id: int | None = None
    user_ids: list[int] = []
    territories: list[TerritoryRule] = []


def _candidates(team_id: int | None, user_ids: list[int]) -> list[int]:
    query = Q(pk__in=user_ids)
    if team_id is not None:
        query |= Q(team_id=team_id)
    return list(
        User.objects.filter(query, is_active=True, is_available=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _territory(config: AssignOwnerConfig, variables: dict[str, Any]) -> tuple[str, list[int]]:
    record = variables.get("record", {})
    for index, rule in enumerate(config.territories):
        if record.get(rule.field) in rule.values:
            return f"territories[{index}]", _candidates(rule.team_id, rule.user_ids)
    return "default", _candidates(config.team_id, config.user_ids)


class AssignOwner(Action):
    name = "assign_owner"
    label = "Assign an owner"
    Config = AssignOwnerConfig
    writes = ("owner",)

    def _pool(self, context: ActionContext) -> tuple[str, list[int]]:
        config: AssignOwnerConfig = context.config
        if config.strategy == "territory":
            return _territory(config, context.variables)
        return "default", _candidates(config.team_id, config.user_ids)

    def _pick(self, context: ActionContext, *, commit: bool) -> dict[str, Any]:
        config: AssignOwnerConfig = context.config
        rule, pool = self._pool(context)
        if not pool:
            raise ActionFailed(f"no available user to assign ({rule})", retryable=False)
        if config.strategy == "load_balanced":
            loads = dict.fromkeys(pool, 0)
            for owner_id, count in (
                Deal.objects.filter(owner_id__in=pool, status="open")
                .values("owner_id")
                .annotate(n=Count("id"))
                .values_list("owner_id", "n")
            ):
                loads[owner_id] += count
            for assignee_id, count in (
                Task.objects.filter(assignee_id__in=pool, status__in=["open", "in_progress"])
                .values("assignee_id")
                .annotate(n=Count("id"))
                .values_list("assignee_id", "n")
            ):
                loads[assignee_id] += count
            chosen = min(pool, key=lambda pk: (loads[pk], pk))
            return {"owner_id": chosen, "rule": rule}
        pointer_node = f"{context.node_id}:{rule}"
        pointer = (
            AssignmentPointer.objects.select_for_update()
            .filter(flow=context.flow, node_id=pointer_node)
            .first()
        )
        last = pointer.last_user_id if pointer else None
        later = [pk for pk in pool if last is not None and pk > last]
        chosen = later[0] if later else pool[0]
        if commit:
            AssignmentPointer.objects.update_or_create(
                flow=context.flow, node_id=pointer_node, defaults={"last_user_id": chosen}
            )
        return {"owner_id": chosen, "rule": rule}

    def run(self, context: ActionContext) -> dict[str, Any]:
        if context.record is None:
            raise ActionFailed("the record no longer exists", retryable=False)
        picked = self._pick(context, commit=True)
        record_update(
            record=context.record, values={"owner": picked["owner_id"]}, actor=context.actor
        )
        return picked

    def preview(self, context: ActionContext) -> dict[str, Any]:
        return self._pick(context, commit=False)
