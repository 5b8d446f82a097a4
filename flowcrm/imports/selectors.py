"""Reads of import jobs, their error reports and saved mappings (permission-aware)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import QuerySet

from flowcrm.accounts.models import User
from flowcrm.core.errors import NotFound
from flowcrm.core.permissions import sees_all
from flowcrm.imports.exports import escape_cell
from flowcrm.imports.models import ImportJob, ImportRowError, MappingPreset

ERROR_BATCH = 2000


def visible_jobs(user: User) -> QuerySet[ImportJob]:
    """Admins and managers see every import; others see their own."""
    jobs = ImportJob.objects.select_related("created_by")
    return jobs if sees_all(user) else jobs.filter(created_by=user)


def get_job(user: User, pk: int) -> ImportJob:
    job = visible_jobs(user).filter(pk=pk).first()
    if job is None:
        raise NotFound(f"No import with id {pk}.")
    return job


def presets_for(record_type: str | None = None) -> QuerySet[MappingPreset]:
    presets = MappingPreset.objects.all()
    return presets.filter(record_type=record_type) if record_type else presets


def error_report_rows(job: ImportJob) -> Iterator[list[str]]:
    """The rejected rows: the file's header plus ``line`` and ``error``, then each row as read.

    Streamed in keyset batches (constant memory); cells are escaped against formula injection.
    """
    yield [*job.file_info.get("headers", []), "line", "error"]
    last_id = 0
    while True:
        batch = list(
            ImportRowError.objects.filter(job=job, id__gt=last_id)
            .order_by("id")
            .values_list("id", "line", "cells", "message")[:ERROR_BATCH]
        )
        if not batch:
            return
        for row_id, line, cells, message in batch:
            yield [*(escape_cell(str(c)) for c in cells), str(line), escape_cell(message)]
            last_id = row_id
