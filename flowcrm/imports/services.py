"""Import jobs: upload, configure, dry run, start (queued), run, and saved mappings.

Import jobs are operational state (like a queue entry), not CRM records, so changing a job does
not append events; the records an import creates or updates do, one event per record.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.errors import Conflict, ValidationFailed
from flowcrm.core.permissions import ensure_can_write
from flowcrm.imports.engine import PREVIEW_ROWS, ChunkOutcome, ChunkProcessor, chunked
from flowcrm.imports.fields import SPECS, spec_for
from flowcrm.imports.mapping import ImportOptions, check_options, suggest_mapping
from flowcrm.imports.models import (
    ImportChunk,
    ImportJob,
    ImportRowError,
    ImportStatus,
    MappingPreset,
)
from flowcrm.imports.reading import FileProblem, TableInfo, count_rows, inspect_file, iter_rows

ProgressCallback = Callable[[ImportJob], None]


def upload_dir() -> Path:
    directory = Path(settings.MEDIA_ROOT) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def job_path(job: ImportJob) -> Path:
    return upload_dir() / job.file_name


def _check_kind(record_type: str) -> str:
    if record_type not in SPECS:
        raise ValidationFailed(
            {"record_type": f"Unknown record type {record_type!r}: use {', '.join(SPECS)}."}
        )
    return record_type


def import_upload(
    *,
    record_type: str,
    source: IO[bytes],
    original_name: str,
    size: int | None,
    preset: str | None = None,
    user: User | None,
    actor: Actor,
) -> ImportJob:
    """Store an uploaded file, check it, and create its job with a suggested mapping.

    Raises ValidationFailed (field ``file``) for an upload over ``FLOWCRM_MAX_UPLOAD_BYTES`` or
    a file that is not a readable table; nothing is kept in that case.
    """
    _check_kind(record_type)
    if user is not None:
        ensure_can_write(user)
    limit = settings.FLOWCRM_MAX_UPLOAD_BYTES
    if size is not None and size > limit:
        raise ValidationFailed({"file": _too_large(size, limit)})
    suffix = ".xlsx" if original_name.lower().endswith(".xlsx") else ".csv"
    stored = f"{uuid.uuid4().hex}{suffix}"
    path = upload_dir() / stored
    written = 0
    try:
        with path.open("wb") as target:
            while block := source.read(1024 * 1024):
                written += len(block)
                if written > limit:
                    raise ValidationFailed({"file": _too_large(written, limit)})
                target.write(block)
        info = inspect_file(path)
        total = count_rows(path, info)
    except FileProblem as problem:
        path.unlink(missing_ok=True)
        raise ValidationFailed({"file": str(problem)}) from problem
    except ValidationFailed:
        path.unlink(missing_ok=True)
        raise
    spec = spec_for(record_type)
    options = ImportOptions(
        mapping=suggest_mapping(info.headers, spec, preset=preset),
        match=list(spec.default_match),
    )
    return ImportJob.objects.create(
        record_type=record_type,
        file_name=stored,
        original_name=original_name[:300],
        size_bytes=written,
        file_info=info.as_dict(),
        options=options.model_dump(),
        total_rows=total,
        created_by=user,
        actor_label=actor.label,
        actor_token_id=actor.token_id,
    )


def import_from_path(
    *, record_type: str, path: Path, preset: str | None, user: User | None, actor: Actor
) -> ImportJob:
    """An import job for a file on disk (the CLI); the file is copied like an upload."""
    with path.open("rb") as source:
        return import_upload(
            record_type=record_type,
            source=source,
            original_name=path.name,
            size=path.stat().st_size,
            preset=preset,
            user=user,
            actor=actor,
        )


def _too_large(size: int, limit: int) -> str:
    return (
        f"The file is {size / 1024 / 1024:.1f} MB; the limit is {limit / 1024 / 1024:.0f} MB"
        " (FLOWCRM_MAX_UPLOAD_BYTES)."
    )


def table_info(job: ImportJob) -> TableInfo:
    info = job.file_info
    return TableInfo(
        format=info["format"],
        encoding=info["encoding"],
        delimiter=info["delimiter"],
        headers=list(info["headers"]),
    )


def import_configure(*, job: ImportJob, options: ImportOptions) -> ImportJob:
    """Check and store the options of a job that has not started. Raises ValidationFailed."""
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.FAILED):
        raise Conflict(f"Import {job.pk} is {job.status}; its options can no longer change.")
    check_options(options, spec_for(job.record_type), table_info(job).headers)
    job.options = options.model_dump()
    job.save(update_fields=["options"])
    return job


@dataclass
class DryRunReport:
    rows: int = 0
    would_create: int = 0
    would_update: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    preview: list[dict[str, Any]] = field(default_factory=list)
    error_rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: ChunkOutcome, rows: int, max_errors: int) -> None:
        self.rows += rows
        self.would_create += outcome.created
        self.would_update += outcome.updated
        self.unchanged += outcome.unchanged
        self.skipped += outcome.skipped
        self.errors += outcome.errors
        for row in outcome.error_rows:
            if len(self.error_rows) >= max_errors:
                break
            self.error_rows.append({"line": row.line, "errors": row.errors})
        self.preview.extend(outcome.preview)


def import_dry_run(
    *, job: ImportJob, options: ImportOptions, user: User | None, max_errors: int = 200
) -> DryRunReport:
    """Validate every row and preview the first ones as they would be saved. Writes nothing."""
    spec = spec_for(job.record_type)
    info = table_info(job)
    check_options(options, spec, info.headers)
    processor = ChunkProcessor(
        spec=spec,
        headers=info.headers,
        options=options,
        actor=Actor.system("dry run"),
        user=user,
        dry_run=True,
    )
    report = DryRunReport()
    try:
        for chunk in chunked(iter_rows(job_path(job), info), job.chunk_size):
            want = max(0, PREVIEW_ROWS - len(report.preview))
            report.add(processor.process(chunk, preview=want), len(chunk), max_errors)
    except FileProblem as problem:
        raise ValidationFailed({"file": str(problem)}) from problem
    return report


def import_start(*, job: ImportJob, options: ImportOptions | None = None) -> ImportJob:
    """Queue the job for the background worker (enqueued in this transaction)."""
    from flowcrm.imports.tasks import run_import_task

    if options is not None:
        import_configure(job=job, options=options)
    else:
        check_options(
            ImportOptions.model_validate(job.options),
            spec_for(job.record_type),
            table_info(job).headers,
        )
    with transaction.atomic():
        updated = ImportJob.objects.filter(
            pk=job.pk, status__in=[ImportStatus.UPLOADED, ImportStatus.FAILED]
        ).update(status=ImportStatus.QUEUED, message="")
        if not updated:
            raise Conflict(f"Import {job.pk} is already {job.status}.")
        run_import_task.enqueue(job.pk)
    job.refresh_from_db()
    return job


def _actor_for(job: ImportJob) -> Actor:
    user = job.created_by
    if user is None:
        return Actor.system(job.actor_label or "import")
    return Actor(
        kind="token" if job.actor_token_id else "user",
        label=job.actor_label or user.email,
        user_id=user.pk,
        token_id=job.actor_token_id,
    )


def import_run(
    *,
    job: ImportJob,
    progress: ProgressCallback | None = None,
    merge_hook: Callable[[list[int]], dict[str, Any]] | None = None,
) -> ImportJob:
    """Import every chunk not yet finished; resumable after a failure or a crash.

    Each chunk's records, events, row errors, its ImportChunk row and the job's counters are
    written in one transaction. An exception marks the job failed (with the message) and is
    re-raised; the chunks committed before it stay, and running the job again continues after
    them.
    """
    spec = spec_for(job.record_type)
    info = table_info(job)
    options = ImportOptions.model_validate(job.options)
    if merge_hook is None and options.merge_matches:
        merge_hook = _merge_hook(spec.record_type, _actor_for(job))
    processor = ChunkProcessor(
        spec=spec,
        headers=info.headers,
        options=options,
        actor=_actor_for(job),
        user=job.created_by,
        merge_hook=merge_hook,
    )
    done = set(ImportChunk.objects.filter(job=job).values_list("number", flat=True))
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, started_at=job.started_at or timezone.now(), message=""
    )
    job.refresh_from_db()
    try:
        for number, chunk in enumerate(chunked(iter_rows(job_path(job), info), job.chunk_size)):
            if number in done:
                continue
            with transaction.atomic():
                outcome = processor.process(chunk)
                _record_chunk(job, number, len(chunk), outcome)
            job.refresh_from_db()
            if progress is not None:
                progress(job)
    except Exception as error:
        message = (
            str(error) if isinstance(error, FileProblem) else f"{type(error).__name__}: {error}"
        )
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.FAILED, message=message)
        job.refresh_from_db()
        raise
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job


def _record_chunk(job: ImportJob, number: int, rows: int, outcome: ChunkOutcome) -> None:
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                job=job,
                chunk_number=number,
                line=row.line,
                cells=row.cells,
                message=row.error_text(),
            )
            for row in outcome.error_rows
        ]
    )
    ImportChunk.objects.create(
        job=job,
        number=number,
        rows=rows,
        created_count=outcome.created,
        updated_count=outcome.updated,
        unchanged_count=outcome.unchanged,
        skipped_count=outcome.skipped,
        error_count=outcome.errors,
    )
    ImportJob.objects.filter(pk=job.pk).update(
        rows_done=F("rows_done") + rows,
        created_count=F("created_count") + outcome.created,
        updated_count=F("updated_count") + outcome.updated,
        unchanged_count=F("unchanged_count") + outcome.unchanged,
        skipped_count=F("skipped_count") + outcome.skipped,
        error_count=F("error_count") + outcome.errors,
    )


def _merge_hook(record_type: str, actor: Actor) -> Callable[[list[int]], dict[str, Any]] | None:
    """Merge several matched records into the most recently updated one; its fresh state."""
    if record_type not in ("contact", "company"):
        return None
    from flowcrm.contacts.merge import merge_records

    def merge(ids: list[int]) -> dict[str, Any]:
        survivor = merge_records(record_type=record_type, ids=ids, actor=actor)
        model = type(survivor)
        state: dict[str, Any] = dict(model._default_manager.filter(pk=survivor.pk).values()[0])
        return state

    return merge


def import_job_delete_file(*, job: ImportJob) -> None:
    job_path(job).unlink(missing_ok=True)


def mapping_preset_save(
    *, name: str, record_type: str, options: ImportOptions, user: User | None
) -> MappingPreset:
    """Create or replace the saved mapping ``name`` for ``record_type``."""
    _check_kind(record_type)
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": "Give the mapping a name."})
    preset, _ = MappingPreset.objects.update_or_create(
        record_type=record_type,
        name=name[:100],
        defaults={
            "options": options.model_dump(),
            "created_by": user,
            "updated_at": timezone.now(),
        },
    )
    return preset


def copy_file(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
