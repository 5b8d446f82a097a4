"""Bulk creation of companies and contacts, with one ``*.created`` event per record.

The paths for imports, demo data and benchmarks: rows are validated and normalised like the
single-record services do (e-mail, phone, domain, country, choices, custom fields), written with
multi-row INSERTs (``core.bulk_insert``) in batches, and each batch's events are appended with
``core.bulk_insert.append_events`` in the same transaction. Events may be back-dated: a row's
``created_at`` is also its event's ``occurred_at``.

Transactions: rows are consumed in batches of ``batch_size``; each batch is validated completely
and then written with its events in one transaction. A batch with a bad row raises
ValidationFailed (keys ``rows.<index>.<field>``, the index counting from 0 over all rows) and
writes nothing of that batch; earlier batches stay written. Wrap the call in
``transaction.atomic()`` to make the whole call all-or-nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from itertools import batched
from typing import Any

from django.db import transaction
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Company, CompanySize, Contact, LeadStatus, LifecycleStage, Tag
from flowcrm.contacts.normalize import (
    normalize_country,
    normalize_domain,
    normalize_email,
    normalize_phone,
)
from flowcrm.core.actors import Actor
from flowcrm.core.bulk_insert import append_events, creation_changes, event_row, insert_rows
from flowcrm.core.custom_fields import definitions_for, validate_custom_values
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import CustomFieldDefinition

DEFAULT_BATCH_SIZE = 5000
MAX_REPORTED_ERRORS = 50

COMPANY_BULK_FIELDS = frozenset(
    {"name", "domain", "industry", "size", "country", "owner_id", "external_id", "custom"}
    | {"created_at"}
)
CONTACT_BULK_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "extra_emails",
        "phone",
        "extra_phones",
        "job_title",
        "company_id",
        "owner_id",
        "lifecycle_stage",
        "lead_status",
        "source",
        "score",
        "country",
        "unsubscribed",
        "external_id",
        "custom",
        "tag_ids",
        "created_at",
    }
)
# Choice lists computed once: the enums rebuild them on every access.
_SIZES = ["", *CompanySize.values]
_LIFECYCLE_STAGES = list(LifecycleStage.values)
_LEAD_STATUSES = ["", *LeadStatus.values]
_TEXT_LIMITS = {
    "name": 200,
    "industry": 100,
    "first_name": 100,
    "last_name": 100,
    "job_title": 150,
    "source": 50,
    "external_id": 100,
}
# Plain lower-case ASCII addresses that Django's validator certainly accepts; they skip it (it
# costs ~25 µs an address, a third of the per-row budget of a 1M-row import).
_SIMPLE_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def fast_normalize_email(raw: str | None) -> str | None:
    """:func:`normalize_email`, with a fast path for plain addresses (same result)."""
    if raw is None:
        return None
    email = raw.strip().lower()
    if len(email) <= 254 and _SIMPLE_EMAIL.fullmatch(email):
        return email
    return normalize_email(raw)


@lru_cache(maxsize=1 << 17)
def _cached_phone(raw: str, country: str) -> str | ValueError:
    # Parsing and validating a number costs ~150 µs here; real data repeats numbers (switchboards,
    # re-imports), so results, including rejections, are remembered by raw value.
    try:
        return normalize_phone(raw, country=country)
    except ValueError as error:
        return error


def cached_normalize_phone(raw: str | None, *, country: str = "") -> str:
    """:func:`normalize_phone`, remembering recent results (raises the same ValueError)."""
    if raw is None or not raw.strip():
        return ""
    result = _cached_phone(raw, country)
    if isinstance(result, ValueError):
        raise result
    return result


class _RowChecker:
    """Collects per-row errors of one call, keyed ``rows.<index>.<field>``."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed
        self.errors: dict[str, str] = {}

    def add(self, index: int, field: str, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors[f"rows.{index}.{field}"] = message

    def unknown_fields(self, index: int, row: Mapping[str, Any]) -> None:
        for field in row.keys() - self.allowed:
            self.add(index, field, "Unknown field.")

    def text(self, index: int, row: Mapping[str, Any], field: str) -> str:
        value = row.get(field)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.add(index, field, "Expected text.")
            return ""
        text = value.strip()
        if len(text) > _TEXT_LIMITS.get(field, 200):
            self.add(index, field, f"At most {_TEXT_LIMITS.get(field, 200)} characters.")
        return text

    def normalized(
        self, index: int, field: str, value: Any, normalizer: Callable[[Any], Any]
    ) -> Any:
        try:
            return normalizer(value)
        except ValueError as error:
            self.add(index, field, str(error))
            return None

    def choice(self, index: int, field: str, value: Any, allowed: Iterable[str]) -> str:
        options = list(allowed)
        if value not in options:
            self.add(index, field, f"{value!r} is not one of {', '.join(o for o in options if o)}.")
            return options[0]
        return str(value)

    def moment(self, index: int, row: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
        value = row.get("created_at")
        if value is None:
            return now
        if not isinstance(value, dt.datetime) or timezone.is_naive(value):
            self.add(index, "created_at", "Expected a time-zone aware datetime.")
            return now
        return value

    def custom(
        self,
        index: int,
        row: Mapping[str, Any],
        record_type: str,
        definitions: Mapping[str, CustomFieldDefinition],
        user_ids: set[int],
    ) -> dict[str, Any]:
        values = row.get("custom")
        if values is not None and not isinstance(values, Mapping):
            self.add(index, "custom", "Expected an object of custom field values.")
            return {}
        if not values and not any(d.required for d in definitions.values()):
            return {}
        try:
            return validate_custom_values(
                record_type, values, definitions=definitions, user_ids=user_ids
            )
        except ValidationFailed as failure:
            for key, message in failure.errors.items():
                self.add(index, key, message)
            return {}

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def _existing_ids(model: type[Any], ids: set[int]) -> set[int]:
    if not ids:
        return set()
    return set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))


def _check_unique(
    checker: _RowChecker,
    model: type[Any],
    field: str,
    rows_by_value: Mapping[str, int],
    seen: set[str],
    *,
    noun: str,
) -> None:
    """Flag values already used by a live record or by an earlier batch of this call."""
    for value, index in rows_by_value.items():
        if value in seen:
            checker.add(index, field, f"{value} appears twice in the rows.")
    if rows_by_value:
        taken = model.objects.filter(
            **{f"{field}__in": list(rows_by_value), "merged_into__isnull": True}
        ).values_list(field, flat=True)
        for value in taken:
            checker.add(rows_by_value[value], field, f"A {noun} with {field} {value} exists.")
    seen.update(rows_by_value)


def _note_unique(
    checker: _RowChecker, index: int, field: str, value: str | None, rows_by_value: dict[str, int]
) -> None:
    """Remember which row uses ``value``; flag it when an earlier row of the batch does too."""
    if not value:
        return
    if value in rows_by_value:
        checker.add(index, field, f"{value} appears twice in the rows.")
    rows_by_value[value] = index


COMPANY_COLUMNS = (
    "name",
    "domain",
    "industry",
    "size",
    "country",
    "owner_id",
    "external_id",
    "custom",
    "merged_into_id",
    "created_at",
    "updated_at",
)
CONTACT_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "extra_emails",
    "phone",
    "extra_phones",
    "job_title",
    "company_id",
    "owner_id",
    "lifecycle_stage",
    "lead_status",
    "source",
    "score",
    "country",
    "unsubscribed",
    "external_id",
    "custom",
    "merged_into_id",
    "created_at",
    "updated_at",
)


def company_bulk_create(
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: Actor,
    notify: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[int]:
    """Create companies from ``rows``; one ``company.created`` event each. Returns the new ids.

    Row keys (all optional but ``name``): see ``COMPANY_BULK_FIELDS``; ``owner_id`` is a user id,
    ``domain`` is normalised to a bare lower-case host name, ``country`` to ISO alpha-2,
    ``created_at`` (aware datetime) back-dates the record and its event. ``notify=False`` keeps
    event subscribers (flows) from seeing the events. Raises ValidationFailed (module docstring).
    """
    definitions = definitions_for("company")
    user_ids = set(User.objects.values_list("pk", flat=True))
    seen_external_ids: set[str] = set()
    created: list[int] = []
    offset = 0
    for batch in batched(rows, batch_size):
        now = timezone.now()
        checker = _RowChecker(COMPANY_BULK_FIELDS)
        companies: list[dict[str, Any]] = []
        external_rows: dict[str, int] = {}
        for index, row in enumerate(batch, start=offset):
            checker.unknown_fields(index, row)
            name = checker.text(index, row, "name")
            if not name:
                checker.add(index, "name", "A company needs a name.")
            owner_id = row.get("owner_id")
            if owner_id is not None and owner_id not in user_ids:
                checker.add(index, "owner_id", f"User {owner_id} does not exist.")
            moment = checker.moment(index, row, now)
            external_id = checker.text(index, row, "external_id") or None
            _note_unique(checker, index, "external_id", external_id, external_rows)
            domain = checker.normalized(index, "domain", row.get("domain"), normalize_domain)
            country = checker.normalized(index, "country", row.get("country"), normalize_country)
            companies.append(
                {
                    "name": name,
                    "domain": domain or "",
                    "industry": checker.text(index, row, "industry"),
                    "size": checker.choice(index, "size", row.get("size") or "", _SIZES),
                    "country": country or "",
                    "owner_id": owner_id,
                    "external_id": external_id,
                    "custom": checker.custom(index, row, "company", definitions, user_ids),
                    "merged_into_id": None,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
        offset += len(batch)
        _check_unique(
            checker, Company, "external_id", external_rows, seen_external_ids, noun="company"
        )
        checker.raise_if_any()
        with transaction.atomic():
            ids = insert_rows(Company, COMPANY_COLUMNS, companies)
            append_events(
                [
                    event_row(
                        type="company.created",
                        subject_type="company",
                        subject_id=pk,
                        actor=actor,
                        changes=creation_changes(_company_values(company)),
                        occurred_at=company["created_at"],
                    )
                    for pk, company in zip(ids, companies, strict=True)
                ],
                notify=notify,
            )
        created.extend(ids)
    return created


def _company_values(company: Mapping[str, Any]) -> dict[str, Any]:
    """The event-visible fields, as the company services record them (custom spread out)."""
    values = {
        "name": company["name"],
        "domain": company["domain"],
        "industry": company["industry"],
        "size": company["size"],
        "country": company["country"],
        "owner": company["owner_id"],
        "external_id": company["external_id"],
    }
    values.update({f"custom.{key}": value for key, value in company["custom"].items()})
    return values


def contact_bulk_create(
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: Actor,
    notify: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> list[int]:
    """Create contacts from ``rows``; one ``contact.created`` event each. Returns the new ids.

    Row keys: see ``CONTACT_BULK_FIELDS``; ``company_id``/``owner_id`` are ids, ``tag_ids`` a
    list of tag ids, ``created_at`` (aware datetime) back-dates the record and its event. E-mail
    is trimmed and lower-cased and must be unique among live contacts and within the call;
    phones become E.164 (a national number uses the row's ``country``). ``notify=False`` keeps
    event subscribers (flows) from seeing the events. Raises ValidationFailed (module docstring).
    """
    definitions = definitions_for("contact")
    user_ids = set(User.objects.values_list("pk", flat=True))
    tag_ids = set(Tag.objects.values_list("pk", flat=True))
    seen_emails: set[str] = set()
    seen_external_ids: set[str] = set()
    created: list[int] = []
    offset = 0
    for batch in batched(rows, batch_size):
        now = timezone.now()
        checker = _RowChecker(CONTACT_BULK_FIELDS)
        contacts: list[dict[str, Any]] = []
        tags_of: list[list[int]] = []
        email_rows: dict[str, int] = {}
        external_rows: dict[str, int] = {}
        company_rows: dict[int, int] = {}
        for index, row in enumerate(batch, start=offset):
            contact, tags = _contact_from_row(
                checker, index, row, now=now, definitions=definitions, user_ids=user_ids
            )
            for tag_id in tags:
                if tag_id not in tag_ids:
                    checker.add(index, "tag_ids", f"Tag {tag_id} does not exist.")
            _note_unique(checker, index, "email", contact["email"], email_rows)
            _note_unique(checker, index, "external_id", contact["external_id"], external_rows)
            if contact["company_id"] is not None:
                company_rows.setdefault(contact["company_id"], index)
            contacts.append(contact)
            tags_of.append(tags)
        offset += len(batch)
        for missing in sorted(company_rows.keys() - _existing_ids(Company, set(company_rows))):
            checker.add(company_rows[missing], "company_id", f"Company {missing} does not exist.")
        _check_unique(checker, Contact, "email", email_rows, seen_emails, noun="contact")
        _check_unique(
            checker, Contact, "external_id", external_rows, seen_external_ids, noun="contact"
        )
        checker.raise_if_any()
        with transaction.atomic():
            ids = insert_rows(Contact, CONTACT_COLUMNS, contacts)
            links = [
                Contact.tags.through(contact_id=pk, tag_id=tag_id)
                for pk, tags in zip(ids, tags_of, strict=True)
                for tag_id in tags
            ]
            if links:
                Contact.tags.through.objects.bulk_create(links, batch_size=batch_size)
            append_events(
                [
                    event_row(
                        type="contact.created",
                        subject_type="contact",
                        subject_id=pk,
                        actor=actor,
                        changes=creation_changes({**_contact_values(contact), "tags": tags}),
                        occurred_at=contact["created_at"],
                    )
                    for pk, contact, tags in zip(ids, contacts, tags_of, strict=True)
                ],
                notify=notify,
            )
        created.extend(ids)
    return created


def _contact_from_row(
    checker: _RowChecker,
    index: int,
    row: Mapping[str, Any],
    *,
    now: dt.datetime,
    definitions: Mapping[str, CustomFieldDefinition],
    user_ids: set[int],
) -> tuple[dict[str, Any], list[int]]:
    checker.unknown_fields(index, row)
    country = checker.normalized(index, "country", row.get("country"), normalize_country) or ""

    def phone(value: Any) -> str:
        return cached_normalize_phone(value, country=country)

    email = checker.normalized(index, "email", row.get("email"), fast_normalize_email)
    first_name = checker.text(index, row, "first_name")
    last_name = checker.text(index, row, "last_name")
    if not (first_name or last_name or email):
        checker.add(index, "last_name", "A contact needs a name or an e-mail address.")
    owner_id = row.get("owner_id")
    if owner_id is not None and owner_id not in user_ids:
        checker.add(index, "owner_id", f"User {owner_id} does not exist.")
    score = row.get("score", 0)
    if not isinstance(score, int) or isinstance(score, bool):
        checker.add(index, "score", "Expected a whole number.")
        score = 0
    extra_emails = [
        checker.normalized(index, "extra_emails", value, fast_normalize_email)
        for value in row.get("extra_emails") or []
    ]
    extra_phones = [
        checker.normalized(index, "extra_phones", value, phone)
        for value in row.get("extra_phones") or []
    ]
    moment = checker.moment(index, row, now)
    contact = {
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "extra_emails": [e for e in extra_emails if e],
        "phone": checker.normalized(index, "phone", row.get("phone"), phone) or "",
        "extra_phones": [p for p in extra_phones if p],
        "job_title": checker.text(index, row, "job_title"),
        "company_id": row.get("company_id"),
        "owner_id": owner_id,
        "lifecycle_stage": checker.choice(
            index,
            "lifecycle_stage",
            row.get("lifecycle_stage", LifecycleStage.LEAD),
            _LIFECYCLE_STAGES,
        ),
        "lead_status": checker.choice(
            index, "lead_status", row.get("lead_status", LeadStatus.NEW), _LEAD_STATUSES
        ),
        "source": checker.text(index, row, "source"),
        "score": score,
        "country": country,
        "unsubscribed": bool(row.get("unsubscribed", False)),
        "external_id": checker.text(index, row, "external_id") or None,
        "custom": checker.custom(index, row, "contact", definitions, user_ids),
        "merged_into_id": None,
        "created_at": moment,
        "updated_at": moment,
    }
    tags = sorted({int(tag_id) for tag_id in row.get("tag_ids") or []})
    return contact, tags


def _contact_values(contact: Mapping[str, Any]) -> dict[str, Any]:
    """The event-visible fields, as the contact services record them (custom spread out)."""
    values = {
        "first_name": contact["first_name"],
        "last_name": contact["last_name"],
        "email": contact["email"],
        "extra_emails": contact["extra_emails"],
        "phone": contact["phone"],
        "extra_phones": contact["extra_phones"],
        "job_title": contact["job_title"],
        "company": contact["company_id"],
        "owner": contact["owner_id"],
        "lifecycle_stage": contact["lifecycle_stage"],
        "lead_status": contact["lead_status"],
        "source": contact["source"],
        "score": contact["score"],
        "country": contact["country"],
        "unsubscribed": contact["unsubscribed"],
        "external_id": contact["external_id"],
    }
    values.update({f"custom.{key}": value for key, value in contact["custom"].items()})
    return values
