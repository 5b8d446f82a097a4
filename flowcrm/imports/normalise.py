"""Normalisation of e-mail addresses, phone numbers and web domains, as FlowCRM stores them.

These run once per imported row, so they are written for speed: a cheap regular-expression
check first, and the ``phonenumbers`` parser (tens of microseconds a call) only for numbers that
are not already in international form, with a cache for repeated inputs.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# Deliberately simpler than RFC 5322: one "@", no spaces, a dot in the domain, sane lengths.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalise_email(raw: str) -> str:
    """``raw`` trimmed and lower-cased; raises ValueError when it is not an e-mail address."""
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError(f"{raw.strip()!r} is not a valid e-mail address.")
    return email


def normalise_phone(raw: str, default_region: str | None = None) -> str:
    """A phone number in E.164 form (``+4930123456``).

    A number written internationally (``+49 30 123456``) only loses its punctuation; others are
    parsed with ``phonenumbers`` in ``default_region`` (ISO country code). Raises ValueError when
    the number cannot be read.
    """
    compact = _PHONE_PUNCTUATION.sub("", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if _E164.match(compact):
        return compact
    return _parse_phone(raw.strip(), (default_region or "").upper() or None)


@lru_cache(maxsize=65536)
def _parse_phone(raw: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(f"{raw!r} is not a phone number.") from error
    if not phonenumbers.is_possible_number(number):
        raise ValueError(f"{raw!r} is not a possible phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_domain(raw: str) -> str:
    """A bare lower-case host name from a domain, URL or e-mail address (``www.`` dropped)."""
    text = raw.strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].rstrip(".")
    text = text.removeprefix("www.")
    if not _DOMAIN.match(text):
        raise ValueError(f"{raw.strip()!r} is not a domain name.")
    return text
