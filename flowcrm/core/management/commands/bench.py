"""``flowcrm bench``: list, run or smoke-test the benchmarks (see bench/README.md)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench.harness import (
    BENCHMARKS,
    RESULT_PREFIX,
    Benchmark,
    bench_database_url,
    dataset_key,
    measure,
    prepare,
    run_child,
)

SMOKE_RUNS = 2
SMOKE_SEED = 1


class Command(BaseCommand):
    help = (
        "Benchmarks: 'bench list', 'bench <name> [--size N] [--runs N] [--json PATH]', "
        "'bench smoke'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", help="list, smoke, or a benchmark name")
        parser.add_argument("--size", type=int, default=None)
        parser.add_argument("--runs", type=int, default=None)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--json", dest="json_path", default=None, help="write results here")
        parser.add_argument(
            "--database-url",
            default=None,
            help="PostgreSQL server (postgres://…/prefix) for the bench databases; default: "
            "the configured server when it is PostgreSQL, else SQLite files under data/bench/",
        )
        parser.add_argument(
            "--here",
            action="store_true",
            help="smoke only: run in this process against the configured database",
        )
        # Internal: what a child process does on the benchmark's own database.
        parser.add_argument("--stage", choices=["prepare", "measure", "smoke"], default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        target = options["target"]
        if options["stage"]:
            self._child(target, options)
            return
        if target == "list":
            for benchmark in BENCHMARKS.values():
                state = "" if benchmark.available() else "  (not available yet)"
                self.stdout.write(
                    f"{benchmark.name:<18} default size {benchmark.default_size:>9,}  "
                    f"{benchmark.description}{state}"
                )
            return
        if target == "smoke":
            results = self._smoke(options)
        elif target in BENCHMARKS:
            results = [self._run(BENCHMARKS[target], options)]
        else:
            raise CommandError(f"Unknown benchmark {target!r}; see 'flowcrm bench list'.")
        self._report(results, options["json_path"])
        failed = [r["name"] for r in results if r["status"] == "failed"]
        if failed:
            raise CommandError(f"Benchmarks failed: {', '.join(failed)}")

    # ------------------------------------------------------------------ parent process

    def _run(self, benchmark: Benchmark, options: dict[str, Any]) -> dict[str, Any]:
        size = options["size"] or benchmark.default_size
        runs = options["runs"] or (3 if benchmark.plugin else 50)
        seed = options["seed"]
        url = bench_database_url(
            dataset_key(benchmark, size, seed),
            base_url=options["database_url"],
            data_dir=Path(settings.DATA_DIR),
            fresh=benchmark.plugin is not None,
        )
        common = ["--size", str(size), "--runs", str(runs), "--seed", str(seed)]
        started = time.perf_counter()
        self.stdout.write(f"{benchmark.name}: preparing the database ({size:,})…")
        run_child([benchmark.name, "--stage", "prepare", *common], database_url=url)
        self.stdout.write(f"  ready in {time.perf_counter() - started:.1f} s; measuring…")
        [result] = run_child([benchmark.name, "--stage", "measure", *common], database_url=url)
        return result

    def _smoke(self, options: dict[str, Any]) -> list[dict[str, Any]]:
        if options["here"]:
            return smoke_here()
        url = bench_database_url(
            "smoke",
            base_url=options["database_url"],
            data_dir=Path(settings.DATA_DIR),
            fresh=True,
        )
        return run_child(["smoke", "--stage", "smoke"], database_url=url)

    def _report(self, results: list[dict[str, Any]], json_path: str | None) -> None:
        self.stdout.write(
            f"{'benchmark':<18} {'db':<10} {'size':>9} {'runs':>4} {'median':>10} "
            f"{'p95':>10} {'limit':>10} {'ratio':>6} {'per s':>9} {'RSS MB':>7}  status"
        )
        for r in results:
            self.stdout.write(
                f"{r['name']:<18} {r['database']:<10} {r['size']:>9,} {r['runs']:>4} "
                f"{_ms(r.get('median_seconds')):>10} {_ms(r.get('p95_seconds')):>10} "
                f"{_ms(r.get('limit_median_seconds')):>10} {r.get('ratio_to_limit', ''):>6} "
                f"{r.get('throughput_per_second', ''):>9} {r.get('peak_rss_mb', ''):>7}  "
                f"{r['status']}"
            )
            for variant in r.get("variants", [])[1:]:
                self.stdout.write(
                    f"  {variant['label']:<16} {'':<10} {'':>9} {'':>4} "
                    f"{_ms(variant['median_seconds']):>10} {_ms(variant['p95_seconds']):>10} "
                    f"{_ms(variant['limit_median_seconds']):>10} {variant['ratio_to_limit']:>6}"
                )
            for url in r.get("not_available", []):
                self.stdout.write(f"  {url}: not available yet")
            if r["status"] != "ok":
                self.stdout.write(f"  {r.get('detail', '')}".rstrip())
            elif "dataset" in r:
                self.stdout.write(f"  data set: {r['dataset']}")
        if json_path:
            payload: Any = results[0] if len(results) == 1 else results
            Path(json_path).write_text(json.dumps(payload, indent=2, default=str) + "\n")
            self.stdout.write(f"Results written to {json_path}")

    # ------------------------------------------------------------------ child process

    def _child(self, target: str, options: dict[str, Any]) -> None:
        if options["stage"] == "smoke":
            results = smoke_here()
        else:
            benchmark = BENCHMARKS[target]
            size = options["size"] or benchmark.default_size
            if options["stage"] == "prepare":
                counts = prepare(benchmark, size, options["seed"])
                self.stdout.write(f"data set: {counts}")
                return
            results = [
                measure(
                    benchmark,
                    size=size,
                    runs=options["runs"] or 3,
                    seed=options["seed"],
                    smoke=False,
                )
            ]
        sys.stdout.write(RESULT_PREFIX + json.dumps(results, default=str) + "\n")


def smoke_here() -> list[dict[str, Any]]:
    """Every benchmark at its tiny size on the configured database (correctness, not speed)."""
    from django.core.management import call_command

    from bench.generator import load

    call_command("migrate", interactive=False, verbosity=0)
    load(contacts_size=BENCHMARKS["contacts-list"].smoke_size, open_deals=40, seed=SMOKE_SEED)
    return [
        measure(b, size=b.smoke_size, runs=SMOKE_RUNS, seed=SMOKE_SEED, smoke=True)
        for b in BENCHMARKS.values()
    ]


def _ms(seconds: Any) -> str:
    return f"{seconds * 1000:.2f} ms" if isinstance(seconds, int | float) else ""
