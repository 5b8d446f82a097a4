"""Input and output shapes of the sales API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from flowcrm.sales.models import Deal


class StageIn(Schema):
    name: str = Field(..., max_length=100)
    probability: int = Field(0, ge=0, le=100)
    is_won: bool = False
    is_lost: bool = False
    rotting_days: int | None = Field(None, ge=1)


class StagePatch(Schema):
    name: str | None = Field(None, max_length=100)
    probability: int | None = Field(None, ge=0, le=100)
    is_won: bool | None = None
    is_lost: bool | None = None
    rotting_days: int | None = Field(None, ge=1)


class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    position: int
    probability: int
    is_won: bool
    is_lost: bool
    rotting_days: int | None


class PipelineIn(Schema):
    name: str = Field(..., max_length=100)
    currency: str = "EUR"
    is_default: bool = False
    stages: list[StageIn] = Field(default_factory=list)


class PipelinePatch(Schema):
    name: str | None = Field(None, max_length=100)
    currency: str | None = None
    is_default: bool | None = None
    position: int | None = Field(None, ge=0)


class PipelineOut(Schema):
    id: int
    name: str
    currency: str
    is_default: bool
    position: int
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj: Any) -> list[Any]:
        return list(obj.stages.all())


class StageOrderIn(Schema):
    stage_ids: list[int]


class DealIn(Schema):
    title: str = Field(..., max_length=200)
    pipeline_id: int | None = Field(None, description="Default: the stage's pipeline.")
    stage_id: int | None = Field(None, description="Default: the pipeline's first stage.")
    amount: Decimal = Decimal("0")
    currency: str | None = None
    expected_close_date: dt.date | None = None
    owner_id: int | None = Field(None, description="Default: the caller.")
    company_id: int | None = None
    contact_ids: list[int] = Field(default_factory=list)
    forecast_category: str = "pipeline"
    custom: dict[str, Any] = Field(default_factory=dict)
    external_id: str | None = Field(None, max_length=100)


class DealPatch(Schema):
    """Only the fields sent are changed. The stage changes through ``POST /deals/{id}/move``."""

    title: str | None = Field(None, max_length=200)
    amount: Decimal | None = None
    currency: str | None = None
    expected_close_date: dt.date | None = None
    owner_id: int | None = None
    company_id: int | None = None
    forecast_category: str | None = None
    lost_reason: str | None = Field(None, max_length=200)
    custom: dict[str, Any] | None = None
    external_id: str | None = Field(None, max_length=100)
    stage_id: int | None = Field(None, description="Rejected: use POST /deals/{id}/move.")


class DealMoveIn(Schema):
    stage_id: int
    lost_reason: str = Field("", max_length=200)


class DealContactIn(Schema):
    contact_id: int


class DealOut(Schema):
    id: int
    title: str
    amount: Decimal
    currency: str
    expected_close_date: dt.date | None
    pipeline_id: int
    stage_id: int
    status: str
    stage_entered_at: dt.datetime
    is_rotting: bool
    owner_id: int | None
    company_id: int | None
    contact_ids: list[int]
    lost_reason: str
    closed_at: dt.datetime | None
    forecast_category: str
    external_id: str | None
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_contact_ids(obj: Deal) -> list[int]:
        return sorted(contact.pk for contact in obj.contacts.all())

    @staticmethod
    def resolve_is_rotting(obj: Deal) -> bool:
        from flowcrm.sales.selectors import is_rotting

        return is_rotting(obj)


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None


class DealQuery(Schema):
    pipeline_id: int | None = None
    stage_id: int | None = None
    status: str | None = Field(None, pattern="^(open|won|lost)$")
    owner_id: int | None = None
    company_id: int | None = None
    amount_min: Decimal | None = Field(None, ge=0)
    amount_max: Decimal | None = Field(None, ge=0)
    close_from: dt.date | None = Field(None, description="Expected close date on or after.")
    close_to: dt.date | None = Field(None, description="Expected close date on or before.")
    sort: str = Field("-created_at", description="created_at, updated_at, amount, title, …")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)


class StageVisitOut(Schema):
    stage_id: int
    stage: str
    entered_at: dt.datetime
    left_at: dt.datetime | None
    duration_seconds: int
