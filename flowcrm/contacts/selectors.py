"""Reads of the contacts domain, scoped to what the user may see (``core.permissions``).

List selectors return one keyset page (``core.pagination``) with a fixed number of queries: the
page itself and one prefetch of tags, however many rows there are. Merged tombstones
(``merged_into`` set) never appear in lists or search.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.contacts.search import company_search_q, contact_search_q
from flowcrm.core.custom_fields import clean_value, definitions_for
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import CustomFieldDefinition, CustomFieldType
from flowcrm.core.pagination import Page, paginate
from flowcrm.core.permissions import ensure_can_write, get_visible, scope

if TYPE_CHECKING:
    from flowcrm.accounts.models import User

CONTACT_SORTS = frozenset({"created_at", "updated_at", "last_name", "first_name", "score", "id"})
COMPANY_SORTS = frozenset({"created_at", "updated_at", "name", "id"})
DEFAULT_CONTACT_SORT = "-created_at"
DEFAULT_COMPANY_SORT = "name"
_RANGE_OPERATORS = ("gte", "lte", "gt", "lt")
_RANGE_TYPES = {CustomFieldType.NUMBER, CustomFieldType.MONEY, CustomFieldType.DATE}


@dataclass(frozen=True)
class ContactFilters:
    """What a contact list is narrowed to; ``custom`` maps ``key`` or ``key__gte`` to a value."""

    q: str = ""
    owner: int | None = None
    company: int | None = None
    lifecycle_stage: str | None = None
    lead_status: str | None = None
    source: str | None = None
    tag: int | None = None
    country: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    custom: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CompanyFilters:
    q: str = ""
    owner: int | None = None
    industry: str | None = None
    size: str | None = None
    country: str | None = None
    tag: int | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    custom: Mapping[str, Any] = field(default_factory=dict)


def _live_contacts() -> QuerySet[Contact]:
    return Contact.objects.filter(merged_into__isnull=True)


def _live_companies() -> QuerySet[Company]:
    return Company.objects.filter(merged_into__isnull=True)


def contact_list(
    *, user: User, filters: ContactFilters, sort: str, cursor: str | None, limit: int
) -> Page[Contact]:
    """One page of the contacts ``user`` may see. Raises ValidationFailed naming a bad filter,
    sort, limit or cursor."""
    queryset = scope(_live_contacts(), user)
    exact = {
        "owner_id": filters.owner,
        "company_id": filters.company,
        "lifecycle_stage": filters.lifecycle_stage,
        "lead_status": filters.lead_status,
        "source": filters.source,
        "country": filters.country.upper() if filters.country else None,
        "created_at__gte": filters.created_after,
        "created_at__lt": filters.created_before,
    }
    queryset = queryset.filter(**{k: v for k, v in exact.items() if v is not None})
    if filters.tag is not None:
        queryset = queryset.filter(tags__id=filters.tag)
    queryset = queryset.filter(
        custom_filter_q("contact", filters.custom, table=Contact._meta.db_table)
    )
    if filters.q:
        queryset = queryset.filter(contact_search_q(filters.q))
        if sort == DEFAULT_CONTACT_SORT:
            # Search results come most recently added first: ordering the matches by id lets the
            # database walk the primary key and stop after one page, instead of sorting every
            # match by created_at (25 ms → 3.5 ms for 7,000 matches among 1M contacts).
            sort = "-id"
    queryset = queryset.select_related("company", "owner").prefetch_related("tags")
    return paginate(queryset, sort=sort, allowed_sorts=CONTACT_SORTS, cursor=cursor, limit=limit)


def company_list(
    *, user: User, filters: CompanyFilters, sort: str, cursor: str | None, limit: int
) -> Page[Company]:
    """One page of the companies ``user`` may see."""
    queryset = scope(_live_companies(), user)
    exact = {
        "owner_id": filters.owner,
        "industry": filters.industry,
        "size": filters.size,
        "country": filters.country.upper() if filters.country else None,
        "created_at__gte": filters.created_after,
        "created_at__lt": filters.created_before,
    }
    queryset = queryset.filter(**{k: v for k, v in exact.items() if v is not None})
    if filters.tag is not None:
        queryset = queryset.filter(tags__id=filters.tag)
    queryset = queryset.filter(
        custom_filter_q("company", filters.custom, table=Company._meta.db_table)
    )
    if filters.q:
        queryset = queryset.filter(company_search_q(filters.q))
    queryset = queryset.select_related("owner").prefetch_related("tags")
    return paginate(queryset, sort=sort, allowed_sorts=COMPANY_SORTS, cursor=cursor, limit=limit)


def custom_filter_q(record_type: str, custom: Mapping[str, Any], *, table: str) -> Q:
    """A filter on custom values: ``{"region": "EMEA", "budget__gte": "1000"}``.

    Values are cleaned like stored values (so ``"1000"`` compares as a number); multi-choice
    matches records whose list contains the value; ranges work on number, money and date.
    Raises ValidationFailed naming ``custom.<key>`` for an unknown key, a bad value or operator.
    """
    if not custom:
        return Q()
    definitions = definitions_for(record_type)
    q = Q()
    errors: dict[str, str] = {}
    for raw_key, raw_value in custom.items():
        key, _, operator = raw_key.partition("__")
        definition = definitions.get(key)
        if definition is None:
            errors[f"custom.{raw_key}"] = f"Unknown custom field {key!r} for {record_type}."
            continue
        if operator and (
            operator not in _RANGE_OPERATORS or definition.field_type not in _RANGE_TYPES
        ):
            errors[f"custom.{raw_key}"] = (
                "Ranges (__gte, __lte, __gt, __lt) work on number, money and date fields."
            )
            continue
        try:
            value = _filter_value(definition, raw_value)
        except ValueError as error:
            errors[f"custom.{raw_key}"] = str(error)
            continue
        q &= _custom_condition(definition, key, operator, value, table=table)
    if errors:
        raise ValidationFailed(errors)
    return q


def _filter_value(definition: CustomFieldDefinition, raw: Any) -> Any:
    if definition.field_type == CustomFieldType.MULTI_CHOICE:
        return clean_value(definition, raw)[0]
    if definition.field_type == CustomFieldType.USER:
        return int(raw) if str(raw).isdigit() else clean_value(definition, raw)
    return clean_value(definition, raw)


def _custom_condition(
    definition: CustomFieldDefinition, key: str, operator: str, value: Any, *, table: str
) -> Q:
    if definition.field_type != CustomFieldType.MULTI_CHOICE:
        lookup = f"custom__{key}__{operator}" if operator else f"custom__{key}"
        return Q(**{lookup: value})
    # Multi-choice: the stored list contains the value. SQLite has no JSON containment
    # operator, so it walks the list with json_each.
    if connection.vendor == "postgresql":
        return Q(custom__contains={key: [value]})
    sql = (
        f'EXISTS (SELECT 1 FROM json_each("{table}"."custom", %s) '  # noqa: S608  # table is ours
        "WHERE json_each.value = %s)"
    )
    return Q(RawSQL(sql, [f'$."{key}"', value], output_field=BooleanField()))  # noqa: S611  # fixed SQL


def contact_get(*, user: User, contact_id: int) -> Contact:
    """A contact ``user`` may see, with company, owner and tags loaded. NotFound otherwise."""
    queryset = Contact.objects.select_related("company", "owner").prefetch_related("tags")
    return get_visible(queryset, user, contact_id)


def contact_for_write(*, user: User, contact_id: int) -> Contact:
    """A live contact ``user`` may change. NotFound if invisible, PermissionDenied if the user
    is read-only."""
    contact = get_visible(_live_contacts().select_related("company", "owner"), user, contact_id)
    ensure_can_write(user)
    return contact


def company_get(*, user: User, company_id: int) -> Company:
    queryset = Company.objects.select_related("owner").prefetch_related("tags")
    return get_visible(queryset, user, company_id)


def company_for_write(*, user: User, company_id: int) -> Company:
    company = get_visible(_live_companies().select_related("owner"), user, company_id)
    ensure_can_write(user)
    return company


def company_visible(*, user: User, company_id: int, field_name: str = "company") -> Company:
    """A company referenced by an input field; ValidationFailed naming the field if ``user``
    cannot see it (the same answer as for one that does not exist)."""
    company = scope(_live_companies(), user).filter(pk=company_id).first()
    if company is None:
        raise ValidationFailed({field_name: f"No company with id {company_id}."})
    return company


def company_contacts(*, user: User, company: Company, limit: int = 50) -> list[Contact]:
    """The company's contacts ``user`` may see, newest first (one query)."""
    queryset = scope(_live_contacts().filter(company=company), user).select_related("owner")
    return list(queryset.order_by("-created_at", "-id")[:limit])


def tag_list() -> list[Tag]:
    return list(Tag.objects.order_by("name"))


def tags_by_ids(ids: list[int], *, field_name: str = "tags") -> list[Tag]:
    """The tags with these ids, in the given order; ValidationFailed naming unknown ids."""
    found = {tag.pk: tag for tag in Tag.objects.filter(pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise ValidationFailed({field_name: f"Unknown tag id(s): {', '.join(missing)}."})
    return [found[pk] for pk in dict.fromkeys(ids)]


def tag_get(*, tag_id: int) -> Tag:
    from flowcrm.core.errors import NotFound

    tag = Tag.objects.filter(pk=tag_id).first()
    if tag is None:
        raise NotFound(f"No tag with id {tag_id}.")
    return tag


def active_user(*, user_id: int, field_name: str = "owner") -> User:
    """The active user with this id; ValidationFailed naming ``field_name`` otherwise."""
    from flowcrm.accounts.models import User

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise ValidationFailed({field_name: f"No active user with id {user_id}."})
    return user


def custom_field_list(*, record_type: str | None = None) -> list[CustomFieldDefinition]:
    queryset = CustomFieldDefinition.objects.all()
    if record_type:
        queryset = queryset.filter(record_type=record_type)
    return list(queryset.order_by("record_type", "position", "key"))


def custom_field_get(*, definition_id: int) -> CustomFieldDefinition:
    from flowcrm.core.errors import NotFound

    definition = CustomFieldDefinition.objects.filter(pk=definition_id).first()
    if definition is None:
        raise NotFound(f"No custom field with id {definition_id}.")
    return definition
