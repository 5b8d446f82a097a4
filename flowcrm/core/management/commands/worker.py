from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand

from flowcrm.core import worker


class Command(BaseCommand):
    help = "Run the background worker (flow engine and queued jobs) until SIGTERM."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Do one turn of due work and exit.")
        parser.add_argument("--idle-sleep", type=float, default=0.5)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            done = worker.run_once()
            self.stdout.write(f"worked on {done} item(s)")
            return
        stop = threading.Event()
        worker.stop_on_signals(stop)
        self.stdout.write(
            f"worker running jobs: {', '.join(worker.registered_job_names()) or 'none'}"
        )
        worker.run_forever(stop, idle_sleep=options["idle_sleep"])
        self.stdout.write("worker stopped")
