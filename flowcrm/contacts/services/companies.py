"""Writes of companies: create, update (PATCH semantics), delete, tag and untag.

Same contract as the contact services: validate first, then the row and exactly one event in one
transaction; a rejected write raises ValidationFailed and leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from flowcrm.contacts.models import Company, CompanySize, Tag
from flowcrm.contacts.normalize import normalize_country, normalize_domain
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

COMPANY_FIELDS = frozenset(
    {"name", "domain", "industry", "size", "country", "owner", "external_id", "custom"}
)


def company_snapshot(company: Company) -> dict[str, Any]:
    return flatten(
        {
            "name": company.name,
            "domain": company.domain,
            "industry": company.industry,
            "size": company.size,
            "country": company.country,
            "owner": company.owner_id,
            "external_id": company.external_id,
            "custom": dict(company.custom),
        }
    )


def _apply(company: Company, values: Mapping[str, Any]) -> None:
    unknown = sorted(set(values) - COMPANY_FIELDS)
    if unknown:
        raise ValidationFailed(dict.fromkeys(unknown, "Unknown field."))
    errors: dict[str, str] = {}
    if "name" in values:
        company.name = clean_text(errors, "name", values["name"], max_length=200)
    if "industry" in values:
        company.industry = clean_text(errors, "industry", values["industry"], max_length=100)
    if "domain" in values:
        company.domain = clean_with(errors, "domain", values["domain"], normalize_domain) or ""
    if "size" in values:
        company.size = clean_choice(errors, "size", values["size"] or "", ["", *CompanySize.values])
    if "country" in values:
        company.country = clean_with(errors, "country", values["country"], normalize_country) or ""
    if "external_id" in values:
        external_id = clean_text(errors, "external_id", values["external_id"], max_length=100)
        company.external_id = external_id or None
    if "owner" in values:
        check_owner(errors, values["owner"])
        company.owner = values["owner"]
    if "custom" in values:
        company.custom = clean_custom(errors, "company", values["custom"], company.custom)
    if not company.name and "name" not in errors:
        errors["name"] = "A company needs a name."
    raise_if(errors)


def company_create(*, values: Mapping[str, Any], tags: Sequence[Tag] = (), actor: Actor) -> Company:
    """Create a company from ``values`` (see COMPANY_FIELDS); one ``company.created`` event."""
    company = Company()
    # custom is always validated on create, so required custom fields are enforced.
    _apply(company, {"custom": {}, **values})
    with transaction.atomic():
        save_unique(company, field="external_id", message=_duplicate(company), create=True)
        if tags:
            company.tags.add(*tags)
        record_event(
            type="company.created",
            subject=company,
            actor=actor,
            changes=created_changes(
                {**company_snapshot(company), "tags": sorted(tag.pk for tag in tags)}
            ),
        )
    return company


def company_update(*, company: Company, values: Mapping[str, Any], actor: Actor) -> Company:
    """Change the fields named in ``values``; one ``company.updated`` event with the fields
    that changed, none when nothing did. Raises ValidationFailed naming each bad field."""
    before = company_snapshot(company)
    original = {f.attname: getattr(company, f.attname) for f in Company._meta.concrete_fields}
    try:
        _apply(company, values)
    except ValidationFailed:
        for attname, value in original.items():
            setattr(company, attname, value)
        raise
    changes = snapshot_diff(before, company_snapshot(company))
    if not changes:
        return company
    company.updated_at = timezone.now()
    with transaction.atomic():
        save_unique(company, field="external_id", message=_duplicate(company), create=False)
        record_event(type="company.updated", subject=company, actor=actor, changes=changes)
    return company


def company_delete(*, company: Company, actor: Actor) -> None:
    """Delete the company; its contacts and deals keep existing without it.

    One ``company.deleted`` event carrying the name and domain it had. The contacts' ``company``
    link is cleared by the database (SET NULL) as part of the same delete, not as separate edits.
    """
    with transaction.atomic():
        company_id = company.pk
        data = {"name": company.name, "domain": company.domain}
        company.delete()
        record_event(
            type="company.deleted",
            subject_type="company",
            subject_id=company_id,
            actor=actor,
            data=data,
        )


def company_tag_add(*, company: Company, tag: Tag, actor: Actor) -> bool:
    """Tag the company; one ``company.tag_added`` event, or nothing when already tagged."""
    return record_retag(company, tag, add=True, actor=actor)


def company_tag_remove(*, company: Company, tag: Tag, actor: Actor) -> bool:
    """Untag the company; one ``company.tag_removed`` event, or nothing when not tagged."""
    return record_retag(company, tag, add=False, actor=actor)


def _duplicate(company: Company) -> str:
    return f"Another company already has the external id {company.external_id}."
