"""Request and response shapes of the flows API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class FlowIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    definition: dict[str, Any]


class FlowPatch(Schema):
    description: str | None = None
    definition: dict[str, Any] | None = None


class PublishIn(Schema):
    activate: bool = False


class ActivateIn(Schema):
    version: int | None = None


class FlowOut(Schema):
    id: int
    name: str
    description: str
    status: str
    active_version: int | None
    runs_30d: int | None = None
    failures_30d: int | None = None
    draft: dict[str, Any] | None = None
    webhook_url: str | None = None


class VersionOut(Schema):
    number: int
    published_at: dt.datetime
    published_by: str | None
    checks: list[Any]
    definition: dict[str, Any] | None = None


class RunOut(Schema):
    id: int
    flow_id: int
    flow: str
    version: int
    record_type: str
    record_id: int
    status: str
    current_node: str
    enrolled_at: dt.datetime
    due_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str


class RunDetailOut(RunOut):
    steps: list[dict[str, Any]]
    cascade_chain: list[int]


class SkipIn(Schema):
    label: str | None = None


class ApprovalOut(Schema):
    id: int
    title: str
    run_id: int
    flow: str
    node_id: str
    status: str
    policy: str
    approver_ids: list[int]
    created_at: dt.datetime


class DecisionIn(Schema):
    approved: bool
    comment: str = Field(default="", max_length=2000)


class TriggerIn(Schema):
    record_type: str
    record_ids: list[int] = Field(default_factory=list, max_length=10000)
    condition: dict[str, Any] | None = None


class TriggerOut(Schema):
    started: int
    run_ids: list[int]


class DryRunIn(Schema):
    record_id: int


class BacktestIn(Schema):
    last: int = Field(default=1000, ge=1, le=100000)
