"""The benchmark harness behind ``flowcrm bench``: the registry, the databases, the processes.

Each benchmark runs against a database of its own, never the configured one: a SQLite file
``<data>/bench/<data set>.sqlite3``, or on PostgreSQL a database ``<name>_bench_<data set>`` on
the configured (or ``--database-url``) server. A request benchmark's data set is loaded once per
size and seed and reused by later runs; a plug-in benchmark gets a freshly migrated database
each time. Loading and measuring run in two child processes, so the peak memory reported is that
of the measurement alone.

Plug-ins: a module ``bench/<name>.py`` with ``run(*, size, runs, seed=..., smoke=...)`` (it may
accept any subset of those keywords) that returns a dict of results in the JSON shape of the
README. It runs with Django set up on its own migrated database.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

RESULT_PREFIX = "BENCH-RESULT "


@dataclass(frozen=True)
class Benchmark:
    name: str
    description: str
    default_size: int
    smoke_size: int
    # Request benchmarks: (contacts, open deals) to load for a size, and the measurement.
    dataset: Callable[[int], tuple[int, int]] | None = None
    measure: str | None = None  # a function of bench.web
    plugin: str | None = None  # a module with run()

    def available(self) -> bool:
        if self.plugin is None:
            return True
        try:
            return importlib.util.find_spec(self.plugin) is not None
        except ModuleNotFoundError:
            return False


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            "import-contacts",
            "import a contacts CSV with upsert by e-mail (rows/s)",
            100_000,
            200,
            plugin="bench.import_contacts",
        ),
        Benchmark(
            "contacts-list",
            "contacts list page 1: API (50 rows) and page (latency)",
            100_000,
            300,
            dataset=lambda size: (size, 0),
            measure="contacts_list",
        ),
        Benchmark(
            "contacts-search",
            "contacts name search: API and page (latency)",
            100_000,
            300,
            dataset=lambda size: (size, 0),
            measure="contacts_search",
        ),
        Benchmark(
            "kanban",
            "deals board with N open deals (latency)",
            10_000,
            40,
            dataset=lambda size: (max(1000, size // 10), size),
            measure="kanban",
        ),
        Benchmark(
            "flow-lead-routing",
            "lead-routing flow over N new leads (runs/s)",
            10_000,
            50,
            plugin="bench.flow_lead_routing",
        ),
        Benchmark(
            "analytics",
            "process analytics over the deal-stage log of N events",
            100_000,
            200,
            plugin="bench.analytics",
        ),
    )
}


def dataset_key(benchmark: Benchmark, size: int, seed: int) -> str:
    if benchmark.dataset is None:
        return f"{benchmark.name.replace('-', '_')}_{size}_s{seed}"
    contacts, deals = benchmark.dataset(size)
    return f"crm_{contacts}c_{deals}d_s{seed}"


# ---------------------------------------------------------------- databases (parent process)


def bench_database_url(key: str, *, base_url: str | None, data_dir: Path, fresh: bool) -> str:
    """The URL of the database for data set ``key`` (created on PostgreSQL; emptied if fresh)."""
    base = base_url or os.environ.get("FLOWCRM_DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        return _postgres_database(base, key, fresh=fresh)
    path = data_dir / "bench" / f"{key}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _postgres_database(base: str, key: str, *, fresh: bool) -> str:
    import psycopg
    from psycopg import sql

    parts = urlsplit(base)
    name = f"{(parts.path.lstrip('/') or 'flowcrm')}_bench_{key}"[:63]
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server.replace("postgres://", "postgresql://", 1), autocommit=True) as db:
        exists = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            db.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlunsplit(parts._replace(path=f"/{name}"))


def run_child(
    arguments: list[str], *, database_url: str, stream: Any = None
) -> list[dict[str, Any]]:
    """Run ``flowcrm bench …`` in a child process on ``database_url``; its reported results."""
    env = {**os.environ, "FLOWCRM_DATABASE_URL": database_url}
    completed = subprocess.run(
        [sys.executable, "-m", "flowcrm.cli", "bench", *arguments],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    results: list[dict[str, Any]] = []
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            results.extend(json.loads(line[len(RESULT_PREFIX) :]))
        elif stream is not None:
            stream.write(line + "\n")
    if completed.returncode != 0 and not results:
        raise RuntimeError(f"bench child {' '.join(arguments)} failed:\n{completed.stderr[-3000:]}")
    return results


# ----------------------------------------------------------- inside the benchmark's database


def prepare(benchmark: Benchmark, size: int, seed: int) -> dict[str, int]:
    """Migrate; load the request benchmarks' data set unless it is there. Returns row counts."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    if benchmark.dataset is not None:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_dataset (key varchar(200))")
            cursor.execute("SELECT key FROM bench_dataset")
            loaded = cursor.fetchone()
        if loaded is None:
            from bench.generator import load

            contacts, deals = benchmark.dataset(size)
            load(contacts_size=contacts, open_deals=deals, seed=seed)
            with connection.cursor() as cursor:
                # Planner statistics, as a live database gets them (PRAGMA optimize, autovacuum):
                # without them SQLite sorts the whole table for page 1 of a list.
                cursor.execute("ANALYZE")
                cursor.execute(
                    "INSERT INTO bench_dataset (key) VALUES (%s)",
                    [dataset_key(benchmark, size, seed)],
                )
    return dataset_counts()


def dataset_counts() -> dict[str, int]:
    from flowcrm.contacts.models import Company, Contact
    from flowcrm.core.models import Event
    from flowcrm.sales.models import Deal

    return {
        "contacts": Contact.objects.count(),
        "companies": Company.objects.count(),
        "deals": Deal.objects.count(),
        "open_deals": Deal.objects.filter(status="open").count(),
        "events": Event.objects.count(),
    }


def measure(
    benchmark: Benchmark, *, size: int, runs: int, seed: int, smoke: bool
) -> dict[str, Any]:
    """Run one benchmark here; always returns a result (``status``: ok, failed, not available)."""
    from django.db import connection

    from bench import web
    from bench.measure import peak_rss_mb

    base: dict[str, Any] = {
        "name": benchmark.name,
        "database": "postgresql" if connection.vendor == "postgresql" else "sqlite",
        "size": size,
        "runs": runs,
    }
    try:
        if benchmark.plugin is not None:
            if not benchmark.available():
                raise web.NotAvailable(f"{benchmark.plugin} is not there yet")
            result = _run_plugin(benchmark.plugin, size=size, runs=runs, seed=seed, smoke=smoke)
        else:
            assert benchmark.measure is not None
            result = getattr(web, benchmark.measure)(runs=runs, seed=seed)
            result["dataset"] = dataset_counts()
    except web.NotAvailable as missing:
        return {**base, "status": "not available yet", "detail": str(missing)}
    except Exception:
        return {**base, "status": "failed", "detail": traceback.format_exc(limit=6)}
    outcome = {**base, **result, "status": "ok"}
    outcome.setdefault("peak_rss_mb", peak_rss_mb())
    if outcome.get("median_seconds") and outcome.get("limit_median_seconds"):
        # One convention for every benchmark: our time over the raw limit's (>= 1 is slower).
        outcome["ratio_to_limit"] = round(
            outcome["median_seconds"] / outcome["limit_median_seconds"], 2
        )
    return outcome


def _run_plugin(module_name: str, **arguments: Any) -> dict[str, Any]:
    module = importlib.import_module(module_name)
    run = module.run
    accepted = inspect.signature(run).parameters
    result = run(**{k: v for k, v in arguments.items() if k in accepted})
    return dict(result)
