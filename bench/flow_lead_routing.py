"""Benchmark ``flow-lead-routing``: the lead-routing flow over N new leads.

Setup: five sales reps and the flow "score ≥ 50 and country in (DE, AT, CH) → assign owner
round-robin, set lead status qualified, create a follow-up task due in 2 business days; else →
tag nurture", published and active. The leads are created through the contacts service (each
enrolls its run in the same transaction), then the worker drains the runs. Timed: the worker
draining (``throughput_per_second`` = runs / drain seconds). Latency: trigger (the lead's
``contact.created`` event) to the first action's event, per run, with leads created and drained
in batches of ``BATCH`` so the queue stays short (p50/p95).

Raw limit, measured in the same run: plain SQL through the driver doing the same row writes per
lead (run insert; contact update + event, task insert + event for hot leads, tag + event for
cold ones; five step rows; the run's final update), batched with ``executemany`` in one
transaction per batch: what the engine's writes cost with no engine at all.
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import time
from typing import Any

from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

BATCH = 500
COUNTRIES = ("DE", "AT", "CH", "US", "GB", "FR")


def _setup() -> Any:
    from flowcrm.accounts.models import User
    from flowcrm.core.actors import Actor
    from flowcrm.flows.models import Flow
    from flowcrm.flows.services import flow_activate, flow_create, flow_publish
    from flowcrm.flows.tests.runtime_helpers import lead_routing

    actor = Actor.system("bench")
    reps = [
        User.objects.get_or_create(
            email=f"bench-rep{i}@example.com", defaults={"name": f"Rep {i}"}
        )[0]
        for i in range(5)
    ]
    flow = Flow.objects.filter(name="Bench: route new inbound leads").first()
    if flow is None:
        definition = lead_routing([r.pk for r in reps])
        flow = flow_create(name="Bench: route new inbound leads", draft=definition, actor=actor)
        flow_publish(flow=flow, actor=actor)
    flow_activate(flow=flow, actor=actor)
    return flow, actor


def _leads(size: int, tag: str) -> list[dict[str, Any]]:
    rng = random.Random(11)
    return [
        {
            "first_name": f"Lead{i}",
            "email": f"lead{i}-{tag}@bench.example.com",
            "score": rng.randrange(0, 100),
            "country": COUNTRIES[rng.randrange(len(COUNTRIES))],
        }
        for i in range(size)
    ]


def _marks() -> dict[str, int]:
    from flowcrm.activities.models import Task
    from flowcrm.contacts.models import Contact
    from flowcrm.core.models import Event
    from flowcrm.flows.models import FlowRun

    models: dict[str, Any] = {"contact": Contact, "event": Event, "run": FlowRun, "task": Task}
    return {
        name: model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        for name, model in models.items()
    }


def _clean_up(marks: dict[str, int]) -> None:
    from flowcrm.activities.models import Task
    from flowcrm.contacts.models import Contact
    from flowcrm.core.models import Event
    from flowcrm.flows.models import EnrollmentLog, FlowRun

    with transaction.atomic():
        Task.objects.filter(pk__gt=marks["task"]).delete()
        FlowRun.objects.filter(pk__gt=marks["run"]).delete()
        EnrollmentLog.objects.filter(record_type="contact", record_id__gt=marks["contact"]).delete()
        Contact.objects.filter(pk__gt=marks["contact"]).delete()
        Event.objects.filter(pk__gt=marks["event"]).delete()


def engine_once(size: int, tag: str) -> tuple[float, list[float], dict[str, int]]:
    """Create ``size`` leads in batches, draining after each; returns drain seconds, latencies
    and a summary of what the runs did."""
    from flowcrm.contacts.services import contact_create
    from flowcrm.core.actors import Actor
    from flowcrm.core.models import Event
    from flowcrm.flows.engine import process_due_runs
    from flowcrm.flows.models import FlowRun

    actor = Actor.system("bench")
    leads = _leads(size, tag)
    drain_seconds = 0.0
    first_run = (FlowRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    for start in range(0, size, BATCH):
        for values in leads[start : start + BATCH]:
            contact_create(values=values, actor=actor)
        began = time.perf_counter()
        while process_due_runs(limit=BATCH):
            pass
        drain_seconds += time.perf_counter() - began
    runs = FlowRun.objects.filter(pk__gte=first_run)
    enrolled = dict(runs.values_list("pk", "enrolled_at"))
    first_actions = (
        Event.objects.filter(flow_run_id__in=list(enrolled))
        .values("flow_run_id")
        .annotate(at=Min("occurred_at"))
    )
    latencies = [
        (row["at"] - enrolled[row["flow_run_id"] or 0]).total_seconds() for row in first_actions
    ]
    summary = dict.fromkeys(("completed", "failed", "other"), 0)
    for status in runs.values_list("status", flat=True):
        key = status if status in summary else "other"
        summary[key] += 1
    return drain_seconds, latencies, summary


def raw_limit_once(size: int) -> float:
    """The same row writes in plain SQL (see the module docstring); returns seconds."""
    leads = _leads(size, "raw")
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for start in range(0, size, BATCH):
            batch = leads[start : start + BATCH]
            with transaction.atomic():
                cursor.executemany(
                    "INSERT INTO bench_raw_run (status, state, due_at) VALUES (%s, %s, %s)",
                    [("running", json.dumps({"trigger": v}), now) for v in batch],
                )
                cursor.executemany(
                    "INSERT INTO bench_raw_write (kind, payload, at) VALUES (%s, %s, %s)",
                    [
                        (kind, json.dumps(v), now)
                        for v in batch
                        for kind in (
                            ("owner", "owner-event", "task", "task-event")
                            if v["score"] >= 50 and v["country"] in ("DE", "AT", "CH")
                            else ("tag", "tag-event")
                        )
                    ],
                )
                cursor.executemany(
                    "INSERT INTO bench_raw_step (node, output, at) VALUES (%s, %s, %s)",
                    [(f"node{i}", "{}", now) for _ in batch for i in range(5)],
                )
                cursor.execute(
                    "UPDATE bench_raw_run SET status = 'completed', due_at = NULL "
                    "WHERE status = 'running'"
                )
    return time.perf_counter() - started


def _raw_tables(create: bool) -> None:
    with connection.cursor() as cursor:
        for table, columns in (
            ("bench_raw_run", "status VARCHAR(16), state TEXT, due_at TIMESTAMP NULL"),
            ("bench_raw_write", "kind VARCHAR(16), payload TEXT, at TIMESTAMP"),
            ("bench_raw_step", "node VARCHAR(16), output TEXT, at TIMESTAMP"),
        ):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            if create:
                key = (
                    "id SERIAL PRIMARY KEY"
                    if connection.vendor == "postgresql"
                    else ("id INTEGER PRIMARY KEY AUTOINCREMENT")
                )
                cursor.execute(f"CREATE TABLE {table} ({key}, {columns})")


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(size: int, runs: int) -> dict[str, Any]:
    """Route ``size`` new leads ``runs`` times (each into the same starting state)."""
    _setup()
    drains: list[float] = []
    limits: list[float] = []
    latencies: list[float] = []
    summary: dict[str, int] = {}
    for index in range(runs):
        marks = _marks()
        drain, lat, summary = engine_once(size, tag=f"r{index}-{time.time_ns()}")
        drains.append(drain)
        latencies += lat
        _clean_up(marks)
        _raw_tables(create=True)
        limits.append(raw_limit_once(size))
        _raw_tables(create=False)
    median = statistics.median(drains)
    limit_median = statistics.median(limits)
    return {
        "name": "flow-lead-routing",
        "database": connection.vendor,
        "size": size,
        "runs": runs,
        "median_seconds": round(median, 3),
        "throughput_per_second": round(size / median, 1),
        "p50_trigger_to_first_action_seconds": round(_percentile(latencies, 0.5), 4),
        "p95_trigger_to_first_action_seconds": round(_percentile(latencies, 0.95), 4),
        "limit_median_seconds": round(limit_median, 3),
        "limit_throughput_per_second": round(size / limit_median, 1),
        "ratio_to_limit": round(limit_median / median, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "summary": summary,
    }
