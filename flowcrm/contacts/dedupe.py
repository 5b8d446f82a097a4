"""Finding duplicate contacts and companies: exact on normalised keys, fuzzy on names.

Exact: contacts sharing an e-mail (trimmed, lower-case) or a phone number (E.164); companies
sharing a domain or a name (case-insensitive). Fuzzy: names compared with rapidfuzz's
``token_sort_ratio`` (order-insensitive, so "Lovelace Ada" = "Ada Lovelace") but only within a
*block* — contacts of the same company whose last names start with the same two letters
(contacts without a company: same three-letter last-name prefix and first initial; companies:
same first three letters of the name without legal suffixes). Blocks come from one ordered,
streamed query, so memory stays at one block and the work grows with the number of contacts,
not its square: the scan stays usable at a million contacts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Lower, Substr, Trim
from rapidfuzz import fuzz, process

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.permissions import scope

FUZZY_THRESHOLD = 88
MAX_BLOCK = 400  # larger blocks are split by first initial; beyond that they are skipped
_LEGAL_SUFFIX = re.compile(
    r"\b(inc|llc|ltd|limited|gmbh|ag|sa|sarl|bv|nv|plc|co|corp|corporation|company)\b\.?"
)


@dataclass
class DuplicateGroup:
    """Records that look like one: their ids (lowest first), a score 0-100 and why."""

    ids: list[int]
    score: int
    reason: str
    records: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ids": self.ids,
            "score": self.score,
            "reason": self.reason,
            "records": self.records,
        }


def _live_contacts(user: User) -> QuerySet[Contact]:
    return scope(Contact.objects.filter(merged_into__isnull=True), user)


def _live_companies(user: User) -> QuerySet[Company]:
    return scope(Company.objects.filter(merged_into__isnull=True), user)


def _exact_groups(
    queryset: QuerySet[Any], key: Any, reason: str, limit: int
) -> list[DuplicateGroup]:
    keys = list(
        queryset.annotate(dup_key=key)
        .exclude(dup_key="")
        .exclude(dup_key__isnull=True)
        .values("dup_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("dup_key")
        .values_list("dup_key", flat=True)[:limit]
    )
    if not keys:
        return []
    members: dict[str, list[int]] = {}
    for record_id, value in (
        queryset.annotate(dup_key=key).filter(dup_key__in=keys).values_list("id", "dup_key")
    ):
        members.setdefault(value, []).append(record_id)
    return [
        DuplicateGroup(ids=sorted(ids), score=100, reason=f"same {reason}: {value}")
        for value, ids in sorted(members.items())
    ]


def find_contact_duplicates(
    user: User, *, exact: bool = True, fuzzy: bool = True, limit: int = 200
) -> list[DuplicateGroup]:
    """Duplicate groups among the live contacts ``user`` can see, best first."""
    contacts = _live_contacts(user)
    groups: list[DuplicateGroup] = []
    if exact:
        groups += _exact_groups(contacts, Lower(Trim("email")), "e-mail", limit)
        groups += _exact_groups(contacts.exclude(phone=""), F("phone"), "phone", limit)
    if fuzzy:
        groups += _fuzzy_contacts(contacts)
    return _finish(groups, limit, Contact)


def find_company_duplicates(
    user: User, *, exact: bool = True, fuzzy: bool = True, limit: int = 200
) -> list[DuplicateGroup]:
    companies = _live_companies(user)
    groups: list[DuplicateGroup] = []
    if exact:
        groups += _exact_groups(companies, Lower(Trim("domain")), "domain", limit)
        groups += _exact_groups(companies, Lower(Trim("name")), "name", limit)
    if fuzzy:
        groups += _fuzzy_companies(companies)
    return _finish(groups, limit, Company)


def _finish(
    groups: list[DuplicateGroup], limit: int, model: type[Contact] | type[Company]
) -> list[DuplicateGroup]:
    seen: set[tuple[int, ...]] = set()
    unique: list[DuplicateGroup] = []
    for group in sorted(groups, key=lambda g: (-g.score, g.ids)):
        if tuple(group.ids) not in seen:
            seen.add(tuple(group.ids))
            unique.append(group)
    unique = unique[:limit]
    wanted = {pk for group in unique for pk in group.ids}
    fields = (
        ("id", "first_name", "last_name", "email", "phone", "company__name", "updated_at")
        if model is Contact
        else ("id", "name", "domain", "country", "updated_at")
    )
    rows = {row["id"]: row for row in model._default_manager.filter(pk__in=wanted).values(*fields)}
    for group in unique:
        group.records = [rows[pk] for pk in group.ids if pk in rows]
    return unique


def _normal_name(first: str, last: str) -> str:
    return " ".join(f"{first} {last}".casefold().split())


def _fuzzy_contacts(contacts: QuerySet[Contact]) -> list[DuplicateGroup]:
    rows = (
        contacts.exclude(Q(last_name="") & Q(first_name=""))
        .annotate(last3=Lower(Substr("last_name", 1, 3)), first1=Lower(Substr("first_name", 1, 1)))
        .order_by("company_id", "last3", "first1", "id")
        .values_list("id", "first_name", "last_name", "company_id", "last3", "first1")
        .iterator(chunk_size=5000)
    )

    def block_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
        company_id, last3, first1 = row[3], row[4] or "", row[5] or ""
        return (company_id, last3[:2]) if company_id else (None, last3, first1)

    groups: list[DuplicateGroup] = []
    for block in _blocks(rows, block_key):
        names = [_normal_name(row[1], row[2]) for row in block]
        reason = "similar name, same company" if block[0][3] else "similar name"
        groups += _score_block([row[0] for row in block], names, reason)
    return groups


def _fuzzy_companies(companies: QuerySet[Company]) -> list[DuplicateGroup]:
    rows = (
        companies.annotate(prefix=Lower(Substr("name", 1, 3)))
        .order_by("prefix", "id")
        .values_list("id", "name", "prefix")
        .iterator(chunk_size=5000)
    )
    groups: list[DuplicateGroup] = []
    for block in _blocks(rows, lambda row: row[2]):
        names = [" ".join(_LEGAL_SUFFIX.sub("", row[1].casefold()).split()) for row in block]
        groups += _score_block([row[0] for row in block], names, "similar name")
    return groups


def _blocks(rows: Iterable[tuple[Any, ...]], key: Any) -> Iterator[list[tuple[Any, ...]]]:
    block: list[tuple[Any, ...]] = []
    current: object = object()
    for row in rows:
        row_key = key(row)
        if row_key != current:
            if len(block) > 1:
                yield from _split(block)
            block, current = [], row_key
        block.append(row)
    if len(block) > 1:
        yield from _split(block)


def _split(block: list[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    if len(block) <= MAX_BLOCK:
        yield block
        return
    by_initial: dict[str, list[tuple[Any, ...]]] = {}
    for row in block:
        by_initial.setdefault(str(row[1])[:1].casefold(), []).append(row)
    for part in by_initial.values():
        if 1 < len(part) <= MAX_BLOCK:
            yield part


def _score_block(ids: list[int], names: list[str], reason: str) -> list[DuplicateGroup]:
    """Groups of ids whose names score at least FUZZY_THRESHOLD against each other."""
    parent = list(range(len(ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    best: dict[int, float] = {}
    for i in range(len(ids) - 1):
        # extract() runs the comparisons in C and keeps only scores over the cut-off.
        for _name, score, offset in process.extract(
            names[i],
            names[i + 1 :],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=FUZZY_THRESHOLD,
            limit=None,
        ):
            a, b = root(i), root(i + 1 + offset)
            if a != b:
                parent[b] = a
                best[a] = max(best.get(a, 0.0), best.pop(b, 0.0), float(score))
            else:
                best[a] = max(best.get(a, 0.0), float(score))
    members: dict[int, list[int]] = {}
    for i in range(len(ids)):
        members.setdefault(root(i), []).append(ids[i])
    return [
        DuplicateGroup(ids=sorted(group), score=int(best.get(r, 0)), reason=reason)
        for r, group in members.items()
        if len(group) > 1
    ]
