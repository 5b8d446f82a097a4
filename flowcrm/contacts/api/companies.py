"""``/companies``: list, search, create, read, PATCH, delete, tag and untag."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Status

from flowcrm.api import request_actor, request_user
from flowcrm.contacts import selectors, services
from flowcrm.contacts.api import router
from flowcrm.contacts.api.inputs import custom_filters, resolve_relations
from flowcrm.contacts.api.schemas import (
    CompanyCreateIn,
    CompanyFieldsIn,
    CompanyListParams,
    CompanyOut,
    CompanyPage,
    TagRefIn,
)
from flowcrm.contacts.models import Company
from flowcrm.core.permissions import ensure_can_write


@router.get("/companies", response=CompanyPage, summary="List and search companies")
def company_list(request: HttpRequest, params: Query[CompanyListParams]) -> dict[str, Any]:
    """Filters combine with AND; ``custom.<key>=value`` filters on custom fields. Default sort:
    name."""
    filters = selectors.CompanyFilters(
        q=params.q,
        owner=params.owner,
        industry=params.industry,
        size=params.size,
        country=params.country,
        tag=params.tag,
        created_after=params.created_after,
        created_before=params.created_before,
        custom=custom_filters(request),
    )
    page = selectors.company_list(
        user=request_user(request),
        filters=filters,
        sort=params.sort or selectors.DEFAULT_COMPANY_SORT,
        cursor=params.cursor,
        limit=params.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/companies", response={201: CompanyOut}, summary="Create a company")
def company_create(request: HttpRequest, payload: CompanyCreateIn) -> Status[Company]:
    user = request_user(request)
    ensure_can_write(user)
    data = payload.dict(exclude_unset=True)
    tags = selectors.tags_by_ids(data.pop("tag_ids", []), field_name="tag_ids")
    company = services.company_create(
        values=resolve_relations(user, data), tags=tags, actor=request_actor(request)
    )
    return Status(201, selectors.company_get(user=user, company_id=company.pk))


@router.get("/companies/{company_id}", response=CompanyOut, summary="Read a company")
def company_detail(request: HttpRequest, company_id: int) -> Company:
    return selectors.company_get(user=request_user(request), company_id=company_id)


@router.patch("/companies/{company_id}", response=CompanyOut, summary="Change a company")
def company_update(request: HttpRequest, company_id: int, payload: CompanyFieldsIn) -> Company:
    user = request_user(request)
    company = selectors.company_for_write(user=user, company_id=company_id)
    values = resolve_relations(user, payload.dict(exclude_unset=True))
    services.company_update(company=company, values=values, actor=request_actor(request))
    return selectors.company_get(user=user, company_id=company_id)


@router.delete("/companies/{company_id}", response={204: None}, summary="Delete a company")
def company_delete(request: HttpRequest, company_id: int) -> Status[None]:
    company = selectors.company_for_write(user=request_user(request), company_id=company_id)
    services.company_delete(company=company, actor=request_actor(request))
    return Status(204, None)


@router.post("/companies/{company_id}/tags", response=CompanyOut, summary="Tag a company")
def company_tag_add(request: HttpRequest, company_id: int, payload: TagRefIn) -> Company:
    user = request_user(request)
    company = selectors.company_for_write(user=user, company_id=company_id)
    tag = selectors.tags_by_ids([payload.tag_id], field_name="tag_id")[0]
    services.company_tag_add(company=company, tag=tag, actor=request_actor(request))
    return selectors.company_get(user=user, company_id=company_id)


@router.delete(
    "/companies/{company_id}/tags/{tag_id}", response=CompanyOut, summary="Untag a company"
)
def company_tag_remove(request: HttpRequest, company_id: int, tag_id: int) -> Company:
    user = request_user(request)
    company = selectors.company_for_write(user=user, company_id=company_id)
    tag = selectors.tag_get(tag_id=tag_id)
    services.company_tag_remove(company=company, tag=tag, actor=request_actor(request))
    return selectors.company_get(user=user, company_id=company_id)
