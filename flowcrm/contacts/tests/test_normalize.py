from __future__ import annotations

import pytest

from flowcrm.contacts.normalize import (
    normalize_country,
    normalize_domain,
    normalize_email,
    normalize_phone,
)


def test_email_is_trimmed_and_lower_cased() -> None:
    assert normalize_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"
    assert normalize_email("   ") is None
    assert normalize_email(None) is None


def test_malformed_email_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a valid e-mail"):
        normalize_email("ada@")


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+49 30 901820", "", "+4930901820"),
        ("0049 30 901820", "", "+4930901820"),
        ("030 901820", "DE", "+4930901820"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("", "DE", ""),
    ],
)
def test_phone_becomes_e164(raw: str, country: str, expected: str) -> None:
    assert normalize_phone(raw, country=country) == expected


def test_national_phone_without_a_country_is_rejected_with_a_hint() -> None:
    with pytest.raises(ValueError, match="no country code"):
        normalize_phone("030 901820")


def test_invalid_phone_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a valid phone number"):
        normalize_phone("+49 30 1")
    with pytest.raises(ValueError, match="not a phone number"):
        normalize_phone("call me", country="DE")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Acme.com/about?x=1", "acme.com"),
        ("ACME.co.uk", "acme.co.uk"),
        ("http://shop.acme.com:8080", "shop.acme.com"),
        ("www.bücher.de", "xn--bcher-kva.de"),
        ("", ""),
    ],
)
def test_domain_is_reduced_to_a_bare_host(raw: str, expected: str) -> None:
    assert normalize_domain(raw) == expected


def test_non_domain_is_rejected() -> None:
    with pytest.raises(ValueError, match="not a domain"):
        normalize_domain("not a domain")


def test_country_is_an_upper_case_iso_code() -> None:
    assert normalize_country(" de ") == "DE"
    with pytest.raises(ValueError, match="ISO 3166"):
        normalize_country("Germany")
