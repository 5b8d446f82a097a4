"""Benchmark ``analytics``: process analytics over the deal-stage log at size.

``run(size, runs)`` loads ``size`` events of :mod:`bench.dealpaths` into a fresh bench database
(its own event table, written with one multi-row INSERT per batch, or COPY on PostgreSQL) and times,
end to end, what the process view needs: reading the log through the deals case notion (SQL,
fetch, numpy sort) plus DFG with durations, top-10 variants and sojourn times. In the same run it
times the raw limit (the database alone computing DFG counts and mean durations with window
functions over the same table) and, when PM4Py is installed, PM4Py on the same rows.

``FLOWCRM_BENCH_DATABASE`` selects ``sqlite`` (default; a temporary file) or a
``postgres://`` URL of a database the benchmark may fill and empty.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.dealpaths import deal_paths

ALIAS = "analytics_bench"
BATCH = 20_000
EVENT_COLUMNS = (
    "type",
    "subject_type",
    "subject_id",
    "actor_kind",
    "actor_label",
    "changes",
    "data",
    "occurred_at",
)


def _rows(size: int) -> Iterator[tuple[Any, ...]]:
    """``size`` event rows in the documented shape of deal.created / deal.stage_changed."""
    produced = 0
    for path in deal_paths(max(size // 3, 1) + 10, seed=42):
        previous = None
        for stage, entered in path.steps:
            if previous is None:
                kind, data = "deal.created", {"pipeline_id": 1, "stage": stage}
            else:
                kind = "deal.stage_changed"
                data = {"pipeline_id": 1, "from_stage": previous, "to_stage": stage}
            yield (kind, "deal", path.index + 1, "system", "", "{}", json.dumps(data), entered)
            previous = stage
            produced += 1
            if produced >= size:
                return


def _connect(database: str) -> tuple[str, str]:
    """Register the bench alias; returns (vendor, cleanup path or '')."""
    from django.db import connections

    if database == "sqlite":
        folder = tempfile.mkdtemp(prefix="flowcrm-bench-")
        name = str(Path(folder) / "analytics.sqlite3")
        settings: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    else:
        import environ

        settings = environ.Env.db_url_config(database)
        name = ""
        _create_postgres_database(settings)
    defaults = connections["default"].settings_dict
    connections.settings[ALIAS] = {**defaults, "OPTIONS": {}, "TEST": {}, **settings}
    connections[ALIAS].ensure_connection()
    return connections[ALIAS].vendor, name


def _create_postgres_database(settings: dict[str, Any]) -> None:
    """Create the bench database when the server does not have it yet."""
    import psycopg
    from psycopg import sql

    keys = {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD"}
    server = " ".join(f"{k}={settings[v]}" for k, v in keys.items() if settings.get(v))
    with psycopg.connect(f"{server} dbname=postgres", autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings["NAME"],)
        ).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings["NAME"]))
            )


def _create_and_load(size: int) -> int:
    from django.db import connections, transaction

    from flowcrm.core.models import Event

    connection = connections[ALIAS]
    with connection.schema_editor() as editor:
        editor.execute(f"DROP TABLE IF EXISTS {Event._meta.db_table}")
        editor.create_model(Event)
    with transaction.atomic(using=ALIAS):
        count = _insert(connection, size)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Event._meta.db_table}")
    return count


def _insert(connection: Any, size: int) -> int:
    from flowcrm.core.models import Event

    columns = ", ".join(EVENT_COLUMNS)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {Event._meta.db_table} ({columns}) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in _rows(size):
                    copy.write_row(row)
                    count += 1
        else:
            placeholders = ", ".join(["%s"] * len(EVENT_COLUMNS))
            sql = f"INSERT INTO {Event._meta.db_table} ({columns}) VALUES ({placeholders})"
            batch: list[tuple[Any, ...]] = []
            for row in _rows(size):
                stamp = row[-1].strftime("%Y-%m-%d %H:%M:%S")
                batch.append((*row[:-1], stamp))
                if len(batch) >= BATCH:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch = []
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _ours() -> dict[str, Any]:
    from flowcrm.insights.process import analysis
    from flowcrm.insights.process.filters import ProcessFilter
    from flowcrm.insights.process.notions import get_case_notion, load_log

    log = load_log(get_case_notion("deals"), ProcessFilter(), None, using=ALIAS)
    edges = analysis.directly_follows(log)
    top = analysis.variants(log, top=10)
    sojourn = analysis.sojourn_times(log)
    return {
        "events": log.event_count,
        "cases": log.case_count,
        "edges": len(edges),
        "top_variant_count": top.top[0].count if top.top else 0,
        "sojourn": len(sojourn),
    }


def _limit_sql(vendor: str) -> str:
    if vendor == "postgresql":
        activity, seconds = (
            "COALESCE(data->>'to_stage', data->>'stage')",
            "EXTRACT(EPOCH FROM occurred_at)",
        )
    else:
        activity = "COALESCE(json_extract(data, '$.to_stage'), json_extract(data, '$.stage'))"
        seconds = "(julianday(occurred_at) - 2440587.5) * 86400.0"
    return f"""
        WITH log AS (
            SELECT subject_id AS case_id, {activity} AS activity, {seconds} AS seconds, id
            FROM core_event
            WHERE subject_type = 'deal' AND type IN ('deal.created', 'deal.stage_changed')
        ), pairs AS (
            SELECT activity AS source,
                   LEAD(activity) OVER w AS target,
                   LEAD(seconds) OVER w - seconds AS duration
            FROM log WINDOW w AS (PARTITION BY case_id ORDER BY seconds, id)
        )
        SELECT source, target, COUNT(*), AVG(duration) FROM pairs
        WHERE target IS NOT NULL GROUP BY source, target
    """


def _limit(vendor: str) -> int:
    from django.db import connections

    with connections[ALIAS].cursor() as cursor:
        cursor.execute(_limit_sql(vendor))
        return len(cursor.fetchall())


def _pm4py_seconds() -> float | None:
    """PM4Py's time for the same analyses on the same rows (read from the bench table)."""
    try:
        import pandas as pd
        import pm4py
    except ImportError:
        return None
    from flowcrm.insights.process.filters import ProcessFilter
    from flowcrm.insights.process.notions import get_case_notion, load_log

    log = load_log(get_case_notion("deals"), ProcessFilter(), None, using=ALIAS)
    frame = pd.DataFrame(
        {
            "case:concept:name": log.case_keys.astype(str),
            "concept:name": [log.activity_names[a] for a in log.activities.tolist()],
            "time:timestamp": pd.to_datetime(log.timestamps, unit="s", utc=True),
        }
    )
    del log
    started = time.perf_counter()
    frame = pm4py.format_dataframe(frame)
    pm4py.discover_performance_dfg(frame)
    variants = pm4py.get_variants(frame)
    sorted(variants.items(), key=lambda item: -item[1])[:10]
    frame["start_timestamp"] = frame["time:timestamp"]
    pm4py.get_service_time(frame, start_timestamp_key="start_timestamp")
    return time.perf_counter() - started


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(size: int, runs: int) -> dict[str, Any]:
    """Time the analytics ``runs`` times over ``size`` events; the JSON document of the run."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowcrm.settings")
    django.setup()
    from django.db import connections

    database = os.environ.get("FLOWCRM_BENCH_DATABASE", "sqlite")
    vendor, path = _connect(database)
    loaded = _create_and_load(size)
    timings: list[float] = []
    limits: list[float] = []
    for _ in range(max(runs, 1)):
        started = time.perf_counter()
        result = _ours()
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        _limit(vendor)
        limits.append(time.perf_counter() - started)
    peak = _peak_rss_mb()
    pm4py_seconds = _pm4py_seconds()
    median = statistics.median(timings)
    limit = statistics.median(limits)
    ordered = sorted(timings)
    document = {
        "name": "analytics",
        "database": vendor,
        "size": loaded,
        "runs": len(timings),
        "median_seconds": round(median, 4),
        "p95_seconds": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 4),
        "limit_median_seconds": round(limit, 4),
        "ratio_to_limit": round(median / limit, 3) if limit else None,
        "peak_rss_mb": round(peak, 1),
        "pm4py_seconds": round(pm4py_seconds, 3) if pm4py_seconds is not None else None,
        "ratio_to_pm4py": round(median / pm4py_seconds, 4) if pm4py_seconds else None,
        "cases": result["cases"],
    }
    if path:
        connections[ALIAS].close()
        shutil.rmtree(Path(path).parent, ignore_errors=True)
    return document


if __name__ == "__main__":
    import sys

    print(
        json.dumps(
            run(
                int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
                int(sys.argv[2]) if len(sys.argv) > 2 else 3,
            )
        )
    )
