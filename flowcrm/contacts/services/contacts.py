"""Writes of contacts: create, update (PATCH semantics), delete, tag and untag.

Each service validates everything first, then writes the row and exactly one event in one
transaction. A rejected write raises ValidationFailed (field → reason) and leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from flowcrm.contacts.models import Company, Contact, LeadStatus, LifecycleStage, Tag
from flowcrm.contacts.normalize import (
    normalize_country,
    normalize_email,
    normalize_phone,
)
from flowcrm.contacts.services.common import (
    check_owner,
    clean_choice,
    clean_custom,
    clean_text,
    clean_with,
    flatten,
    raise_if,
    record_retag,
    save_unique,
    snapshot_diff,
)
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import created_changes, record_event

# Fields a caller may set; relations are passed as objects (the API resolves ids first).
CONTACT_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "extra_emails",
        "phone",
        "extra_phones",
        "job_title",
        "company",
        "owner",
        "lifecycle_stage",
        "lead_status",
        "source",
        "score",
        "country",
        "unsubscribed",
        "external_id",
        "custom",
    }
)
_TEXT_LIMITS = {"first_name": 100, "last_name": 100, "job_title": 150, "source": 50}


def contact_snapshot(contact: Contact) -> dict[str, Any]:
    """The contact's settable fields (relations as ids), custom values spread out."""
    return flatten(
        {
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "extra_emails": list(contact.extra_emails),
            "phone": contact.phone,
            "extra_phones": list(contact.extra_phones),
            "job_title": contact.job_title,
            "company": contact.company_id,
            "owner": contact.owner_id,
            "lifecycle_stage": contact.lifecycle_stage,
            "lead_status": contact.lead_status,
            "source": contact.source,
            "score": contact.score,
            "country": contact.country,
            "unsubscribed": contact.unsubscribed,
            "external_id": contact.external_id,
            "custom": dict(contact.custom),
        }
    )


def _apply(contact: Contact, values: Mapping[str, Any]) -> None:
    """Validate ``values`` and set them on ``contact`` (unsaved); raise on any bad field."""
    unknown = sorted(set(values) - CONTACT_FIELDS)
    if unknown:
        raise ValidationFailed(dict.fromkeys(unknown, "Unknown field."))
    errors: dict[str, str] = {}
    for name, limit in _TEXT_LIMITS.items():
        if name in values:
            setattr(contact, name, clean_text(errors, name, values[name], max_length=limit))
    if "country" in values:
        contact.country = clean_with(errors, "country", values["country"], normalize_country) or ""
    if "email" in values:
        contact.email = clean_with(errors, "email", values["email"], normalize_email)
    if "extra_emails" in values:
        contact.extra_emails = _clean_list(
            errors, "extra_emails", values["extra_emails"], email=True
        )
    # The phone depends on the country (national numbers), so it is cleaned after it.
    if "phone" in values or ("country" in values and contact.phone):
        raw_phone = values.get("phone", contact.phone)
        contact.phone = (
            clean_with(
                errors, "phone", raw_phone, lambda v: normalize_phone(v, country=contact.country)
            )
            or ""
        )
    if "extra_phones" in values:
        contact.extra_phones = _clean_list(
            errors, "extra_phones", values["extra_phones"], country=contact.country
        )
    if "lifecycle_stage" in values:
        contact.lifecycle_stage = clean_choice(
            errors, "lifecycle_stage", values["lifecycle_stage"], LifecycleStage.values
        )
    if "lead_status" in values:
        contact.lead_status = clean_choice(
            errors, "lead_status", values["lead_status"] or "", ["", *LeadStatus.values]
        )
    if "score" in values:
        score = values["score"]
        if isinstance(score, bool) or not isinstance(score, int):
            errors["score"] = "Expected a whole number."
        else:
            contact.score = score
    if "unsubscribed" in values:
        if not isinstance(values["unsubscribed"], bool):
            errors["unsubscribed"] = "Expected true or false."
        else:
            contact.unsubscribed = values["unsubscribed"]
    if "external_id" in values:
        external_id = clean_text(errors, "external_id", values["external_id"], max_length=100)
        contact.external_id = external_id or None
    if "company" in values:
        company = values["company"]
        if company is not None and (not isinstance(company, Company) or company.merged_into_id):
            errors["company"] = "Unknown or merged company."
        else:
            contact.company = company
    if "owner" in values:
        owner = values["owner"]
        check_owner(errors, owner)
        contact.owner = owner
    if "custom" in values:
        contact.custom = clean_custom(errors, "contact", values["custom"], contact.custom)
    if contact.external_id and "external_id" not in errors and _taken(contact, "external_id"):
        errors["external_id"] = (
            f"Another contact already has the external id {contact.external_id}."
        )
    if contact.email and "email" not in errors and _taken(contact, "email"):
        errors["email"] = f"Another contact already has the e-mail {contact.email}."
    raise_if(errors)


def _clean_list(
    errors: dict[str, str], field: str, raw: Any, *, email: bool = False, country: str = ""
) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        errors[field] = "Expected a list."
        return []
    cleaned: list[str] = []
    for index, item in enumerate(raw):
        try:
            value = (
                normalize_email(str(item)) if email else normalize_phone(str(item), country=country)
            )
        except ValueError as error:
            errors[f"{field}.{index}"] = str(error)
            continue
        if value and value not in cleaned:
            cleaned.append(value)
    return cleaned


def _taken(contact: Contact, field: str) -> bool:
    others = Contact.objects.filter(**{field: getattr(contact, field)}, merged_into__isnull=True)
    if contact.pk is not None:
        others = others.exclude(pk=contact.pk)
    return others.exists()


def contact_create(*, values: Mapping[str, Any], tags: Sequence[Tag] = (), actor: Actor) -> Contact:
    """Create a contact from ``values`` (see CONTACT_FIELDS) with ``tags``.

    Writes the row, its tags and one ``contact.created`` event whose changes list every non-empty
    field (``tags`` as ids). Raises ValidationFailed naming each bad field; nothing is written then.
    """
    contact = Contact()
    # custom is always validated on create, so required custom fields are enforced.
    _apply(contact, {"custom": {}, **values})
    if not (contact.first_name or contact.last_name or contact.email):
        raise ValidationFailed({"last_name": "A contact needs a name or an e-mail address."})
    with transaction.atomic():
        save_unique(contact, field="email", message=_duplicate(contact), create=True)
        if tags:
            contact.tags.add(*tags)
        record_event(
            type="contact.created",
            subject=contact,
            actor=actor,
            changes=created_changes(
                {**contact_snapshot(contact), "tags": sorted(tag.pk for tag in tags)}
            ),
        )
    return contact


def contact_update(*, contact: Contact, values: Mapping[str, Any], actor: Actor) -> Contact:
    """Change the fields named in ``values`` (PATCH semantics; ``custom`` merges key by key,
    a ``None`` custom value clears that key).

    Writes one ``contact.updated`` event with before/after of the fields that really changed;
    when nothing changed, writes nothing and returns the contact as it was.
    Raises ValidationFailed naming each bad field; the row is left as it was in the database.
    """
    before = contact_snapshot(contact)
    original = {
        field.attname: getattr(contact, field.attname) for field in Contact._meta.concrete_fields
    }
    try:
        _apply(contact, values)
        if not (contact.first_name or contact.last_name or contact.email):
            raise ValidationFailed({"last_name": "A contact needs a name or an e-mail address."})
    except ValidationFailed:
        for attname, value in original.items():
            setattr(contact, attname, value)
        raise
    changes = snapshot_diff(before, contact_snapshot(contact))
    if not changes:
        return contact
    contact.updated_at = timezone.now()
    with transaction.atomic():
        save_unique(contact, field="email", message=_duplicate(contact), create=False)
        record_event(type="contact.updated", subject=contact, actor=actor, changes=changes)
    return contact


def contact_delete(*, contact: Contact, actor: Actor) -> None:
    """Delete the contact (its tasks go with it; deals and activities lose the link).

    Writes one ``contact.deleted`` event carrying the name and e-mail it had.
    """
    with transaction.atomic():
        contact_id = contact.pk
        data = {"name": contact.full_name, "email": contact.email}
        contact.delete()
        record_event(
            type="contact.deleted",
            subject_type="contact",
            subject_id=contact_id,
            actor=actor,
            data=data,
        )


def contact_tag_add(*, contact: Contact, tag: Tag, actor: Actor) -> bool:
    """Tag the contact; one ``contact.tag_added`` event. Returns False (and writes nothing)
    when the contact already had the tag."""
    return record_retag(contact, tag, add=True, actor=actor)


def contact_tag_remove(*, contact: Contact, tag: Tag, actor: Actor) -> bool:
    """Untag the contact; one ``contact.tag_removed`` event. Returns False (and writes
    nothing) when the contact did not have the tag."""
    return record_retag(contact, tag, add=False, actor=actor)


def _duplicate(contact: Contact) -> str:
    return f"Another contact already has the e-mail {contact.email}."


__all__ = [
    "CONTACT_FIELDS",
    "contact_create",
    "contact_delete",
    "contact_snapshot",
    "contact_tag_add",
    "contact_tag_remove",
    "contact_update",
]
