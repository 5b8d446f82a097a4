"""Merging duplicate contacts or companies into one surviving record.

The survivor takes, per field, the most recent non-empty value among the merged records (by
``updated_at``), unless the caller picks the record a field comes from. Activities, tasks,
deals, tags (and anything registered with :func:`register_relink_hook`, such as flow runs)
move to the survivor; the other records stay as tombstones whose ``merged_into`` points at it,
so their old ids keep resolving (:func:`resolve_merged`). The whole merge is ONE event,
``contact.merged`` / ``company.merged``, carrying the full before state of every record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from flowcrm.activities.models import Activity, Task
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.actors import Actor
from flowcrm.core.errors import NotFound, ValidationFailed
from flowcrm.core.events import diff, json_value, record_event
from flowcrm.sales.models import Deal

CONTACT_FIELDS = (
    "first_name", "last_name", "email", "phone", "job_title", "company", "lifecycle_stage",
    "lead_status", "source", "score", "country", "unsubscribed", "external_id", "owner",
)  # fmt: skip
COMPANY_FIELDS = ("name", "domain", "industry", "size", "country", "external_id", "owner")
_EMPTY: tuple[object, ...] = (None, "", [], {})

# (record_type, survivor_id, merged_ids) -> number of rows moved. Apps whose rows point at
# contacts or companies without a foreign key this module knows (flow runs, …) register one.
RelinkHook = Callable[[str, int, list[int]], int]
_relink_hooks: dict[str, RelinkHook] = {}


def register_relink_hook(name: str, hook: RelinkHook) -> None:
    """Call ``hook`` in every merge's transaction; its count is reported as ``relinked[name]``."""
    _relink_hooks[name] = hook


def resolve_merged[ModelT: Contact | Company](model: type[ModelT], pk: int) -> int | None:
    """The live record a tombstone ``pk`` was merged into (None if ``pk`` is live or unknown)."""
    target = model._default_manager.filter(pk=pk).values_list("merged_into_id", flat=True).first()
    seen = {pk}
    while target is not None and target not in seen:
        seen.add(target)
        following = (
            model._default_manager.filter(pk=target)
            .values_list("merged_into_id", flat=True)
            .first()
        )
        if following is None:
            return target
        target = following
    return None


def snapshot(record: Contact | Company) -> dict[str, Any]:
    """Every stored field of ``record`` (ids for relations), plus its tag names."""
    state = {f.name: json_value(getattr(record, f.attname)) for f in record._meta.concrete_fields}
    state["tags"] = sorted(record.tags.values_list("name", flat=True))
    return state


def contact_merge(
    *,
    survivor: Contact,
    others: Sequence[Contact],
    field_sources: Mapping[str, int] | None = None,
    actor: Actor,
) -> Contact:
    """Merge ``others`` into ``survivor``; returns the survivor. Raises ValidationFailed."""
    return _merge(survivor, others, CONTACT_FIELDS, field_sources or {}, actor)  # type: ignore[return-value]  # same model in, same out


def company_merge(
    *,
    survivor: Company,
    others: Sequence[Company],
    field_sources: Mapping[str, int] | None = None,
    actor: Actor,
) -> Company:
    """Merge ``others`` into ``survivor``; returns the survivor. Raises ValidationFailed."""
    return _merge(survivor, others, COMPANY_FIELDS, field_sources or {}, actor)  # type: ignore[return-value]  # same model in, same out


def merge_records(
    *,
    record_type: str,
    ids: Sequence[int],
    actor: Actor,
    survivor_id: int | None = None,
    field_sources: Mapping[str, int] | None = None,
) -> Contact | Company:
    """Merge the live records ``ids``; the survivor is ``survivor_id`` or the latest updated."""
    model: type[Contact] | type[Company] = Contact if record_type == "contact" else Company
    unique_ids = list(dict.fromkeys(ids))
    if len(unique_ids) < 2:
        raise ValidationFailed({"ids": "Give at least two different records to merge."})
    records: list[Contact | Company] = list(
        model._default_manager.filter(pk__in=unique_ids).order_by("-updated_at", "-id")
    )
    missing = sorted(set(unique_ids) - {r.pk for r in records})
    if missing:
        raise NotFound(f"No {record_type} with id {missing[0]}.")
    if survivor_id is None:
        survivor_id = records[0].pk
    survivor = next((r for r in records if r.pk == survivor_id), None)
    if survivor is None:
        raise ValidationFailed({"survivor_id": "The survivor must be one of the merged records."})
    others = [r for r in records if r.pk != survivor_id]
    fields = CONTACT_FIELDS if isinstance(survivor, Contact) else COMPANY_FIELDS
    return _merge(survivor, others, fields, field_sources or {}, actor)


def _merge(
    survivor: Contact | Company,
    others: Sequence[Contact | Company],
    fields: Sequence[str],
    field_sources: Mapping[str, int],
    actor: Actor,
) -> Contact | Company:
    records = [survivor, *others]
    by_id = {r.pk: r for r in records}
    errors: dict[str, str] = {}
    for record in records:
        if record.merged_into_id is not None:
            errors["ids"] = f"Record {record.pk} was already merged into {record.merged_into_id}."
    for name, source_id in field_sources.items():
        if name not in fields and name != "custom":
            errors[f"fields.{name}"] = f"{name!r} cannot be chosen; use one of {', '.join(fields)}."
        elif source_id not in by_id:
            errors[f"fields.{name}"] = f"Record {source_id} is not among the merged records."
    if len(by_id) != len(records):
        errors["ids"] = "A record cannot be merged with itself."
    if errors:
        raise ValidationFailed(errors)
    model = type(survivor)
    subject = model._meta.model_name or "contact"
    with transaction.atomic():
        locked = {r.pk: r for r in model._default_manager.select_for_update().filter(pk__in=by_id)}
        records = [locked[r.pk] for r in records]
        survivor, others = records[0], records[1:]
        before = {r.pk: snapshot(r) for r in records}
        newest_first = sorted(records, key=lambda r: (r.updated_at, r.pk), reverse=True)
        survivor_before = {f: getattr(survivor, _attname(model, f)) for f in (*fields, "custom")}
        for name in fields:
            attname = _attname(model, name)
            source = by_id_value(field_sources, name, locked)
            value = (
                getattr(source, attname)
                if source is not None
                else next(
                    (
                        getattr(r, attname)
                        for r in newest_first
                        if getattr(r, attname) not in _EMPTY
                    ),
                    getattr(survivor, attname),
                )
            )
            setattr(survivor, attname, value)
        survivor.custom = _merged_custom(newest_first, field_sources, locked)
        if isinstance(survivor, Contact):
            _collect_extra(survivor, others)  # type: ignore[arg-type]  # contacts only here
        merged_ids = [r.pk for r in others]
        now = timezone.now()
        # Tombstones first: the survivor may take an e-mail or external id that is unique
        # among live records only.
        model._default_manager.filter(pk__in=merged_ids).update(
            merged_into=survivor, updated_at=now
        )
        model._default_manager.filter(merged_into__in=merged_ids).update(merged_into=survivor)
        survivor.updated_at = now
        survivor.save()
        relinked = _relink(survivor, merged_ids)
        for name, hook in _relink_hooks.items():
            relinked[name] = hook(subject, survivor.pk, merged_ids)
        survivor_after = {f: getattr(survivor, _attname(model, f)) for f in (*fields, "custom")}
        record_event(
            type=f"{subject}.merged",
            subject=survivor,
            actor=actor,
            changes=diff(survivor_before, survivor_after),
            data={"merged_ids": merged_ids, "before": before, "relinked": relinked},
        )
    return survivor


def by_id_value(
    field_sources: Mapping[str, int], name: str, records: Mapping[int, Contact | Company]
) -> Contact | Company | None:
    source_id = field_sources.get(name)
    return records.get(source_id) if source_id is not None else None


def _attname(model: type[models.Model], name: str) -> str:
    return model._meta.get_field(name).attname  # type: ignore[union-attr]  # concrete fields only


def _merged_custom(
    newest_first: list[Contact | Company],
    field_sources: Mapping[str, int],
    records: Mapping[int, Contact | Company],
) -> dict[str, Any]:
    chosen = by_id_value(field_sources, "custom", records)
    if chosen is not None:
        return dict(chosen.custom)
    merged: dict[str, Any] = {}
    for record in reversed(newest_first):  # oldest first, so newer non-empty values win
        for key, value in (record.custom or {}).items():
            if value not in _EMPTY:
                merged[key] = value
    return merged


def _collect_extra(survivor: Contact, others: Sequence[Contact]) -> None:
    emails = list(survivor.extra_emails or [])
    phones = list(survivor.extra_phones or [])
    for record in others:
        for email in [record.email, *(record.extra_emails or [])]:
            if email and email != survivor.email and email not in emails:
                emails.append(email)
        for phone in [record.phone, *(record.extra_phones or [])]:
            if phone and phone != survivor.phone and phone not in phones:
                phones.append(phone)
    survivor.extra_emails = emails
    survivor.extra_phones = phones


def _move_m2m(through: type[models.Model], owner: str, survivor_id: int, merged: list[int]) -> int:
    """Point rows of an M2M table at the survivor, dropping those it already has."""
    other = next(
        f.attname
        for f in through._meta.concrete_fields
        if f.is_relation and f.attname != f"{owner}_id"
    )
    manager = through._default_manager
    already = set(manager.filter(**{f"{owner}_id": survivor_id}).values_list(other, flat=True))
    manager.filter(**{f"{owner}_id__in": merged, f"{other}__in": already}).delete()
    return manager.filter(**{f"{owner}_id__in": merged}).update(**{f"{owner}_id": survivor_id})


def _relink(survivor: Contact | Company, merged: list[int]) -> dict[str, int]:
    if isinstance(survivor, Contact):
        return {
            "activities": Activity.objects.filter(contact_id__in=merged).update(contact=survivor),
            "activity_participants": _move_m2m(
                Activity.participants.through, "contact", survivor.pk, merged
            ),
            "tasks": Task.objects.filter(contact_id__in=merged).update(contact=survivor),
            "deals": _move_m2m(Deal.contacts.through, "contact", survivor.pk, merged),
            "tags": _move_m2m(Contact.tags.through, "contact", survivor.pk, merged),
        }
    return {
        "contacts": Contact.objects.filter(company_id__in=merged).update(company=survivor),
        "deals": Deal.objects.filter(company_id__in=merged).update(company=survivor),
        "activities": Activity.objects.filter(company_id__in=merged).update(company=survivor),
        "tasks": Task.objects.filter(company_id__in=merged).update(company=survivor),
        "tags": _move_m2m(Company.tags.through, "company", survivor.pk, merged),
    }
