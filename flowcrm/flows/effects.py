"""Performing the effects the stepper asks for, inside the step's transaction.

- :class:`~flowcrm.flows.core.effects.ActionEffect`: run the action kind in a savepoint (a
  failure leaves nothing behind) with the flow step as the actor, record its idempotency key
  with the output (:class:`EffectRecord`), and answer with an ``ActionResult``. An effect asked
  for again (a crash, an unanswered wait) whose key is already recorded gets the recorded output
  back instead of a second effect. E-mails and webhooks only write their outbox row: the run
  waits until delivery settles (the outbox wakes it).
- approval effects open, escalate or close :class:`Approval` rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, models, transaction

from flowcrm.core.actors import Actor
from flowcrm.flows.actions import ACTIONS, OUTBOX_ACTIONS, ActionContext, ActionFailed
from flowcrm.flows.approvals import approval_close, approval_escalate, approval_open
from flowcrm.flows.core.effects import (
    ActionEffect,
    ActionResult,
    CloseApprovalEffect,
    Effect,
    EscalateApprovalEffect,
    OpenApprovalEffect,
)
from flowcrm.flows.core.state import RunState
from flowcrm.flows.models import EffectRecord, FlowRun, OutboxMessage, OutboxStatus, StepExecution


class EffectExecutor:
    """Performs one run's effects during one turn; remembers what the save needs."""

    def __init__(
        self, *, run: FlowRun, record: models.Model | None, now: dt.datetime, fresh: bool
    ) -> None:
        self.run = run
        self.record = record
        self.now = now
        self.fresh = fresh  # a run on its first turn has no earlier step rows or effects
        self.state: RunState | None = None
        self.keys: dict[int, str] = {}
        self.inputs: dict[int, Any] = {}
        self.outbox_waits: dict[str, int] = {}
        self.first_action_at: dt.datetime | None = None
        self._step_ids: dict[int, int] | None = {} if fresh else None

    def step_ids(self) -> dict[int, int]:
        """Step index -> StepExecution id, for rows that exist already."""
        if self._step_ids is None:
            self._step_ids = dict(
                StepExecution.objects.filter(run=self.run).values_list("index", "pk")
            )
        return self._step_ids

    def perform(self, effects: list[Effect]) -> list[ActionResult]:
        results: list[ActionResult] = []
        for effect in effects:
            if isinstance(effect, ActionEffect):
                result = self._action(effect)
                if result is not None:
                    results.append(result)
            elif isinstance(effect, OpenApprovalEffect):
                approval_open(run=self.run, effect=effect, now=self.now)
            elif isinstance(effect, EscalateApprovalEffect):
                approval_escalate(effect=effect, now=self.now)
            elif isinstance(effect, CloseApprovalEffect):
                approval_close(effect=effect, now=self.now)
        return results

    def _step_id(self, effect: ActionEffect) -> int:
        """The StepExecution row of the effect's step (created now if new: the actor names it)."""
        ids = self.step_ids()
        self.keys[effect.step_index] = effect.idempotency_key
        self.inputs[effect.step_index] = dict(effect.config)
        if effect.step_index not in ids:
            assert self.state is not None
            record = self.state.steps[effect.step_index]
            step = StepExecution.objects.create(
                run=self.run,
                index=effect.step_index,
                node_id=effect.node_id,
                node_kind=record.kind,
                attempt=effect.attempt,
                status=record.status,
                queued_at=record.queued_at,
                started_at=record.started_at,
                input=dict(effect.config),
                idempotency_key=effect.idempotency_key,
            )
            ids[effect.step_index] = step.pk
        return ids[effect.step_index]

    def _actor(self, step_id: int) -> Actor:
        run = self.run
        return Actor.for_flow_step(
            flow_id=run.flow_id,
            flow_version_id=run.version_id,
            flow_run_id=run.pk,
            flow_step_id=step_id,
            label=f"flow {run.flow.name} v{run.version.number}",
        )

    def _recorded(self, effect: ActionEffect) -> ActionResult | bool | None:
        """The answer for an effect already applied; False when it was not applied yet."""
        if self.fresh:
            return False
        done = EffectRecord.objects.filter(key=effect.idempotency_key).first()
        if done is None:
            return False
        if effect.action in OUTBOX_ACTIONS:
            message = OutboxMessage.objects.filter(idempotency_key=effect.idempotency_key).first()
            if message is not None and message.status in (
                OutboxStatus.PENDING,
                OutboxStatus.SENDING,
            ):
                self.outbox_waits[effect.idempotency_key] = message.pk
                return None  # still being delivered: keep waiting
            if message is not None:
                from flowcrm.flows.engine import outbox_result

                return outbox_result(message)
        return ActionResult(idempotency_key=effect.idempotency_key, output=done.output)

    def _action(self, effect: ActionEffect) -> ActionResult | None:
        recorded = self._recorded(effect)
        if recorded is not False:
            return recorded if isinstance(recorded, ActionResult) else None
        kind = ACTIONS.get(effect.action)
        key = effect.idempotency_key
        if kind is None:
            return ActionResult(idempotency_key=key, error=f"unknown action {effect.action!r}")
        step_id = self._step_id(effect)
        context = ActionContext(
            flow=self.run.flow,
            run=self.run,
            node_id=effect.node_id,
            config=kind.Config.model_validate(dict(effect.config)),
            record_type=self.run.record_type,
            record=self.record,
            variables=dict(effect.context),
            idempotency_key=key,
            actor=self._actor(step_id),
            now=self.now,
            step=StepExecution(pk=step_id, run=self.run),
        )
        try:
            with transaction.atomic():
                output = kind.run(context)
                EffectRecord.objects.create(
                    key=key, run=self.run, action=effect.action, output=output
                )
        except ActionFailed as error:
            return ActionResult(
                idempotency_key=key,
                error=str(error),
                retryable=error.retryable,
                retry_after=error.retry_after,
            )
        except IntegrityError:
            raise  # another executor applied this step: the run's whole turn rolls back
        except Exception as error:  # an unexpected failure of an action: retry, then fail
            return ActionResult(
                idempotency_key=key, error=f"{type(error).__name__}: {error}", retryable=True
            )
        if self.first_action_at is None:
            self.first_action_at = self.now
        if effect.action in OUTBOX_ACTIONS and "outbox_id" in output:
            self.outbox_waits[key] = output["outbox_id"]
            return None  # the outbox answers once delivery settles
        return ActionResult(idempotency_key=key, output=output)
