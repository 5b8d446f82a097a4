"""Word-prefix search over contacts and companies, one entry point, one index per database.

What matches: every word typed must be the start of a word of the contact's own name, e-mail
or phone — or every word must be the start of a word of its company's name or domain. A query
that looks like a phone number (digits, spaces, ``+``, ``-``, ``()``) is matched as one number,
with or without its country code or trunk ``0`` (``+49 30 1234``, ``030 1234`` and ``301234``
all find ``+49301234567``). Companies match on name and domain.

The indexes are kept current by the database itself, so every write path — services, bulk
``INSERT``s, raw SQL — is searchable at once without code having to remember it:

- SQLite: FTS5 tables ``contacts_contact_search`` (name, email, phone, company) and
  ``contacts_company_search`` (name, domain), filled by triggers (migration 0002), with 2- and
  3-character prefix indexes so as-you-type queries stay cheap;
- PostgreSQL: GIN indexes on ``to_tsvector('simple', …)`` expressions of the same columns,
  queried with ``word:*`` prefix terms; nothing to keep in sync.

:func:`search_index_rebuild` refills the SQLite tables from scratch (after a bulk load that
dropped the triggers for speed, or to repair); on PostgreSQL it is a no-op.
"""

from __future__ import annotations

import re

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

_WORD = re.compile(r"[^\W_]+")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{3,}$")

# PostgreSQL expressions; the GIN indexes of migration 0002 are on exactly these.
PG_CONTACT_DOCUMENT = (
    "to_tsvector('simple'::regconfig, "
    "coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || "
    "translate(coalesce(email, ''), '@.+_-', '     ') || ' ' || "
    "ltrim(phone, '+') || ' ' || substr(ltrim(phone, '+'), 2) || ' ' || "
    "substr(ltrim(phone, '+'), 3) || ' ' || substr(ltrim(phone, '+'), 4))"
)
PG_COMPANY_DOCUMENT = (
    "to_tsvector('simple'::regconfig, "
    "coalesce(name, '') || ' ' || translate(coalesce(domain, ''), '.-', '  '))"
)

# SQLite: the text a trigger stores for a contact's phone (all digits, then without the first
# 1, 2 and 3 digits, i.e. without a country code of any length).
SQLITE_PHONE_TOKENS = (
    "CASE WHEN {p} = '' THEN '' ELSE ltrim({p}, '+') || ' ' || substr(ltrim({p}, '+'), 2)"
    " || ' ' || substr(ltrim({p}, '+'), 3) || ' ' || substr(ltrim({p}, '+'), 4) END"
)


def search_terms(query: str) -> list[str]:
    """The words to match, lower-cased; a phone-like query becomes one run of digits."""
    text = query.strip()
    if _PHONE_LIKE.match(text) and sum(ch.isdigit() for ch in text) >= 3:
        digits = "".join(ch for ch in text if ch.isdigit())
        # "030 1234" is a national number: its trunk zero is not part of the E.164 digits.
        return [digits.lstrip("0") or digits] if not text.startswith("+") else [digits]
    return [word.lower() for word in _WORD.findall(text)][:8]


def _fts5_all(terms: list[str]) -> str:
    # Terms are runs of letters/digits only, so quoting them cannot inject FTS5 syntax.
    return "(" + " AND ".join(f'"{term}"*' for term in terms) + ")"


def _tsquery(terms: list[str]) -> str:
    return " & ".join(f"{term}:*" for term in terms)


def contact_search_q(query: str) -> Q:
    """A filter for contacts matching ``query``; matches nothing for a query without words."""
    terms = search_terms(query)
    if not terms:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        tsquery = _tsquery(terms)
        sql = (
            f"SELECT id FROM contacts_contact WHERE {PG_CONTACT_DOCUMENT} "  # noqa: S608  # fixed SQL, the query is a parameter
            "@@ to_tsquery('simple'::regconfig, %s) "
            "UNION SELECT id FROM contacts_contact WHERE company_id IN ("
            f"SELECT id FROM contacts_company WHERE {PG_COMPANY_DOCUMENT} "
            "@@ to_tsquery('simple'::regconfig, %s))"
        )
        return Q(pk__in=RawSQL(sql, [tsquery, tsquery]))  # noqa: S611  # fixed SQL, parameters bound
    match = f"{{name email phone}} : {_fts5_all(terms)} OR company : {_fts5_all(terms)}"
    sql = "SELECT rowid FROM contacts_contact_search WHERE contacts_contact_search MATCH %s"
    return Q(pk__in=RawSQL(sql, [match]))  # noqa: S611  # fixed SQL, parameters bound


def company_search_q(query: str) -> Q:
    """A filter for companies whose name or domain matches ``query``."""
    terms = search_terms(query)
    if not terms:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT id FROM contacts_company WHERE {PG_COMPANY_DOCUMENT} "  # noqa: S608  # fixed SQL
            "@@ to_tsquery('simple'::regconfig, %s)"
        )
        return Q(pk__in=RawSQL(sql, [_tsquery(terms)]))  # noqa: S611  # fixed SQL, parameters bound
    sql = "SELECT rowid FROM contacts_company_search WHERE contacts_company_search MATCH %s"
    return Q(pk__in=RawSQL(sql, [_fts5_all(terms)]))  # noqa: S611  # fixed SQL, parameters bound


def search_index_rebuild() -> None:
    """Refill the SQLite search tables from the contact and company rows (PostgreSQL: no-op)."""
    if connection.vendor != "sqlite":
        return
    phone = SQLITE_PHONE_TOKENS.format(p="c.phone")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM contacts_company_search")
        cursor.execute(
            "INSERT INTO contacts_company_search(rowid, name, domain) "
            "SELECT id, name, domain FROM contacts_company"
        )
        cursor.execute("DELETE FROM contacts_contact_search")
        cursor.execute(
            "INSERT INTO contacts_contact_search(rowid, name, email, phone, company) "  # noqa: S608  # fixed SQL
            f"SELECT c.id, c.first_name || ' ' || c.last_name, coalesce(c.email, ''), {phone}, "
            "coalesce(co.name || ' ' || co.domain, '') "
            "FROM contacts_contact c LEFT JOIN contacts_company co ON co.id = c.company_id"
        )
