"""``/contacts``: list, search, create, read, PATCH, delete, tag and untag."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Status

from flowcrm.api import request_actor, request_user
from flowcrm.contacts import selectors, services
from flowcrm.contacts.api import router
from flowcrm.contacts.api.inputs import custom_filters, resolve_relations
from flowcrm.contacts.api.schemas import (
    ContactCreateIn,
    ContactFieldsIn,
    ContactListParams,
    ContactOut,
    ContactPage,
    TagRefIn,
)
from flowcrm.contacts.models import Contact
from flowcrm.core.permissions import ensure_can_write


@router.get("/contacts", response=ContactPage, summary="List and search contacts")
def contact_list(request: HttpRequest, params: Query[ContactListParams]) -> dict[str, Any]:
    """Filters combine with AND; ``custom.<key>=value`` filters on custom fields
    (``custom.<key>__gte`` etc. for numbers, money and dates). Default sort: newest first."""
    filters = selectors.ContactFilters(
        q=params.q,
        owner=params.owner,
        company=params.company,
        lifecycle_stage=params.lifecycle_stage,
        lead_status=params.lead_status,
        source=params.source,
        tag=params.tag,
        country=params.country,
        created_after=params.created_after,
        created_before=params.created_before,
        custom=custom_filters(request),
    )
    page = selectors.contact_list(
        user=request_user(request),
        filters=filters,
        sort=params.sort or selectors.DEFAULT_CONTACT_SORT,
        cursor=params.cursor,
        limit=params.limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/contacts", response={201: ContactOut}, summary="Create a contact")
def contact_create(request: HttpRequest, payload: ContactCreateIn) -> Status[Contact]:
    user = request_user(request)
    ensure_can_write(user)
    data = payload.dict(exclude_unset=True)
    tags = selectors.tags_by_ids(data.pop("tag_ids", []), field_name="tag_ids")
    contact = services.contact_create(
        values=resolve_relations(user, data), tags=tags, actor=request_actor(request)
    )
    return Status(201, selectors.contact_get(user=user, contact_id=contact.pk))


@router.get("/contacts/{contact_id}", response=ContactOut, summary="Read a contact")
def contact_detail(request: HttpRequest, contact_id: int) -> Contact:
    return selectors.contact_get(user=request_user(request), contact_id=contact_id)


@router.patch("/contacts/{contact_id}", response=ContactOut, summary="Change a contact")
def contact_update(request: HttpRequest, contact_id: int, payload: ContactFieldsIn) -> Contact:
    """Only the fields sent change; ``custom`` merges key by key (``null`` clears a key)."""
    user = request_user(request)
    contact = selectors.contact_for_write(user=user, contact_id=contact_id)
    values = resolve_relations(user, payload.dict(exclude_unset=True))
    services.contact_update(contact=contact, values=values, actor=request_actor(request))
    return selectors.contact_get(user=user, contact_id=contact_id)


@router.delete("/contacts/{contact_id}", response={204: None}, summary="Delete a contact")
def contact_delete(request: HttpRequest, contact_id: int) -> Status[None]:
    contact = selectors.contact_for_write(user=request_user(request), contact_id=contact_id)
    services.contact_delete(contact=contact, actor=request_actor(request))
    return Status(204, None)


@router.post("/contacts/{contact_id}/tags", response=ContactOut, summary="Tag a contact")
def contact_tag_add(request: HttpRequest, contact_id: int, payload: TagRefIn) -> Contact:
    user = request_user(request)
    contact = selectors.contact_for_write(user=user, contact_id=contact_id)
    tag = selectors.tags_by_ids([payload.tag_id], field_name="tag_id")[0]
    services.contact_tag_add(contact=contact, tag=tag, actor=request_actor(request))
    return selectors.contact_get(user=user, contact_id=contact_id)


@router.delete(
    "/contacts/{contact_id}/tags/{tag_id}", response=ContactOut, summary="Untag a contact"
)
def contact_tag_remove(request: HttpRequest, contact_id: int, tag_id: int) -> Contact:
    user = request_user(request)
    contact = selectors.contact_for_write(user=user, contact_id=contact_id)
    tag = selectors.tag_get(tag_id=tag_id)
    services.contact_tag_remove(contact=contact, tag=tag, actor=request_actor(request))
    return selectors.contact_get(user=user, contact_id=contact_id)
