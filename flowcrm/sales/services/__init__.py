"""Writes of the sales app: pipelines, stages and deals. Each service records one event."""

from __future__ import annotations

from flowcrm.sales.services.deals import (
    DEAL_UPDATABLE_FIELDS,
    deal_contact_link,
    deal_contact_unlink,
    deal_create,
    deal_delete,
    deal_move_stage,
    deal_update,
)
from flowcrm.sales.services.pipelines import (
    StageSpec,
    pipeline_create,
    pipeline_update,
    stage_create,
    stage_reorder,
    stage_update,
)

__all__ = [
    "DEAL_UPDATABLE_FIELDS",
    "StageSpec",
    "deal_contact_link",
    "deal_contact_unlink",
    "deal_create",
    "deal_delete",
    "deal_move_stage",
    "deal_update",
    "pipeline_create",
    "pipeline_update",
    "stage_create",
    "stage_reorder",
    "stage_update",
]
