"""Validation and snapshot helpers shared by the contact and company services."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.core.actors import Actor
from flowcrm.core.custom_fields import validate_custom_values
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import json_value, record_event, subject_type_of


def clean_text(errors: dict[str, str], field: str, value: Any, *, max_length: int) -> str:
    """``value`` trimmed; records an error when it is not text or is too long."""
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = "Expected text."
        return ""
    text = value.strip()
    if len(text) > max_length:
        errors[field] = f"At most {max_length} characters."
    return text


def clean_choice(errors: dict[str, str], field: str, value: Any, choices: Iterable[str]) -> str:
    allowed = list(choices)
    if value not in allowed:
        errors[field] = f"{value!r} is not one of {', '.join(a for a in allowed if a)}."
        return ""
    return str(value)


def clean_with(
    errors: dict[str, str], field: str, value: Any, normalizer: Callable[[Any], Any]
) -> Any:
    try:
        return normalizer(value)
    except ValueError as error:
        errors[field] = str(error)
        return None


def check_owner(errors: dict[str, str], owner: User | None) -> None:
    """An owner must be an active user (an inactive one could never act on the record)."""
    if owner is not None and not owner.is_active:
        errors["owner"] = f"User {owner.pk} is not active."


def clean_custom(
    errors: dict[str, str],
    record_type: str,
    values: Mapping[str, Any] | None,
    existing: Mapping[str, Any],
) -> dict[str, Any]:
    if values is not None and not isinstance(values, Mapping):
        errors["custom"] = "Expected an object of custom field values."
        return dict(existing)
    try:
        return validate_custom_values(record_type, values, existing=existing)
    except ValidationFailed as failure:
        errors.update(failure.errors)
        return dict(existing)


def raise_if(errors: Mapping[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)


def flatten(values: Mapping[str, Any]) -> dict[str, Any]:
    """A field snapshot with ``custom`` spread into ``custom.<key>`` entries.

    Events then carry one before/after per custom field, so field history and flow triggers
    ("when custom.region changes") work on custom fields like on built-in ones.
    """
    flat: dict[str, Any] = {}
    for name, value in values.items():
        if name == "custom":
            for key, item in (value or {}).items():
                flat[f"custom.{key}"] = item
        else:
            flat[name] = value
    return flat


def snapshot_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Like ``core.events.diff`` but also reports keys that disappeared (a cleared custom field)."""
    changes: dict[str, Any] = {}
    for name in list(before) + [k for k in after if k not in before]:
        old, new = json_value(before.get(name)), json_value(after.get(name))
        if old != new:
            changes[name] = {"before": old, "after": new}
    return changes


def save_unique(record: models.Model, *, field: str, message: str, create: bool) -> None:
    """Save ``record``; a unique-constraint race becomes a ValidationFailed on ``field``.

    The savepoint keeps the caller's transaction usable, so the caller can still roll back
    cleanly (nothing of the write, and no event, is kept).
    """
    from django.db import transaction

    try:
        with transaction.atomic():
            record.save(force_insert=create)
    except IntegrityError as error:
        raise ValidationFailed({field: message}) from error


def record_retag(record: Contact | Company, tag: Tag, *, add: bool, actor: Actor) -> bool:
    """Add or remove ``tag`` on a contact or company: one ``<type>.tag_added`` /
    ``<type>.tag_removed`` event with the tag ids before and after. Returns False (and writes
    nothing) when the record already has (or lacks) the tag."""
    subject_type = subject_type_of(record)
    with transaction.atomic():
        before = sorted(record.tags.values_list("pk", flat=True))
        if (tag.pk in before) == add:
            return False
        after = sorted([*before, tag.pk]) if add else [pk for pk in before if pk != tag.pk]
        if add:
            record.tags.add(tag)
        else:
            record.tags.remove(tag)
        type(record).objects.filter(pk=record.pk).update(updated_at=timezone.now())
        record_event(
            type=f"{subject_type}.tag_added" if add else f"{subject_type}.tag_removed",
            subject=record,
            actor=actor,
            changes={"tags": {"before": before, "after": after}},
            data={"tag_id": tag.pk, "tag": tag.name},
        )
    return True
