"""Timing helpers: medians and p95, peak memory, and the raw limit of a request's queries.

The raw limit of a page or API call is the same SQL the request ran (captured once with
``connection.execute_wrapper``), replayed through the plain driver (``sqlite3``/``psycopg``) on a
connection of its own: what the database alone needs to answer. ``ratio_to_limit`` is FlowCRM's
median over that median: 1.0 would mean Django, serialisation and templates cost nothing.
"""

from __future__ import annotations

import re
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

_QMARK = re.compile(r"(?<!%)%s")


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def p95(samples: Sequence[float]) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[94]


def timed_runs(action: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


@dataclass
class CapturedQueries:
    """SELECT statements a block of code ran, with their parameters."""

    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if not many and sql.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)


def capture(action: Callable[[], Any]) -> CapturedQueries:
    captured = CapturedQueries()
    with connection.execute_wrapper(captured):
        action()
    return captured


class RawReplay:
    """Replays captured statements on a plain driver connection to the same database."""

    def __init__(self) -> None:
        settings = connection.settings_dict
        self.vendor = connection.vendor
        if self.vendor == "sqlite":
            import sqlite3

            self.connection: Any = sqlite3.connect(settings["NAME"])
        else:
            import psycopg

            self.connection = psycopg.connect(
                dbname=settings["NAME"],
                user=settings.get("USER") or None,
                password=settings.get("PASSWORD") or None,
                host=settings.get("HOST") or None,
                port=settings.get("PORT") or None,
                autocommit=True,
            )

    def run(self, captured: CapturedQueries) -> None:
        cursor = self.connection.cursor()
        for sql, params in captured.statements:
            if self.vendor == "sqlite":
                sql = _QMARK.sub("?", sql).replace("%%", "%")
            cursor.execute(sql, params)
            cursor.fetchall()
        cursor.close()

    def close(self) -> None:
        self.connection.close()


def latency_result(samples: Sequence[float], limit_samples: Sequence[float]) -> dict[str, float]:
    median = statistics.median(samples)
    limit = statistics.median(limit_samples)
    return {
        "median_seconds": round(median, 5),
        "p95_seconds": round(p95(samples), 5),
        "throughput_per_second": round(1 / median, 1) if median else 0.0,
        "limit_median_seconds": round(limit, 5),
        "ratio_to_limit": round(median / limit, 2) if limit else 0.0,
    }
