"""Actions ``create_deal`` and ``move_deal_stage``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import Field

from flowcrm.contacts.models import Company, Contact
from flowcrm.flows.actions.base import Action, ActionConfig, ActionContext, ActionFailed
from flowcrm.flows.actions.text import render
from flowcrm.flows.actions.writes import deal_create, deal_move_stage
from flowcrm.sales.models import Deal, Pipeline, Stage


class CreateDealConfig(ActionConfig):
    title: str = Field(min_length=1, max_length=200)
    pipeline_id: int
    stage_id: int | None = None
    amount: Decimal = Field(default=Decimal("0"), ge=0)


class CreateDeal(Action):
    name = "create_deal"
    label = "Create a deal"
    Config = CreateDealConfig
    writes = ("deal",)

    def _stage(self, config: CreateDealConfig) -> tuple[Pipeline, Stage]:
        pipeline = Pipeline.objects.filter(pk=config.pipeline_id).first()
        if pipeline is None:
            raise ActionFailed(f"pipeline {config.pipeline_id} does not exist", retryable=False)
        stages = pipeline.stages.order_by("position", "pk")
        stage = stages.filter(pk=config.stage_id).first() if config.stage_id else stages.first()
        if stage is None:
            raise ActionFailed(
                f"stage {config.stage_id} is not in {pipeline.name}", retryable=False
            )
        return pipeline, stage

    def preview(self, context: ActionContext) -> dict[str, Any]:
        config: CreateDealConfig = context.config
        pipeline, stage = self._stage(config)
        return {
            "title": render(config.title, context.variables, field="title"),
            "pipeline_id": pipeline.pk,
            "stage_id": stage.pk,
            "amount": str(config.amount),
        }

    def run(self, context: ActionContext) -> dict[str, Any]:
        config: CreateDealConfig = context.config
        pipeline, stage = self._stage(config)
        record = context.record
        contact = record if isinstance(record, Contact) else None
        company = record if isinstance(record, Company) else getattr(contact, "company", None)
        deal = deal_create(
            title=render(config.title, context.variables, field="title"),
            pipeline=pipeline,
            stage=stage,
            amount=config.amount,
            owner_id=getattr(record, "owner_id", None),
            company=company,
            contact=contact,
            actor=context.actor,
        )
        return {"deal_id": deal.pk, "stage_id": stage.pk}


class MoveDealStageConfig(ActionConfig):
    stage_id: int


class MoveDealStage(Action):
    name = "move_deal_stage"
    label = "Move the deal to a stage"
    Config = MoveDealStageConfig
    writes = ("stage", "status")

    def _target(self, context: ActionContext) -> tuple[Deal, Stage]:
        if not isinstance(context.record, Deal):
            raise ActionFailed("move_deal_stage needs a deal record", retryable=False)
        config: MoveDealStageConfig = context.config
        stage = Stage.objects.filter(
            pk=config.stage_id, pipeline_id=context.record.pipeline_id
        ).first()
        if stage is None:
            raise ActionFailed(
                f"stage {config.stage_id} is not in the deal's pipeline", retryable=False
            )
        return context.record, stage

    def preview(self, context: ActionContext) -> dict[str, Any]:
        deal, stage = self._target(context)
        return {"from_stage_id": deal.stage_id, "to_stage_id": stage.pk}

    def run(self, context: ActionContext) -> dict[str, Any]:
        deal, stage = self._target(context)
        from_stage_id = deal.stage_id
        deal_move_stage(deal=deal, stage=stage, actor=context.actor)
        return {"from_stage_id": from_stage_id, "to_stage_id": stage.pk}
