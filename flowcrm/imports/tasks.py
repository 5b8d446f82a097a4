"""The background import task, and the worker job that runs queued imports.

Imports are queued with ``django.tasks`` on the database backend (the enqueue is an INSERT in
the transaction that starts the import). :func:`run_queued_imports` is registered as a job of
FlowCRM's own worker loop (``flowcrm run`` / ``flowcrm worker``), so no extra process is needed.
"""

from __future__ import annotations

import logging
import socket

from django.tasks import task

logger = logging.getLogger(__name__)

TASK_PATH = "flowcrm.imports.tasks.run_import_task"


@task()
def run_import_task(job_id: int) -> dict[str, object]:
    """Run (or resume) import ``job_id``; returns its summary."""
    from flowcrm.imports.models import ImportJob
    from flowcrm.imports.services import import_run

    job = ImportJob.objects.get(pk=job_id)
    return import_run(job=job).summary()


def run_queued_imports() -> int:
    """Claim and run one queued import task; returns 1 if it ran one, else 0."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult
    from django_tasks_db.utils import exclusive_transaction

    tasks = DBTaskResult.objects.ready().filter(task_path=TASK_PATH)
    worker_id = f"flowcrm-{socket.gethostname()}"[:64]
    with exclusive_transaction(tasks.db):
        claimed = tasks.get_locked()
        if claimed is None:
            return 0
        claimed.claim(worker_id)
    runner = Worker(
        queue_names=[claimed.queue_name],
        interval=0,
        batch=True,
        backend_name=claimed.backend_name,
        startup_delay=False,
        max_tasks=1,
        worker_id=worker_id,
        excluded_queue_names=[],
    )
    # run_task records success or failure on the task row (the job row has the details).
    runner.run_task(claimed)
    return 1
