"""``/tags`` and ``/custom-fields``: the vocabulary and the typed fields records carry.

Anyone may read both. Writers may create tags; renaming or deleting a tag, and every change to
custom field definitions, is for admins.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Status

from flowcrm.api import request_actor, request_user
from flowcrm.contacts import selectors, services
from flowcrm.contacts.api import router
from flowcrm.contacts.api.schemas import (
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldPatchIn,
    TagIn,
    TagOut,
    TagPatchIn,
)
from flowcrm.contacts.models import Tag
from flowcrm.core.models import CustomFieldDefinition
from flowcrm.core.permissions import ensure_admin, ensure_can_write


@router.get("/tags", response=list[TagOut], summary="All tags", tags=["tags"])
def tag_list(request: HttpRequest) -> list[Tag]:
    return selectors.tag_list()


@router.post("/tags", response={201: TagOut}, summary="Create a tag", tags=["tags"])
def tag_create(request: HttpRequest, payload: TagIn) -> Status[Tag]:
    ensure_can_write(request_user(request))
    tag = services.tag_create(name=payload.name, color=payload.color, actor=request_actor(request))
    return Status(201, tag)


@router.patch("/tags/{tag_id}", response=TagOut, summary="Rename or recolour a tag", tags=["tags"])
def tag_update(request: HttpRequest, tag_id: int, payload: TagPatchIn) -> Tag:
    ensure_admin(request_user(request))
    tag = selectors.tag_get(tag_id=tag_id)
    return services.tag_update(
        tag=tag, values=payload.dict(exclude_unset=True), actor=request_actor(request)
    )


@router.delete("/tags/{tag_id}", response={204: None}, summary="Delete a tag", tags=["tags"])
def tag_delete(request: HttpRequest, tag_id: int) -> Status[None]:
    ensure_admin(request_user(request))
    services.tag_delete(tag=selectors.tag_get(tag_id=tag_id), actor=request_actor(request))
    return Status(204, None)


@router.get(
    "/custom-fields",
    response=list[CustomFieldOut],
    summary="Custom field definitions",
    tags=["custom fields"],
)
def custom_field_list(
    request: HttpRequest, record_type: str | None = None
) -> list[CustomFieldDefinition]:
    return selectors.custom_field_list(record_type=record_type)


@router.post(
    "/custom-fields",
    response={201: CustomFieldOut},
    summary="Define a custom field (admins)",
    tags=["custom fields"],
)
def custom_field_create(
    request: HttpRequest, payload: CustomFieldIn
) -> Status[CustomFieldDefinition]:
    ensure_admin(request_user(request))
    definition = services.custom_field_create(values=payload.dict(), actor=request_actor(request))
    return Status(201, definition)


@router.patch(
    "/custom-fields/{definition_id}",
    response=CustomFieldOut,
    summary="Change a custom field (admins)",
    tags=["custom fields"],
)
def custom_field_update(
    request: HttpRequest, definition_id: int, payload: CustomFieldPatchIn
) -> CustomFieldDefinition:
    ensure_admin(request_user(request))
    definition = selectors.custom_field_get(definition_id=definition_id)
    return services.custom_field_update(
        definition=definition,
        values=payload.dict(exclude_unset=True),
        actor=request_actor(request),
    )


@router.delete(
    "/custom-fields/{definition_id}",
    response={204: None},
    summary="Delete a custom field (admins)",
    tags=["custom fields"],
)
def custom_field_delete(request: HttpRequest, definition_id: int) -> Status[None]:
    ensure_admin(request_user(request))
    definition = selectors.custom_field_get(definition_id=definition_id)
    services.custom_field_delete(definition=definition, actor=request_actor(request))
    return Status(204, None)
