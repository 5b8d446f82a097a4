"""``load_demo``: the whole demo data set, seeded, written through the bulk service paths."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from bench.dealpaths import deal_paths
from flowcrm.activities.bulk import activity_bulk_create, task_bulk_create
from flowcrm.contacts.bulk import company_bulk_create, contact_bulk_create
from flowcrm.core.actors import Actor
from flowcrm.demo.people import PhoneBook
from flowcrm.demo.records import (
    CompanyFacts,
    company_rows,
    contact_note_rows,
    contact_rows,
    deal_activity_rows,
    deal_rows,
    task_rows,
)
from flowcrm.demo.setup import NEW_BUSINESS, RENEWALS, Organisation, set_up_organisation
from flowcrm.sales.bulk import deal_bulk_create

RENEWAL_SHARE = 0.2
# The open stages of each demo pipeline, in order (won/lost come from the paths themselves).
NEW_BUSINESS_PATH = ("Lead in", "Qualified", "Demo", "Proposal", "Negotiation")
RENEWALS_PATH = ("Renewal due", "In review", "Quote sent")
DEMO_ACTOR_LABEL = "demo data"


@dataclass
class DemoSummary:
    """Counts of what was created, and seconds spent per part."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def midnight_utc() -> dt.datetime:
    """Today 00:00 UTC: the demo's "now", so a seed gives the same data all day long."""
    return dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def load_demo(
    *,
    contacts: int = 10_000,
    companies: int | None = None,
    deals: int = 4_000,
    seed: int = 42,
    now: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Create the demo data set; the same arguments (and ``now``) give the same data.

    ``companies`` defaults to one per five contacts. Deal histories span 18 months before
    ``now`` (default: today 00:00 UTC). Returns what was created. Events are appended without
    notifying subscribers (loading demo data must not run automations).
    """
    now = now or midnight_utc()
    companies = contacts // 5 if companies is None else companies
    rng = random.Random(seed)
    actor = Actor.system(DEMO_ACTOR_LABEL)
    summary = DemoSummary()
    say = progress or (lambda message: None)

    cpu = [time.process_time()]

    def timed(part: str, count: int, started: float) -> None:
        summary.counts[part] = count
        summary.seconds[part] = round(time.perf_counter() - started, 2)
        used, cpu[0] = time.process_time() - cpu[0], time.process_time()
        say(f"{part}: {count:,} in {summary.seconds[part]:.1f} s (CPU {used:.1f} s)")

    started = time.perf_counter()
    org = set_up_organisation(actor=actor)
    timed("users", len(org.users), started)
    phones = PhoneBook(rng)
    owners = org.sales_owners + org.success_owners

    started = time.perf_counter()
    facts: list[tuple[str, str, int | None, str]] = []
    company_ids = company_bulk_create(
        company_rows(rng, companies, owners=owners, phones=phones, now=now, facts=facts),
        actor=actor,
    )
    company_list = [
        CompanyFacts(pk=pk, country=country, domain=domain, owner_id=owner, phone=phone)
        for pk, (country, domain, owner, phone) in zip(company_ids, facts, strict=True)
    ]
    timed("companies", len(company_ids), started)

    started = time.perf_counter()
    contact_meta: list[tuple[int | None, int | None, dt.datetime]] = []
    contact_ids = contact_bulk_create(
        _recording(
            contact_rows(
                rng,
                contacts,
                companies=company_list,
                marketing_owners=org.marketing_owners,
                phones=phones,
                tags=sorted(org.tags.values()),
                now=now,
            ),
            lambda row: contact_meta.append(
                (row["company_id"], row["owner_id"], row["created_at"])
            ),
        ),
        actor=actor,
    )
    contacts_of: dict[int, list[int]] = {}
    for pk, (company_id, _owner, _created) in zip(contact_ids, contact_meta, strict=True):
        if company_id is not None:
            contacts_of.setdefault(company_id, []).append(pk)
    timed("contacts", len(contact_ids), started)

    started = time.perf_counter()
    deal_list = _load_deals(rng, org, deals, seed, now, company_list, contacts_of, actor)
    timed("deals", len(deal_list), started)

    started = time.perf_counter()
    activity_count = len(
        activity_bulk_create(deal_activity_rows(rng, deal_list, now=now), actor=actor)
    )
    notes = [
        (pk, owner, created)
        for pk, (_company, owner, created) in zip(contact_ids, contact_meta, strict=True)
    ]
    activity_count += len(
        activity_bulk_create(contact_note_rows(rng, notes, share=0.1), actor=actor)
    )
    timed("activities", activity_count, started)

    started = time.perf_counter()
    closed = frozenset(
        stage.pk for stages in org.stages.values() for stage in stages.values() if stage.is_closed
    )
    task_count = len(
        task_bulk_create(task_rows(rng, deal_list, closed_stage_ids=closed, now=now), actor=actor)
    )
    timed("tasks", task_count, started)
    with connection.cursor() as cursor:
        # Fresh planner statistics after a bulk load, or lists start with full-table sorts.
        cursor.execute("ANALYZE")
    _install_demo_flows(actor, say)
    return summary


def _recording(rows: Any, remember: Callable[[dict[str, Any]], None]) -> Any:
    """Pass ``rows`` through, calling ``remember`` on each (keeps the stream a stream)."""
    for row in rows:
        remember(row)
        yield row


def _load_deals(
    rng: random.Random,
    org: Organisation,
    count: int,
    seed: int,
    now: dt.datetime,
    companies: list[CompanyFacts],
    contacts_of: dict[int, list[int]],
    actor: Actor,
) -> list[tuple[int, dict[str, Any]]]:
    """New-business and renewal deals along the shared stage paths of ``bench.dealpaths``."""
    renewals = round(count * RENEWAL_SHARE)
    loaded: list[tuple[int, dict[str, Any]]] = []
    for name, number, stages, bottleneck in (
        (
            NEW_BUSINESS,
            count - renewals,
            ("Lead in", "Qualified", "Demo", "Proposal", "Negotiation"),
            "Negotiation",
        ),
        (RENEWALS, renewals, ("Renewal due", "In review", "Quote sent"), "In review"),
    ):
        if number == 0 or name not in org.pipelines:
            continue
        paths = list(
            deal_paths(
                number,
                seed=seed + len(name),
                stages=stages,
                bottleneck=bottleneck,
                start=now,
                span_days=540,
            )
        )
        rows = list(
            deal_rows(
                rng,
                paths,
                pipeline_id=org.pipelines[name].pk,
                stage_ids={stage_name: s.pk for stage_name, s in org.stages[name].items()},
                owners=org.sales_owners if name == NEW_BUSINESS else org.success_owners,
                companies=companies,
                contacts_of=contacts_of,
                renewal=name == RENEWALS,
            )
        )
        ids = deal_bulk_create(rows, actor=actor)
        loaded.extend(zip(ids, rows, strict=True))
    return loaded


def _install_demo_flows(actor: Actor, say: Callable[[str], None]) -> None:
    """Install the flows app's demo flows when that app offers them."""
    try:
        from flowcrm.flows.demo import install_demo_flows  # type: ignore[import-not-found,unused-ignore]  # optional
    except ImportError:
        return
    install_demo_flows(actor=actor)
    say("flows: demo flows installed")
