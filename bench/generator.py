"""Deterministic benchmark data: CSV files and direct loads through FlowCRM's bulk paths.

Sizes from 10k to 10M contacts run in constant memory: companies are derived from their index
(no list of them is kept), e-mail addresses are unique by construction, and rows are streamed.
Distributions are those of the demo (``flowcrm.demo.vocabulary``): countries, industries,
company sizes skewed to small firms, lead sources, lifecycle stages. About 2% of the contact rows
of the CSV repeat an earlier e-mail in another case and with stray whitespace, as real exports
from other CRMs do; a direct load skips those repeats (upserting them is the importer's job).
Deals follow ``bench.dealpaths`` (loops, losses, a bottleneck stage).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bench.dealpaths import DEFAULT_STAGES, LOST, WON, deal_paths
from flowcrm.demo.people import PhoneBook, ascii_slug
from flowcrm.demo.vocabulary import (
    COMPANY_NOUNS,
    COMPANY_SIZES,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    COUNTRIES,
    FIRST_NAMES,
    INDUSTRIES,
    JOB_TITLES,
    LAST_NAMES,
    LEAD_SOURCES,
    LIFECYCLE_STAGES,
    TLDS,
)

DUPLICATE_SHARE = 0.02
CONTACTS_PER_COMPANY = 10
# A fixed "now" keeps generated files identical from one day to the next.
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CONTACT_HEADER = (
    "Email",
    "First Name",
    "Last Name",
    "Phone",
    "Company",
    "Company Domain",
    "Job Title",
    "Country",
    "Lifecycle Stage",
    "Lead Source",
    "Score",
    "Create Date",
)


@dataclass(frozen=True, slots=True)
class BenchCompany:
    index: int
    name: str
    domain: str
    country: str
    industry: str
    size: str


def company_count(contacts: int) -> int:
    return max(1, contacts // CONTACTS_PER_COMPANY)


@lru_cache(maxsize=65536)
def company_at(seed: int, index: int) -> BenchCompany:
    """Company number ``index`` of a data set: the same for a seed, without generating the rest."""
    rng = random.Random(seed * 1_000_003 + index)
    country = COUNTRIES.pick(rng)
    base = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_NOUNS)}"
    suffix = rng.choice(COMPANY_SUFFIXES.get(country, ("",)))
    slug = ascii_slug(base).replace(".", "-")
    return BenchCompany(
        index=index,
        name=f"{base} {suffix}".strip() + ("" if index < 2000 else f" {index // 2000}"),
        domain=f"{slug}{index}.{TLDS.get(country, 'com')}",
        country=country,
        industry=INDUSTRIES.pick(rng),
        size=COMPANY_SIZES.pick(rng),
    )


@dataclass(frozen=True, slots=True)
class BenchContact:
    """One generated contact row; ``duplicate_of`` marks a repeat of an earlier row's e-mail."""

    email: str
    first_name: str
    last_name: str
    phone: str
    company: BenchCompany | None
    job_title: str
    country: str
    lifecycle_stage: str
    source: str
    score: int
    created_at: dt.datetime
    duplicate_of: int | None = None


def contacts(size: int, *, seed: int = 42) -> Iterator[BenchContact]:
    """``size`` contact rows (about 2% of them repeats of an earlier e-mail), streamed."""
    rng = random.Random(seed)
    phones = PhoneBook(random.Random(seed + 1))
    companies = company_count(size)
    recent: list[str] = []  # a bounded window of earlier addresses for the repeats
    for index in range(size):
        if recent and rng.random() < DUPLICATE_SHARE:
            original = rng.choice(recent)
            messy = "".join(ch.upper() if rng.random() < 0.5 else ch for ch in original)
            email, duplicate_of = f" {messy}  ", index
        else:
            email, duplicate_of = "", None
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = company_at(seed, rng.randrange(companies)) if rng.random() < 0.9 else None
        country = company.country if company is not None else COUNTRIES.pick(rng)
        if not email:
            domain = company.domain if company is not None else "mail.example.net"
            email = f"{ascii_slug(first)}.{ascii_slug(last)}.{index:x}@{domain}"
            recent.append(email)
            if len(recent) > 10_000:
                recent.pop(rng.randrange(len(recent)))
        yield BenchContact(
            email=email,
            first_name=first,
            last_name=last,
            phone=phones.number(country) if rng.random() < 0.7 else "",
            company=company,
            job_title=rng.choice(JOB_TITLES),
            country=country,
            lifecycle_stage=LIFECYCLE_STAGES.pick(rng),
            source=LEAD_SOURCES.pick(rng),
            score=rng.randrange(101),
            created_at=EPOCH - dt.timedelta(seconds=rng.randrange(730 * 86400)),
            duplicate_of=duplicate_of,
        )


def write_contacts_csv(path: Path, size: int, *, seed: int = 42) -> Path:
    """A HubSpot-style contacts export of ``size`` rows (repeats included), streamed to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CONTACT_HEADER)
        for row in contacts(size, seed=seed):
            writer.writerow(
                (
                    row.email,
                    row.first_name,
                    row.last_name,
                    row.phone,
                    row.company.name if row.company else "",
                    row.company.domain if row.company else "",
                    row.job_title,
                    row.country,
                    row.lifecycle_stage,
                    row.source,
                    row.score,
                    row.created_at.isoformat(),
                )
            )
    return path


def write_deal_log_csv(path: Path, deals: int, *, seed: int = 42) -> Path:
    """The stage log of ``deals`` deal paths: ``case_id,stage,entered_at`` (process mining)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("case_id", "stage", "entered_at"))
        for deal in deal_paths(deals, seed=seed, start=EPOCH):
            for stage, entered in deal.steps:
                writer.writerow((deal.index, stage, entered.isoformat()))
    return path


@dataclass
class Loaded:
    companies: int = 0
    contacts: int = 0
    deals: int = 0
    open_deals: int = 0


def load(
    *,
    contacts_size: int,
    open_deals: int = 0,
    seed: int = 42,
    batch_size: int = 5000,
) -> Loaded:
    """Load a data set into the current database through the bulk service paths.

    ``contacts_size`` contacts (repeats skipped) at one company per ten, an admin user
    ``bench@flowcrm.local`` owning everything, and, when ``open_deals`` > 0, a "Bench" pipeline
    with that many open deals plus the won and lost deals that the same stage paths produce.
    """
    from flowcrm.accounts.models import Role, User
    from flowcrm.contacts.bulk import company_bulk_create, contact_bulk_create
    from flowcrm.core.actors import Actor

    actor = Actor.system("bench")
    owner = User.objects.filter(email=BENCH_USER).first() or User.objects.create_user(
        BENCH_USER, None, name="Bench", role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    loaded = Loaded()
    companies = company_count(contacts_size)
    company_ids = company_bulk_create(
        (
            {
                "name": company.name,
                "domain": company.domain,
                "country": company.country,
                "industry": company.industry,
                "size": company.size,
                "owner_id": owner.pk,
                "created_at": EPOCH - dt.timedelta(days=800),
            }
            for company in (company_at(seed, index) for index in range(companies))
        ),
        actor=actor,
        batch_size=batch_size,
    )
    loaded.companies = len(company_ids)
    loaded.contacts = len(
        contact_bulk_create(
            (
                {
                    "email": row.email,
                    "first_name": row.first_name,
                    "last_name": row.last_name,
                    "phone": row.phone,
                    "company_id": company_ids[row.company.index] if row.company else None,
                    "job_title": row.job_title,
                    "country": row.country,
                    "lifecycle_stage": row.lifecycle_stage,
                    "source": row.source,
                    "score": row.score,
                    "owner_id": owner.pk,
                    "created_at": row.created_at,
                }
                for row in contacts(contacts_size, seed=seed)
                if row.duplicate_of is None
            ),
            actor=actor,
            batch_size=batch_size,
        )
    )
    if open_deals:
        loaded.deals, loaded.open_deals = _load_deals(
            open_deals, seed=seed, owner_id=owner.pk, company_ids=company_ids, actor=actor
        )
    return loaded


BENCH_USER = "bench@flowcrm.local"


def _load_deals(
    open_deals: int, *, seed: int, owner_id: int, company_ids: list[int], actor: Any
) -> tuple[int, int]:
    """Deals along ``bench.dealpaths`` until ``open_deals`` of them are open."""
    from flowcrm.sales.bulk import deal_bulk_create
    from flowcrm.sales.models import Pipeline
    from flowcrm.sales.services import StageSpec, pipeline_create

    pipeline = Pipeline.objects.filter(name="Bench").first() or pipeline_create(
        name="Bench",
        is_default=True,
        stages=[
            *(StageSpec(name, probability=10 * (i + 1), rotting_days=21)
              for i, name in enumerate(DEFAULT_STAGES)),
            StageSpec(WON, probability=100, is_won=True),
            StageSpec(LOST, is_lost=True),
        ],
        actor=actor,
    )  # fmt: skip
    stage_ids = {stage.name: stage.pk for stage in pipeline.stages.all()}
    rng = random.Random(seed + 2)
    # Some generated paths are still open; walk the (lazy) paths until N open ones are kept.
    rows: list[dict[str, Any]] = []
    open_count = 0
    for path in deal_paths(open_deals * 50, seed=seed, start=EPOCH):
        is_open = path.outcome == "open"
        if is_open and open_count >= open_deals:
            continue
        open_count += is_open
        rows.append(
            {
                "title": f"Deal {path.index}",
                "amount": rng.randrange(1000, 90000),
                "pipeline_id": pipeline.pk,
                "owner_id": owner_id,
                "company_id": rng.choice(company_ids) if company_ids else None,
                "path": [(stage_ids[name], entered) for name, entered in path.steps],
            }
        )
        if open_count >= open_deals:
            break
    return len(deal_bulk_create(rows, actor=actor)), open_count
