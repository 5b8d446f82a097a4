"""Validation of custom field values against their admin-defined definitions.

Values are stored in each record's ``custom`` JSON column, typed so that database filters work:
numbers and money as JSON numbers, dates as ISO strings (which sort like dates), booleans as
JSON booleans, multi-choice as a list of strings, user as a user id.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email

from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import CustomFieldDefinition, CustomFieldType

_url_validator = URLValidator(schemes=["http", "https"])
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


def definitions_for(record_type: str) -> dict[str, CustomFieldDefinition]:
    """The custom field definitions of a record type, by key (one query)."""
    return {d.key: d for d in CustomFieldDefinition.objects.filter(record_type=record_type)}


def validate_custom_values(
    record_type: str,
    values: Mapping[str, Any] | None,
    *,
    existing: Mapping[str, Any] | None = None,
    definitions: Mapping[str, CustomFieldDefinition] | None = None,
    user_ids: Iterable[int] | None = None,
) -> dict[str, Any]:
    """The record's new ``custom`` dict: ``existing`` updated with cleaned ``values``.

    A ``None`` value clears a field. Raises ValidationFailed naming ``custom.<key>`` for an
    unknown key, a value of the wrong type, a choice not offered, or a missing required field.
    ``user_ids`` (optional) is the set of valid user ids, to avoid one query per value in bulk.
    """
    defs = definitions if definitions is not None else definitions_for(record_type)
    result: dict[str, Any] = dict(existing or {})
    errors: dict[str, str] = {}
    for key, raw in (values or {}).items():
        definition = defs.get(key)
        if definition is None:
            errors[f"custom.{key}"] = f"Unknown custom field {key!r} for {record_type}."
            continue
        if raw is None or raw == "" or raw == []:
            result.pop(key, None)
            continue
        try:
            result[key] = clean_value(definition, raw, user_ids=user_ids)
        except ValueError as error:
            errors[f"custom.{key}"] = str(error)
    for key, definition in defs.items():
        if definition.required and result.get(key) in (None, "", []) and key not in errors:
            errors[f"custom.{key}"] = "This field is required."
    if errors:
        raise ValidationFailed(errors)
    return result


def clean_value(
    definition: CustomFieldDefinition, raw: Any, *, user_ids: Iterable[int] | None = None
) -> Any:
    """One value converted to its stored form; raises ValueError with a readable reason."""
    kind = definition.field_type
    if kind == CustomFieldType.TEXT:
        if not isinstance(raw, str | int | float) or isinstance(raw, bool):
            raise ValueError("Expected text.")
        text = str(raw).strip()
        if len(text) > 2000:
            raise ValueError("Text is longer than 2000 characters.")
        return text
    if kind in (CustomFieldType.NUMBER, CustomFieldType.MONEY):
        return _number(raw, money=kind == CustomFieldType.MONEY)
    if kind == CustomFieldType.DATE:
        return _date(raw)
    if kind == CustomFieldType.BOOLEAN:
        return _boolean(raw)
    if kind == CustomFieldType.CHOICE:
        if not isinstance(raw, str) or raw not in definition.choices:
            raise ValueError(f"{raw!r} is not one of {', '.join(map(str, definition.choices))}.")
        return raw
    if kind == CustomFieldType.MULTI_CHOICE:
        items = raw if isinstance(raw, list) else [raw]
        bad = [
            item for item in items if not isinstance(item, str) or item not in definition.choices
        ]
        if bad:
            raise ValueError(f"{bad[0]!r} is not one of {', '.join(map(str, definition.choices))}.")
        return sorted(set(items), key=items.index)
    if kind == CustomFieldType.URL:
        try:
            _url_validator(str(raw).strip())
        except DjangoValidationError as error:
            raise ValueError("Enter a valid http(s) URL.") from error
        return str(raw).strip()
    if kind == CustomFieldType.EMAIL:
        email = str(raw).strip().lower()
        try:
            validate_email(email)
        except DjangoValidationError as error:
            raise ValueError("Enter a valid e-mail address.") from error
        return email
    if kind == CustomFieldType.USER:
        return _user_id(raw, user_ids)
    raise ValueError(f"Unsupported field type {kind!r}.")


def _number(raw: Any, *, money: bool) -> int | float:
    if isinstance(raw, bool):
        raise ValueError("Expected a number.")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation as error:
        raise ValueError("Expected a number.") from error
    if not number.is_finite():
        raise ValueError("Expected a finite number.")
    if money:
        number = number.quantize(Decimal("0.01"))
    return int(number) if number == number.to_integral_value() else float(number)


def _date(raw: Any) -> str:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    try:
        return dt.date.fromisoformat(str(raw).strip()).isoformat()
    except ValueError as error:
        raise ValueError("Expected a date as YYYY-MM-DD.") from error


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"true", "yes", "1", "y"}:
        return True
    if text in {"false", "no", "0", "n"}:
        return False
    raise ValueError("Expected true or false.")


def _user_id(raw: Any, user_ids: Iterable[int] | None) -> int:
    from flowcrm.accounts.models import User

    try:
        user_id = int(raw)
    except (TypeError, ValueError) as error:
        raise ValueError("Expected a user id.") from error
    known = (
        user_id in set(user_ids)
        if user_ids is not None
        else User.objects.filter(pk=user_id, is_active=True).exists()
    )
    if not known:
        raise ValueError(f"No active user with id {user_id}.")
    return user_id


def validate_definition_key(key: str) -> None:
    if not _SLUG.match(key):
        raise ValidationFailed(
            {"key": "Use lower-case letters, digits and underscores, starting with a letter."}
        )
