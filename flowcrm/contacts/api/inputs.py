"""Turning API input (ids, query strings) into what services and selectors take."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from flowcrm.contacts import selectors

if TYPE_CHECKING:
    from flowcrm.accounts.models import User


def custom_filters(request: HttpRequest) -> dict[str, str]:
    """``custom.<key>=value`` and ``custom.<key>__gte=value`` query parameters, by key."""
    return {
        name.removeprefix("custom."): str(value)
        for name, value in request.GET.items()
        if name.startswith("custom.")
    }


def resolve_relations(user: User, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with ``owner_id``/``company_id`` replaced by the records they name.

    Raises ValidationFailed naming ``owner_id``/``company_id`` for an inactive or unknown user,
    or a company the user cannot see.
    """
    values = dict(data)
    if "owner_id" in values:
        owner_id = values.pop("owner_id")
        values["owner"] = (
            None
            if owner_id is None
            else selectors.active_user(user_id=owner_id, field_name="owner_id")
        )
    if "company_id" in values:
        company_id = values.pop("company_id")
        values["company"] = (
            None
            if company_id is None
            else selectors.company_visible(
                user=user, company_id=company_id, field_name="company_id"
            )
        )
    return values
