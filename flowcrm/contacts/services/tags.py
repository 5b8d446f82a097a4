"""Writes of tags (the shared vocabulary attached to contacts and companies)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from flowcrm.contacts.models import Tag
from flowcrm.contacts.services.common import save_unique, snapshot_diff
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import created_changes, record_event

_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _clean(values: Mapping[str, Any], tag: Tag) -> dict[str, Any]:
    unknown = sorted(set(values) - {"name", "color"})
    errors: dict[str, str] = dict.fromkeys(unknown, "Unknown field.")
    cleaned: dict[str, Any] = {}
    if "name" in values:
        name = values["name"].strip() if isinstance(values["name"], str) else ""
        if not name or len(name) > 50:
            errors["name"] = "A tag needs a name of 1 to 50 characters."
        elif Tag.objects.filter(name__iexact=name).exclude(pk=tag.pk).exists():
            errors["name"] = f"A tag named {name!r} already exists."
        cleaned["name"] = name
    if "color" in values:
        color = values["color"]
        if not isinstance(color, str) or not _COLOR.match(color):
            errors["color"] = "Expected a colour as #rrggbb."
        else:
            cleaned["color"] = color.lower()
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def tag_create(*, name: str, color: str | None = None, actor: Actor) -> Tag:
    """Create a tag (names are unique, case-insensitively); one ``tag.created`` event."""
    tag = Tag()
    values: dict[str, Any] = {"name": name} if color is None else {"name": name, "color": color}
    for field, value in _clean(values, tag).items():
        setattr(tag, field, value)
    with transaction.atomic():
        save_unique(
            tag, field="name", message=f"A tag named {tag.name!r} already exists.", create=True
        )
        record_event(
            type="tag.created",
            subject=tag,
            actor=actor,
            changes=created_changes({"name": tag.name, "color": tag.color}),
        )
    return tag


def tag_update(*, tag: Tag, values: Mapping[str, Any], actor: Actor) -> Tag:
    """Rename or recolour a tag; one ``tag.updated`` event, none when nothing changed."""
    cleaned = _clean(values, tag)
    before = {"name": tag.name, "color": tag.color}
    after = {**before, **cleaned}
    changes = snapshot_diff(before, after)
    if not changes:
        return tag
    with transaction.atomic():
        for field, value in cleaned.items():
            setattr(tag, field, value)
        save_unique(
            tag, field="name", message=f"A tag named {tag.name!r} already exists.", create=False
        )
        record_event(type="tag.updated", subject=tag, actor=actor, changes=changes)
    return tag


def tag_delete(*, tag: Tag, actor: Actor) -> None:
    """Delete a tag (it disappears from every record); one ``tag.deleted`` event."""
    with transaction.atomic():
        tag_id, name = tag.pk, tag.name
        tag.delete()
        record_event(
            type="tag.deleted",
            subject_type="tag",
            subject_id=tag_id,
            actor=actor,
            data={"name": name},
        )
