"""The request benchmarks: contacts list and search (API and page), and the deals kanban.

Each request goes through Django's test ``Client`` in this process (the whole stack: middleware,
session authentication, permissions, the selector, serialisation or the template), logged in as
the bench admin. Before timing, one request of each kind is checked for correctness, so the smoke
run fails on a broken endpoint rather than timing an error page.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.test import Client
from django.urls import Resolver404, resolve

from bench.measure import RawReplay, capture, latency_result, timed_runs


class NotAvailable(Exception):
    """The endpoint a benchmark needs does not exist (yet) in this build."""


class BenchmarkFailed(Exception):
    """A request answered wrongly: the smoke run reports it and exits non-zero."""


@dataclass(frozen=True)
class Probe:
    """One kind of request: its URL, and a check of its response."""

    label: str
    url: str
    check: Callable[[Any], None]


def _client() -> Client:
    from bench.generator import BENCH_USER
    from flowcrm.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email=BENCH_USER))
    return client


def _available(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _expect_items(minimum: int) -> Callable[[Any], None]:
    def check(response: Any) -> None:
        if response.status_code != 200:
            raise BenchmarkFailed(f"HTTP {response.status_code}: {response.content[:300]!r}")
        items = response.json().get("items", [])
        if len(items) < minimum:
            raise BenchmarkFailed(f"expected at least {minimum} items, got {len(items)}")

    return check


def _expect_page(marker: str) -> Callable[[Any], None]:
    def check(response: Any) -> None:
        if response.status_code != 200:
            raise BenchmarkFailed(f"HTTP {response.status_code}")
        if marker not in response.content.decode():
            raise BenchmarkFailed(f"the page does not show {marker!r}")

    return check


def _measure(probes: list[Probe], runs: int) -> dict[str, Any]:
    """Time every probe ``runs`` times and replay its SQL raw; the first probe is the headline."""
    available = [probe for probe in probes if _available(probe.url.split("?")[0])]
    if not available:
        raise NotAvailable(", ".join(probe.url for probe in probes) + " not routed yet")
    client = _client()
    replay = RawReplay()
    variants: list[dict[str, Any]] = []
    try:
        for probe in available:
            request = partial(client.get, probe.url)
            probe.check(request())
            captured = capture(request)
            samples = timed_runs(request, runs)
            limits = timed_runs(partial(replay.run, captured), runs)
            variants.append(
                {
                    "label": probe.label,
                    "url": probe.url,
                    "queries": len(captured.statements),
                    **latency_result(samples, limits),
                }
            )
    finally:
        replay.close()
    missing = [probe.url for probe in probes if probe not in available]
    headline = {k: v for k, v in variants[0].items() if k not in ("label", "url")}
    return {**headline, "variants": variants, "not_available": missing}


def contacts_list(*, runs: int, seed: int) -> dict[str, Any]:
    """Page 1 of the contacts list: API (50 rows) and page."""
    from flowcrm.contacts.models import Contact

    newest = Contact.objects.order_by("-created_at", "-id").first()
    marker = newest.last_name if newest is not None else ""
    return _measure(
        [
            Probe("api", "/api/v1/contacts?limit=50", _expect_items(1)),
            Probe("page", "/contacts/", _expect_page(marker)),
        ],
        runs,
    )


def search_terms(seed: int, count: int = 20) -> list[str]:
    """Last names that exist in the data set, in a seeded order (each run searches another)."""
    from flowcrm.contacts.models import Contact

    names = sorted(set(Contact.objects.values_list("last_name", flat=True)[:2000]))
    rng = random.Random(seed)
    rng.shuffle(names)
    return names[:count] or ["nobody"]


def contacts_search(*, runs: int, seed: int) -> dict[str, Any]:
    """A name search: API and page, a different existing last name each time."""
    terms = search_terms(seed)
    results = _measure(
        [
            Probe("api", f"/api/v1/contacts?limit=50&q={terms[0]}", _expect_items(1)),
            Probe("page", f"/contacts/?q={terms[0]}", _expect_page(terms[0])),
        ],
        runs,
    )
    results["search_term"] = terms[0]
    return results


def kanban(*, runs: int, seed: int) -> dict[str, Any]:
    """The deals board of the pipeline with the open deals."""
    from flowcrm.sales.models import Deal, Pipeline

    pipeline = Pipeline.objects.filter(name="Bench").first()
    if pipeline is None:
        raise BenchmarkFailed("no Bench pipeline: the data set has no deals")
    open_deals = Deal.objects.filter(pipeline=pipeline, status="open").count()
    first_stage = pipeline.stages.order_by("position").first()
    results = _measure(
        [
            Probe(
                "page",
                f"/deals/?pipeline={pipeline.pk}",
                _expect_page(first_stage.name if first_stage else ""),
            )
        ],
        runs,
    )
    results["open_deals"] = open_deals
    return results
