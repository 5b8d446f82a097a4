"""Streamed CSV exports of contacts, companies and deals, with the list views' filters.

Rows are read in keyset batches (``id > last``) of :data:`EXPORT_BATCH`, so memory stays
constant and the number of queries grows with batches, not rows. Every cell that a spreadsheet
would run as a formula (first character ``= + - @``, tab or carriage return) gets a leading
apostrophe (the OWASP rule), so an exported file is safe to open.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.permissions import scope
from flowcrm.sales.models import Deal

EXPORT_BATCH = 2000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: str) -> str:
    """``value`` made inert for spreadsheets: a leading apostrophe before a formula start."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class ExportSpec:
    columns: tuple[tuple[str, str], ...]  # (header, values() path)
    queryset: Callable[[], QuerySet[Any]]
    filters: Mapping[str, Callable[[str], Q]]


def _contains(*fields: str) -> Callable[[str], Q]:
    def build(value: str) -> Q:
        q = Q()
        for name in fields:
            q |= Q(**{f"{name}__icontains": value.strip()})
        return q

    return build


def _exact(field: str) -> Callable[[str], Q]:
    return lambda value: Q(**{field: value})


def _date_from(field: str, param: str = "created_after") -> Callable[[str], Q]:
    def build(value: str) -> Q:
        try:
            return Q(**{f"{field}__date__gte": dt.date.fromisoformat(value)})
        except ValueError:
            raise ValidationFailed({param: "Expected a date as YYYY-MM-DD."}) from None

    return build


# fmt: off
EXPORTS: dict[str, ExportSpec] = {
    "contacts": ExportSpec(
        columns=(
            ("id", "id"),
            ("first_name", "first_name"),
            ("last_name", "last_name"),
            ("email", "email"),
            ("phone", "phone"),
            ("job_title", "job_title"),
            ("company", "company__name"),
            ("lifecycle_stage", "lifecycle_stage"),
            ("lead_status", "lead_status"),
            ("source", "source"),
            ("score", "score"),
            ("country", "country"),
            ("owner", "owner__email"),
            ("external_id", "external_id"),
            ("created_at", "created_at"),
            ("updated_at", "updated_at"),
        ),
        queryset=lambda: Contact.objects.filter(merged_into__isnull=True),
        filters={
            "q": _contains("first_name", "last_name", "email"),
            "lifecycle_stage": _exact("lifecycle_stage"),
            "lead_status": _exact("lead_status"),
            "owner": _exact("owner_id"),
            "company": _exact("company_id"),
            "country": _exact("country"),
            "source": _exact("source"),
            "tag": _exact("tags__name"),
            "created_after": _date_from("created_at"),
        },
    ),
    "companies": ExportSpec(
        columns=(
            ("id", "id"),
            ("name", "name"),
            ("domain", "domain"),
            ("industry", "industry"),
            ("size", "size"),
            ("country", "country"),
            ("owner", "owner__email"),
            ("external_id", "external_id"),
            ("created_at", "created_at"),
        ),
        queryset=lambda: Company.objects.filter(merged_into__isnull=True),
        filters={
            "q": _contains("name", "domain"),
            "industry": _exact("industry"),
            "country": _exact("country"),
            "size": _exact("size"),
            "owner": _exact("owner_id"),
            "created_after": _date_from("created_at"),
        },
    ),
    "deals": ExportSpec(
        columns=(
            ("id", "id"),
            ("title", "title"),
            ("amount", "amount"),
            ("currency", "currency"),
            ("pipeline", "pipeline__name"),
            ("stage", "stage__name"),
            ("status", "status"),
            ("company", "company__name"),
            ("owner", "owner__email"),
            ("expected_close_date", "expected_close_date"),
            ("closed_at", "closed_at"),
            ("external_id", "external_id"),
            ("created_at", "created_at"),
        ),
        queryset=lambda: Deal.objects.all(),
        filters={
            "q": _contains("title"),
            "pipeline": _exact("pipeline_id"),
            "stage": _exact("stage_id"),
            "status": _exact("status"),
            "owner": _exact("owner_id"),
            "company": _exact("company_id"),
            "created_after": _date_from("created_at"),
        },
    ),
}
# fmt: on


def export_queryset(record_type: str, user: User, params: Mapping[str, str]) -> QuerySet[Any]:
    """The records ``user`` may see, filtered like the list view. Raises ValidationFailed."""
    spec = EXPORTS.get(record_type)
    if spec is None:
        raise ValidationFailed({"record_type": f"Cannot export {record_type!r}."})
    queryset = scope(spec.queryset(), user)
    for name, value in params.items():
        if name in spec.filters and value != "":
            queryset = queryset.filter(spec.filters[name](value))
    if "tag" in params:
        queryset = queryset.distinct()
    return queryset


def export_rows(record_type: str, queryset: QuerySet[Any]) -> Iterator[list[str]]:
    """The header, then one escaped row per record, in id order, read in keyset batches."""
    spec = EXPORTS[record_type]
    yield [header for header, _ in spec.columns]
    paths = [path for _, path in spec.columns]
    last_id = 0
    while True:
        batch = list(
            queryset.filter(id__gt=last_id).order_by("id").values_list(*paths)[:EXPORT_BATCH]
        )
        if not batch:
            return
        for values in batch:
            yield [escape_cell(_text(value)) for value in values]
        last_id = batch[-1][0]


class _Echo:
    """A file-like object whose write returns the line, for csv.writer into a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
