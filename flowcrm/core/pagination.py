"""Keyset (cursor) pagination: pages are ``WHERE (key, id) > (last_key, last_id)``, never OFFSET.

A page costs the same on page 1 and page 10,000, and rows inserted while a client pages through a
list neither repeat nor shift items between pages.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Q

from flowcrm.core.errors import ValidationFailed

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page[ModelT: models.Model]:
    items: list[ModelT]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed({"cursor": "Malformed cursor."}) from error
    if not isinstance(values, list) or len(values) != 2:
        raise ValidationFailed({"cursor": "Malformed cursor."})
    return values


def paginate[ModelT: models.Model](
    queryset: models.QuerySet[ModelT],
    *,
    sort: str,
    allowed_sorts: frozenset[str],
    cursor: str | None,
    limit: int,
) -> Page[ModelT]:
    """One page of ``queryset`` ordered by ``sort`` (``name`` or ``-name``) then id.

    ``sort`` must name a non-null field in ``allowed_sorts``. ``limit`` is capped at 200.
    Raises ValidationFailed for an unknown sort, a bad limit or a malformed cursor.
    """
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    if field not in allowed_sorts:
        raise ValidationFailed(
            {"sort": f"Cannot sort by {field!r}; one of {', '.join(sorted(allowed_sorts))}."}
        )
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationFailed({"limit": f"Must be between 1 and {MAX_PAGE_SIZE}."})
    if cursor:
        last_value, last_id = decode_cursor(cursor)
        if field != "id":
            model_field = queryset.model._meta.get_field(field)
            try:
                last_value = model_field.to_python(last_value)  # type: ignore[union-attr]  # sorts are concrete fields
            except Exception as error:
                raise ValidationFailed({"cursor": "Malformed cursor."}) from error
        op = "lt" if descending else "gt"
        if field == "id":
            queryset = queryset.filter(**{f"id__{op}": last_id})
        else:
            queryset = queryset.filter(
                Q(**{f"{field}__{op}": last_value}) | Q(**{field: last_value, f"id__{op}": last_id})
            )
    order = [f"-{field}", "-id"] if descending else [field, "id"]
    if field == "id":
        order = order[:1]
    items = list(queryset.order_by(*order)[: limit + 1])
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = encode_cursor([_json(getattr(last, field)), last.pk])
    return Page(items=items, next_cursor=next_cursor)


def _json(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | float | str) or value is None:
        return value
    return str(value)
