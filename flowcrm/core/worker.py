"""The background worker: a loop over registered jobs (the flow engine, queued tasks, …).

Apps register jobs in their ``AppConfig.ready``. A job is a callable that does one bounded batch
of due work and returns how much it did; the loop sleeps only when no job found anything to do.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections

logger = logging.getLogger(__name__)

WorkerJob = Callable[[], int]


@dataclass(frozen=True)
class _Registered:
    name: str
    job: WorkerJob


_jobs: list[_Registered] = []


def register_worker_job(name: str, job: WorkerJob) -> None:
    """Run ``job()`` on every turn of every worker. Registering a name twice replaces it."""
    _jobs[:] = [r for r in _jobs if r.name != name]
    _jobs.append(_Registered(name=name, job=job))


def registered_job_names() -> list[str]:
    return [r.name for r in _jobs]


def run_once() -> int:
    """One turn over every job; returns the total work done. A failing job is logged, not raised."""
    done = 0
    for registered in list(_jobs):
        try:
            done += registered.job()
        except Exception:
            logger.exception("worker job %s failed", registered.name)
        finally:
            close_old_connections()
    return done


def run_forever(stop: threading.Event, *, idle_sleep: float = 0.5) -> None:
    """Turn until ``stop`` is set; finishes the current batch before returning."""
    while not stop.is_set():
        if run_once() == 0:
            stop.wait(idle_sleep)


def stop_on_signals(stop: threading.Event) -> None:
    """Set ``stop`` on SIGTERM/SIGINT so the current batch finishes and commits (graceful)."""

    def _handle(signum: int, _frame: object) -> None:
        logger.warning("worker received signal %s, finishing the current batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)


def wait_until(stop: threading.Event, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        stop.wait(min(0.2, deadline - time.monotonic()))
