"""The benchmark harness: names, the smoke run CI uses, and the deterministic data generator."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from bench import generator, web
from bench.harness import BENCHMARKS
from flowcrm.contacts.models import Contact

REQUIRED_KEYS = {
    "name",
    "database",
    "size",
    "runs",
    "median_seconds",
    "p95_seconds",
    "throughput_per_second",
    "limit_median_seconds",
    "ratio_to_limit",
    "peak_rss_mb",
}


def test_bench_list_names_every_benchmark() -> None:
    # when the benchmarks are listed
    out = StringIO()
    call_command("bench", "list", stdout=out)
    # then every name of the suite is there, one a line
    names = [line.split()[0] for line in out.getvalue().splitlines()]
    assert names == [
        "import-contacts",
        "contacts-list",
        "contacts-search",
        "kanban",
        "flow-lead-routing",
        "analytics",
    ]


@pytest.mark.django_db(transaction=True)
def test_the_smoke_run_checks_every_benchmark_and_writes_their_json(tmp_path: Path) -> None:
    # when the smoke run goes through every benchmark at its tiny size
    report = tmp_path / "smoke.json"
    out = StringIO()
    call_command("bench", "smoke", "--here", "--json", str(report), stdout=out)
    # then none failed, and each is either measured or reported as not there yet
    results = {r["name"]: r for r in json.loads(report.read_text())}
    assert set(results) == set(BENCHMARKS)
    assert {r["status"] for r in results.values()} <= {"ok", "not available yet"}
    # and the contacts list was measured against its raw limit, with the JSON keys of the suite
    listing = results["contacts-list"]
    assert listing["status"] == "ok"
    assert set(listing) >= REQUIRED_KEYS
    assert listing["limit_median_seconds"] > 0
    assert listing["variants"][0]["queries"] >= 1
    assert results["contacts-search"]["search_term"]
    assert "contacts-list" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_smoke_run_fails_when_a_benchmark_answers_wrongly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a contacts list that answers with an error
    def broken(*, runs: int, seed: int) -> dict[str, object]:
        raise web.BenchmarkFailed("HTTP 500")

    monkeypatch.setattr(web, "contacts_list", broken)
    # when the smoke run goes, then it fails naming the benchmark
    with pytest.raises(CommandError, match="contacts-list"):
        call_command("bench", "smoke", "--here", stdout=StringIO())


def test_the_generator_writes_the_same_csv_for_a_seed_with_messy_repeats(tmp_path: Path) -> None:
    # when the same data set is written twice, and once with another seed
    first = generator.write_contacts_csv(tmp_path / "a.csv", 2000, seed=5)
    again = generator.write_contacts_csv(tmp_path / "b.csv", 2000, seed=5)
    other = generator.write_contacts_csv(tmp_path / "c.csv", 2000, seed=6)
    # then the same seed gives the same bytes, another seed other data
    assert first.read_bytes() == again.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    # and about 2% of the rows repeat an address in another case and with whitespace
    with first.open(newline="", encoding="utf-8") as handle:
        emails = [row["Email"] for row in csv.DictReader(handle)]
    repeats = [e for e in emails if e != e.strip()]
    assert 20 <= len(repeats) <= 60
    assert all(e.strip().lower() in emails for e in repeats)
    assert len({e.strip().lower() for e in emails}) == len(emails) - len(repeats)


@pytest.mark.django_db
def test_loading_through_the_bulk_paths_skips_the_repeats() -> None:
    # when a data set is loaded into FlowCRM with some open deals
    loaded = generator.load(contacts_size=500, open_deals=12, seed=3)
    # then every distinct contact is there once, and the open deals asked for
    distinct = sum(1 for row in generator.contacts(500, seed=3) if row.duplicate_of is None)
    assert loaded.contacts == distinct == Contact.objects.count()
    assert (loaded.companies, loaded.open_deals) == (50, 12)
