"""Writes of custom field definitions (admins only: callers check ``ensure_admin``).

A definition's record type, key and type are fixed once created: stored values were cleaned for
that type, and filters, flows and imports refer to the key. Label, choices, help text, position
and the required/unique flags can change. Deleting a definition leaves stored values in place
(they are no longer shown, filtered on or accepted); re-creating the key brings them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from flowcrm.contacts.services.common import save_unique, snapshot_diff
from flowcrm.core.actors import Actor
from flowcrm.core.custom_fields import validate_definition_key
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import created_changes, record_event
from flowcrm.core.models import CustomFieldDefinition, CustomFieldType, RecordType

_FIXED = ("record_type", "key", "field_type")
_EDITABLE = ("label", "choices", "required", "is_unique", "help_text", "position")
_WITH_CHOICES = {CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE}


def definition_snapshot(definition: CustomFieldDefinition) -> dict[str, Any]:
    return {name: getattr(definition, name) for name in (*_FIXED, *_EDITABLE)}


def _clean_editable(
    errors: dict[str, str], definition: CustomFieldDefinition, values: Mapping[str, Any]
) -> None:
    if "label" in values:
        label = values["label"]
        if not isinstance(label, str) or not label.strip() or len(label.strip()) > 100:
            errors["label"] = "A label of 1 to 100 characters is required."
        else:
            definition.label = label.strip()
    if "help_text" in values:
        help_text = values["help_text"] or ""
        if not isinstance(help_text, str) or len(help_text) > 200:
            errors["help_text"] = "At most 200 characters of text."
        else:
            definition.help_text = help_text.strip()
    for flag in ("required", "is_unique"):
        if flag in values:
            if not isinstance(values[flag], bool):
                errors[flag] = "Expected true or false."
            else:
                setattr(definition, flag, values[flag])
    if "position" in values:
        position = values["position"]
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            errors["position"] = "Expected a whole number ≥ 0."
        else:
            definition.position = position
    if "choices" in values:
        choices = values["choices"] or []
        if not isinstance(choices, list) or not all(
            isinstance(c, str) and c.strip() for c in choices
        ):
            errors["choices"] = "Expected a list of non-empty texts."
        elif len({c.strip() for c in choices}) != len(choices):
            errors["choices"] = "Choices must be distinct."
        else:
            definition.choices = [c.strip() for c in choices]
    if (
        definition.field_type in _WITH_CHOICES
        and not definition.choices
        and "choices" not in errors
    ):
        errors["choices"] = "A choice field needs at least one choice."
    if (
        definition.field_type not in _WITH_CHOICES
        and definition.choices
        and "choices" not in errors
    ):
        errors["choices"] = "Only choice and multi-choice fields have choices."


def custom_field_create(*, values: Mapping[str, Any], actor: Actor) -> CustomFieldDefinition:
    """Define a custom field. ``values``: record_type, key, label, field_type and optionally
    choices, required, is_unique, help_text, position. One ``customfielddefinition.created``
    event. Raises ValidationFailed naming each bad field."""
    unknown = sorted(set(values) - {*_FIXED, *_EDITABLE})
    errors: dict[str, str] = dict.fromkeys(unknown, "Unknown field.")
    definition = CustomFieldDefinition()
    record_type, key, field_type = (values.get(name) for name in _FIXED)
    if record_type not in RecordType.values:
        errors["record_type"] = f"One of {', '.join(RecordType.values)}."
    if field_type not in CustomFieldType.values:
        errors["field_type"] = f"One of {', '.join(CustomFieldType.values)}."
    try:
        validate_definition_key(key if isinstance(key, str) else "")
    except ValidationFailed as failure:
        errors.update(failure.errors)
    definition.record_type, definition.key = str(record_type), str(key)
    definition.field_type = str(field_type)
    if (
        "key" not in errors
        and "record_type" not in errors
        and CustomFieldDefinition.objects.filter(record_type=record_type, key=key).exists()
    ):
        errors["key"] = f"{record_type} already has a custom field {key!r}."
    _clean_editable(errors, definition, {"label": values.get("label"), **values})
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        save_unique(definition, field="key", message="This key is already taken.", create=True)
        record_event(
            type="customfielddefinition.created",
            subject=definition,
            actor=actor,
            changes=created_changes(definition_snapshot(definition)),
        )
    return definition


def custom_field_update(
    *, definition: CustomFieldDefinition, values: Mapping[str, Any], actor: Actor
) -> CustomFieldDefinition:
    """Change a definition's label, choices, help text, position or flags (PATCH semantics).
    One ``customfielddefinition.updated`` event, none when nothing changed."""
    errors: dict[str, str] = {}
    for name in sorted(set(values) - set(_EDITABLE)):
        errors[name] = (
            "Cannot change once the field exists." if name in _FIXED else "Unknown field."
        )
    before = definition_snapshot(definition)
    _clean_editable(errors, definition, values)
    if errors:
        definition.refresh_from_db()
        raise ValidationFailed(errors)
    changes = snapshot_diff(before, definition_snapshot(definition))
    if not changes:
        return definition
    with transaction.atomic():
        definition.save()
        record_event(
            type="customfielddefinition.updated", subject=definition, actor=actor, changes=changes
        )
    return definition


def custom_field_delete(*, definition: CustomFieldDefinition, actor: Actor) -> None:
    """Delete a definition; one ``customfielddefinition.deleted`` event."""
    with transaction.atomic():
        definition_id = definition.pk
        data = {"record_type": definition.record_type, "key": definition.key}
        definition.delete()
        record_event(
            type="customfielddefinition.deleted",
            subject_type="customfielddefinition",
            subject_id=definition_id,
            actor=actor,
            data=data,
        )
