"""Duplicates and merge endpoints for contacts and companies (mounted at /api/v1/)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from flowcrm.api import request_actor, request_user
from flowcrm.contacts.dedupe import find_company_duplicates, find_contact_duplicates
from flowcrm.contacts.merge import merge_records, resolve_merged
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.errors import NotFound
from flowcrm.core.permissions import ensure_can_write, get_visible

router = Router(tags=["duplicates and merge"])


class DuplicateGroupOut(Schema):
    ids: list[int]
    score: int
    reason: str
    records: list[dict[str, Any]]


class MergeIn(Schema):
    ids: list[int] = Field(..., min_length=2, description="Every record to merge, survivor too.")
    survivor_id: int | None = Field(None, description="Default: the most recently updated.")
    fields: dict[str, int] = Field(
        default_factory=dict, description="Field name → id of the record whose value to keep."
    )


class MergeOut(Schema):
    id: int
    merged_ids: list[int]


class TombstoneOut(Schema):
    id: int
    merged_into: int | None


def _merge(request: HttpRequest, record_type: str, payload: MergeIn) -> dict[str, Any]:
    user = request_user(request)
    ensure_can_write(user)
    model: type[Contact] | type[Company] = Contact if record_type == "contact" else Company
    for pk in payload.ids:
        get_visible(model._default_manager.all(), user, pk)
    survivor = merge_records(
        record_type=record_type,
        ids=payload.ids,
        survivor_id=payload.survivor_id,
        field_sources=payload.fields,
        actor=request_actor(request),
    )
    return {"id": survivor.pk, "merged_ids": [pk for pk in payload.ids if pk != survivor.pk]}


@router.get("/contacts/duplicates", response=list[DuplicateGroupOut], summary="Duplicate contacts")
def contact_duplicates(
    request: HttpRequest, kind: str = "all", limit: int = 100
) -> list[dict[str, Any]]:
    groups = find_contact_duplicates(
        request_user(request),
        exact=kind in ("all", "exact"),
        fuzzy=kind in ("all", "fuzzy"),
        limit=max(1, min(limit, 500)),
    )
    return [group.as_dict() for group in groups]


@router.get(
    "/companies/duplicates", response=list[DuplicateGroupOut], summary="Duplicate companies"
)
def company_duplicates(
    request: HttpRequest, kind: str = "all", limit: int = 100
) -> list[dict[str, Any]]:
    groups = find_company_duplicates(
        request_user(request),
        exact=kind in ("all", "exact"),
        fuzzy=kind in ("all", "fuzzy"),
        limit=max(1, min(limit, 500)),
    )
    return [group.as_dict() for group in groups]


@router.post("/contacts/merge", response=MergeOut, summary="Merge contacts into one")
def merge_contacts(request: HttpRequest, payload: MergeIn) -> dict[str, Any]:
    return _merge(request, "contact", payload)


@router.post("/companies/merge", response=MergeOut, summary="Merge companies into one")
def merge_companies(request: HttpRequest, payload: MergeIn) -> dict[str, Any]:
    return _merge(request, "company", payload)


@router.get(
    "/contacts/merged/{int:contact_id}", response=TombstoneOut, summary="Where a merged id went"
)
def contact_tombstone(request: HttpRequest, contact_id: int) -> dict[str, Any]:
    return _tombstone(Contact, contact_id)


@router.get(
    "/companies/merged/{int:company_id}", response=TombstoneOut, summary="Where a merged id went"
)
def company_tombstone(request: HttpRequest, company_id: int) -> dict[str, Any]:
    return _tombstone(Company, company_id)


def _tombstone(model: type[Contact] | type[Company], pk: int) -> dict[str, Any]:
    if not model._default_manager.filter(pk=pk).exists():
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.")
    return {"id": pk, "merged_into": resolve_merged(model, pk)}
