"""Rows for the bulk services: companies, contacts, deals with histories, activities, tasks.

Each generator takes the seeded ``random.Random`` and yields plain row dicts in the shape of the
bulk services (``flowcrm.contacts.bulk`` etc.), so the demo and the benchmarks write through the
same validated paths that imports use.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.dealpaths import DealPath
from flowcrm.demo.people import CompanyNames, EmailAddresses, PhoneBook, draw_person
from flowcrm.demo.vocabulary import (
    ACTIVITY_SUBJECTS,
    CALL_OUTCOMES,
    COMPANY_SIZES,
    COUNTRIES,
    DEAL_PRODUCTS,
    INDUSTRIES,
    JOB_TITLES,
    LEAD_SOURCES,
    LEAD_STATUSES,
    LIFECYCLE_STAGES,
    LOST_REASONS,
    REGIONS,
    TASK_TITLES,
)

# Typical lead score per lifecycle stage (a score moves a contact along the lifecycle).
_SCORE_CENTRE = {
    "subscriber": 10,
    "lead": 25,
    "mql": 55,
    "sql": 70,
    "opportunity": 80,
    "customer": 85,
    "evangelist": 95,
    "other": 5,
}


@dataclass(frozen=True, slots=True)
class CompanyFacts:
    """What later generators need about a created company."""

    pk: int
    country: str
    domain: str
    owner_id: int | None
    phone: str


def company_rows(
    rng: random.Random,
    count: int,
    *,
    owners: Sequence[int],
    phones: PhoneBook,
    now: dt.datetime,
    facts: list[tuple[str, str, int | None, str]],
) -> Iterator[dict[str, Any]]:
    """``count`` companies created over the last two years; appends (country, domain, owner,
    switchboard phone) to ``facts`` in row order for the contacts that follow."""
    names = CompanyNames(rng)
    for _ in range(count):
        country = COUNTRIES.pick(rng)
        identity = names.draw(country)
        owner = rng.choice(owners) if owners else None
        custom: dict[str, Any] = {}
        if rng.random() < 0.4:
            renewal = now.date() + dt.timedelta(days=rng.randrange(-60, 365))
            custom["renewal_date"] = renewal.isoformat()
        if rng.random() < 0.6:
            custom["annual_revenue"] = str(Decimal(int(rng.lognormvariate(15, 1.4))))
        facts.append((country, identity.domain, owner, phones.number(country)))
        yield {
            "name": identity.name,
            "domain": identity.domain,
            "industry": INDUSTRIES.pick(rng),
            "size": COMPANY_SIZES.pick(rng),
            "country": country,
            "owner_id": owner,
            "custom": custom,
            "created_at": now - dt.timedelta(seconds=rng.randrange(730 * 86400)),
        }


def contact_rows(
    rng: random.Random,
    count: int,
    *,
    companies: Sequence[CompanyFacts],
    marketing_owners: Sequence[int],
    phones: PhoneBook,
    tags: Sequence[int],
    now: dt.datetime,
) -> Iterator[dict[str, Any]]:
    """``count`` contacts, most of them working at one of ``companies``; addresses unique."""
    emails = EmailAddresses()
    for _ in range(count):
        first, last = draw_person(rng)
        company = rng.choice(companies) if companies and rng.random() < 0.88 else None
        if company is not None:
            country, domain, owner = company.country, company.domain, company.owner_id
        else:
            country = COUNTRIES.pick(rng)
            domain = rng.choice(("gmail.com", "outlook.com", "proton.me", "yahoo.com"))
            owner = rng.choice(marketing_owners) if marketing_owners else None
        roll = rng.random()
        phone = (
            company.phone
            if company is not None and roll < 0.35
            else (phones.number(country) if roll < 0.8 else "")
        )
        stage = LIFECYCLE_STAGES.pick(rng)
        score = max(0, min(100, int(rng.gauss(_SCORE_CENTRE[stage], 12))))
        row: dict[str, Any] = {
            "first_name": first,
            "last_name": last,
            "email": emails.make(first, last, domain),
            "phone": phone,
            "job_title": rng.choice(JOB_TITLES) if company is not None else "",
            "company_id": company.pk if company is not None else None,
            "owner_id": owner,
            "lifecycle_stage": stage,
            "lead_status": LEAD_STATUSES.pick(rng),
            "source": LEAD_SOURCES.pick(rng),
            "score": score,
            "country": country,
            "unsubscribed": rng.random() < 0.03,
            "custom": {"region": REGIONS[country]} if country in REGIONS else {},
            "created_at": now - dt.timedelta(seconds=rng.randrange(720 * 86400)),
        }
        if tags and rng.random() < 0.15:
            row["tag_ids"] = sorted(set(rng.sample(list(tags), k=rng.randint(1, 2))))
        yield row


def deal_rows(
    rng: random.Random,
    paths: Sequence[DealPath],
    *,
    pipeline_id: int,
    stage_ids: dict[str, int],
    owners: Sequence[int],
    companies: Sequence[CompanyFacts],
    contacts_of: dict[int, list[int]],
    renewal: bool,
) -> Iterator[dict[str, Any]]:
    """One deal per path (stage names resolved to ``stage_ids``), linked to a company."""
    for path in paths:
        company = rng.choice(companies) if companies else None
        people = contacts_of.get(company.pk, []) if company is not None else []
        product = rng.choice(DEAL_PRODUCTS)
        title = f"{'Renewal' if renewal else product}"
        if company is not None:
            title = f"{company.domain.split('.')[0].replace('-', ' ').title()} · {title}"
        amount = Decimal(round(rng.lognormvariate(math.log(18000), 0.9), -2))
        opened = path.steps[0][1]
        row: dict[str, Any] = {
            "title": title[:200],
            "amount": amount,
            "pipeline_id": pipeline_id,
            "path": [(stage_ids[name], entered) for name, entered in path.steps],
            "owner_id": (
                company.owner_id if company is not None and company.owner_id in owners else None
            )
            or (rng.choice(owners) if owners else None),
            "company_id": company.pk if company is not None else None,
            "contact_ids": sorted(rng.sample(people, k=min(len(people), rng.randint(1, 2)))),
            "expected_close_date": (opened + dt.timedelta(days=rng.randrange(30, 120))).date(),
        }
        if path.outcome == "Lost":
            row["lost_reason"] = LOST_REASONS.pick(rng)
        yield row


def deal_activity_rows(
    rng: random.Random,
    deals: Sequence[tuple[int, dict[str, Any]]],
    *,
    now: dt.datetime,
) -> Iterator[dict[str, Any]]:
    """Calls, e-mails and meetings along each deal's path (up to two per stage entered)."""
    for deal_id, deal in deals:
        contact_ids: list[int] = deal["contact_ids"]
        for _stage_id, entered in deal["path"]:
            for _ in range(rng.randint(0, 2)):
                at = entered + dt.timedelta(hours=rng.randrange(1, 96))
                if at > now:
                    continue
                kind = rng.choice(("call", "call", "email", "email", "meeting", "note"))
                row: dict[str, Any] = {
                    "kind": kind,
                    "subject": rng.choice(ACTIVITY_SUBJECTS[kind]),
                    "occurred_at": at,
                    "deal_id": deal_id,
                    "company_id": deal["company_id"],
                    "contact_id": contact_ids[0] if contact_ids else None,
                    "owner_id": deal["owner_id"],
                }
                if kind in ("call", "email"):
                    row["direction"] = "outbound" if rng.random() < 0.7 else "inbound"
                if kind == "call":
                    row["duration_seconds"] = rng.randrange(60, 2400)
                    row["outcome"] = rng.choice(CALL_OUTCOMES)
                if kind == "meeting":
                    row["duration_seconds"] = rng.choice((1800, 2700, 3600))
                    row["participant_ids"] = contact_ids
                yield row


def contact_note_rows(
    rng: random.Random, contacts: Sequence[tuple[int, int | None, dt.datetime]], *, share: float
) -> Iterator[dict[str, Any]]:
    """A note or an inbound e-mail for a ``share`` of the contacts, after they were created."""
    for contact_id, owner_id, created in contacts:
        if rng.random() >= share:
            continue
        kind = "note" if rng.random() < 0.6 else "email"
        yield {
            "kind": kind,
            "direction": "inbound" if kind == "email" else "",
            "subject": rng.choice(ACTIVITY_SUBJECTS[kind]),
            "occurred_at": created + dt.timedelta(hours=rng.randrange(1, 400)),
            "contact_id": contact_id,
            "owner_id": owner_id,
        }


def task_rows(
    rng: random.Random,
    deals: Sequence[tuple[int, dict[str, Any]]],
    *,
    closed_stage_ids: frozenset[int],
    now: dt.datetime,
) -> Iterator[dict[str, Any]]:
    """A follow-up per deal: open (some overdue) while the deal is open, done once it closed."""
    for deal_id, deal in deals:
        last_stage_id, last_entered = deal["path"][-1]
        closed = last_stage_id in closed_stage_ids
        created = last_entered + dt.timedelta(hours=rng.randrange(1, 48))
        created = min(created, now)
        row: dict[str, Any] = {
            "title": rng.choice(TASK_TITLES),
            "deal_id": deal_id,
            "company_id": deal["company_id"],
            "contact_id": deal["contact_ids"][0] if deal["contact_ids"] else None,
            "assignee_id": deal["owner_id"],
            "priority": rng.choice(("low", "normal", "normal", "high", "urgent")),
            "created_at": created,
            "due_at": created + dt.timedelta(days=rng.randrange(-5, 14)),
        }
        if closed:
            row["status"] = "done"
            row["completed_at"] = min(now, created + dt.timedelta(hours=rng.randrange(1, 72)))
        yield row
