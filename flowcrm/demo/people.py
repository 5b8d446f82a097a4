"""Realistic names, e-mail addresses, company identities and dialable phone numbers.

Everything is drawn from a caller's seeded ``random.Random``, so the same seed gives the same
people. Phone numbers are real-format numbers of each country's plan (checked with
``phonenumbers``), so they pass the same normalisation as numbers typed by users.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

import phonenumbers

from flowcrm.demo.vocabulary import (
    COMPANY_NOUNS,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    FIRST_NAMES,
    LAST_NAMES,
    TLDS,
)

PHONES_PER_COUNTRY = 120


def ascii_slug(text: str) -> str:
    """``"Müller-Łukasz O'Brien"`` → ``"muller-lukasz.obrien"``-style ASCII for addresses."""
    text = text.replace("\u0131", "i").replace("ß", "ss").replace("Ł", "L").replace("ł", "l")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return "".join(ch for ch in plain.replace(" ", ".") if ch.isalnum() or ch in ".-")


@dataclass(frozen=True, slots=True)
class CompanyIdentity:
    name: str
    domain: str


class CompanyNames:
    """Unique names and domains: ``Northwind Logistics GmbH``, ``northwind-logistics.de``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: dict[str, int] = {}

    def draw(self, country: str) -> CompanyIdentity:
        word = self.rng.choice(COMPANY_WORDS)
        noun = self.rng.choice(COMPANY_NOUNS)
        base = f"{word} {noun}"
        seen = self.used.get(base, 0)
        self.used[base] = seen + 1
        if seen:
            # A common name again: real registries disambiguate with a place or a number.
            base = f"{base} {seen + 1}"
        suffix = self.rng.choice(COMPANY_SUFFIXES.get(country, ("",)))
        name = f"{base} {suffix}".strip()
        domain = f"{ascii_slug(base).replace('.', '-')}.{TLDS.get(country, 'com')}"
        return CompanyIdentity(name=name, domain=domain)


def draw_person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


class EmailAddresses:
    """Unique addresses ``first.last@domain`` (a number is added when a name repeats)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def make(self, first: str, last: str, domain: str) -> str:
        local = f"{ascii_slug(first)}.{ascii_slug(last)}".strip(".")
        address = f"{local}@{domain}"
        number = 1
        while address in self.used:
            number += 1
            address = f"{local}{number}@{domain}"
        self.used.add(address)
        return address


class PhoneBook:
    """A pool of valid E.164 numbers per country (fixed lines and mobiles), built on demand."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pools: dict[str, list[str]] = {}

    def number(self, country: str) -> str:
        pool = self.pools.get(country)
        if pool is None:
            pool = self.pools[country] = self._build(country)
        return self.rng.choice(pool) if pool else ""

    def _build(self, country: str) -> list[str]:
        numbers: list[str] = []
        for kind in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.MOBILE,
        ):
            example = phonenumbers.example_number_for_type(country, kind)
            if example is None:
                continue
            digits = str(example.national_number)
            stem, tail = digits[:-4], len(digits[-4:])
            for _ in range(PHONES_PER_COUNTRY * 2):
                candidate = phonenumbers.PhoneNumber(
                    country_code=example.country_code,
                    national_number=int(stem + f"{self.rng.randrange(10**tail):0{tail}d}"),
                    italian_leading_zero=example.italian_leading_zero,
                )
                if phonenumbers.is_valid_number(candidate):
                    numbers.append(
                        phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
                    )
                if len(numbers) >= PHONES_PER_COUNTRY * (
                    2 if kind == phonenumbers.PhoneNumberType.MOBILE else 1
                ):
                    break
        return sorted(set(numbers))
