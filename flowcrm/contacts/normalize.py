"""Normal forms of e-mail addresses, phone numbers and company domains.

Every write path (services, the bulk path) stores these forms, so uniqueness checks, search and
de-duplication compare like with like. Each function raises ``ValueError`` with a reason a person
can act on; services turn it into a ValidationFailed naming the field.
"""

from __future__ import annotations

import re

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_DOMAIN = re.compile(r"^(?=.{1,200}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_email(raw: str | None) -> str | None:
    """Trimmed and lower-cased; ``None`` for an empty value. Raises ValueError if malformed."""
    if raw is None:
        return None
    email = raw.strip().lower()
    if not email:
        return None
    try:
        validate_email(email)
    except DjangoValidationError as error:
        raise ValueError(f"{raw.strip()!r} is not a valid e-mail address.") from error
    return email


def normalize_phone(raw: str | None, *, country: str = "") -> str:
    """The number in E.164 (``+4930123456``); ``""`` for an empty value.

    A number written with ``+``/``00`` and its country code parses anywhere; a national number
    (``030 123456``) needs ``country`` (ISO alpha-2, the record's country) to say which plan it
    belongs to. A number that does not parse, or is not a valid number of its country, raises
    ValueError: we never store a number we cannot dial or de-duplicate.
    """
    if raw is None:
        return ""
    text = raw.strip()
    if not text:
        return ""
    if text.startswith("00"):
        text = "+" + text[2:]
    region = country.upper() or None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        if region is None and not text.startswith("+"):
            raise ValueError(
                f"{raw.strip()!r} has no country code: write it as +<country code>… "
                "or set the record's country."
            ) from error
        raise ValueError(f"{raw.strip()!r} is not a phone number.") from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError(f"{raw.strip()!r} is not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_domain(raw: str | None) -> str:
    """A bare lower-case host: ``https://www.Acme.com/about`` → ``acme.com``; ``""`` if empty."""
    if raw is None:
        return ""
    text = raw.strip().lower()
    if not text:
        return ""
    text = _SCHEME.sub("", text)
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].rstrip(".")
    if text.startswith("www."):
        text = text[4:]
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValueError(f"{raw.strip()!r} is not a domain name.") from error
    if not _DOMAIN.match(text):
        raise ValueError(f"{raw.strip()!r} is not a domain name.")
    return text


def normalize_country(raw: str | None) -> str:
    """An upper-case ISO 3166-1 alpha-2 code known to the phone-number plan; ``""`` if empty."""
    if raw is None:
        return ""
    code = raw.strip().upper()
    if not code:
        return ""
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{raw.strip()!r} is not an ISO 3166-1 alpha-2 country code.")
    return code
