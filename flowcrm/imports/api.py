"""REST endpoints of imports and exports, mounted at /api/v1/imports.

An import is a job: upload the file (its mapping is suggested), adjust the options, dry-run,
then start it; it runs in the background worker and its progress and error report are here.
Imported changes are recorded as events; they trigger flows only with ``notify_flows: true``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router, Schema, Status

from flowcrm.api import request_actor, request_user
from flowcrm.core.errors import DomainError, ValidationFailed
from flowcrm.core.permissions import ensure_can_write
from flowcrm.imports.exports import EXPORTS, csv_lines, export_queryset, export_rows
from flowcrm.imports.fields import SPECS, spec_for
from flowcrm.imports.mapping import ImportOptions
from flowcrm.imports.models import ImportJob, MappingPreset
from flowcrm.imports.selectors import error_report_rows, get_job, presets_for, visible_jobs
from flowcrm.imports.services import (
    import_configure,
    import_dry_run,
    import_start,
    import_upload,
    mapping_preset_save,
)

router = Router(tags=["imports"])


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"


class ImportJobOut(Schema):
    id: int
    record_type: str
    status: str
    original_name: str
    size_bytes: int
    file: dict[str, Any]
    options: dict[str, Any]
    total_rows: int | None
    rows_done: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    errors: int
    message: str
    triggers_flows: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error_report_url: str | None


def job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "record_type": job.record_type,
        "status": job.status,
        "original_name": job.original_name,
        "size_bytes": job.size_bytes,
        "file": job.file_info,
        "options": job.options,
        "total_rows": job.total_rows,
        "rows_done": job.rows_done,
        "created": job.created_count,
        "updated": job.updated_count,
        "unchanged": job.unchanged_count,
        "skipped": job.skipped_count,
        "errors": job.error_count,
        "message": job.message,
        "triggers_flows": bool(job.options.get("notify_flows")),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "error_report_url": (f"/api/v1/imports/{job.pk}/errors.csv" if job.error_count else None),
    }


class DryRunOut(Schema):
    rows: int
    would_create: int
    would_update: int
    unchanged: int
    skipped: int
    errors: int
    preview: list[dict[str, Any]]
    error_rows: list[dict[str, Any]]


class RunIn(Schema):
    """Options to use (and store) for this run; ``{}`` keeps the job's current options."""

    options: ImportOptions | None = None


class PresetIn(Schema):
    name: str
    record_type: str
    options: ImportOptions


class PresetOut(Schema):
    id: int
    name: str
    record_type: str
    options: dict[str, Any]


class TargetsOut(Schema):
    record_type: str
    fields: list[str]
    relations: list[str]
    custom: list[str]
    match_keys: list[str]


@router.post("", response={201: ImportJobOut}, summary="Upload a file to import")
def upload(request: HttpRequest) -> Status[dict[str, Any]]:
    """Multipart form: ``file``, ``record_type`` (contacts/companies/deals/activities), optional
    ``preset`` (hubspot/salesforce). Files over FLOWCRM_MAX_UPLOAD_BYTES are refused (413)."""
    user = request_user(request)
    ensure_can_write(user)
    limit = settings.FLOWCRM_MAX_UPLOAD_BYTES
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > limit:
        # Refused before the body is read: a 2 GB upload costs nothing.
        raise PayloadTooLarge(
            f"file: the upload is {declared / 1024 / 1024:.0f} MB; the limit is"
            f" {limit / 1024 / 1024:.0f} MB (FLOWCRM_MAX_UPLOAD_BYTES)."
        )
    uploaded = request.FILES.get("file")
    if uploaded is None:
        raise ValidationFailed({"file": "Attach the file to import as 'file'."})
    job = import_upload(
        record_type=request.POST.get("record_type", ""),
        source=uploaded,
        original_name=uploaded.name or "upload.csv",
        size=uploaded.size,
        preset=request.POST.get("preset") or None,
        user=user,
        actor=request_actor(request),
    )
    return Status(201, job_out(job))


@router.get("", response=list[ImportJobOut], summary="Recent imports")
def list_imports(request: HttpRequest, limit: int = 50) -> list[dict[str, Any]]:
    jobs = visible_jobs(request_user(request))[: max(1, min(limit, 200))]
    return [job_out(job) for job in jobs]


@router.get("/targets/{record_type}", response=TargetsOut, summary="Mappable fields")
def targets(request: HttpRequest, record_type: str) -> dict[str, Any]:
    from flowcrm.core.custom_fields import definitions_for

    if record_type not in SPECS:
        raise ValidationFailed({"record_type": f"Use one of {', '.join(SPECS)}."})
    spec = spec_for(record_type)
    definitions = definitions_for(spec.record_type)
    return {
        "record_type": record_type,
        "fields": [*spec.fields, *spec.extra_targets],
        "relations": list(spec.relations),
        "custom": [f"custom.{key}" for key in definitions],
        "match_keys": [
            *spec.fields,
            *(f"custom.{k}" for k, d in definitions.items() if d.is_unique),
        ],
    }


@router.get("/presets", response=list[PresetOut], summary="Saved mappings")
def list_presets(request: HttpRequest, record_type: str = "") -> list[MappingPreset]:
    return list(presets_for(record_type or None))


@router.post("/presets", response={201: PresetOut}, summary="Save a mapping")
def save_preset(request: HttpRequest, payload: PresetIn) -> Status[MappingPreset]:
    user = request_user(request)
    ensure_can_write(user)
    preset = mapping_preset_save(
        name=payload.name, record_type=payload.record_type, options=payload.options, user=user
    )
    return Status(201, preset)


@router.get("/exports/{record_type}", summary="Export a list as CSV (streamed)")
def export(request: HttpRequest, record_type: str) -> StreamingHttpResponse:
    """Query parameters are the list view's filters (``q``, ``owner``, ``lifecycle_stage``…)."""
    if record_type not in EXPORTS:
        raise ValidationFailed({"record_type": f"Use one of {', '.join(EXPORTS)}."})
    queryset = export_queryset(record_type, request_user(request), request.GET.dict())
    response = StreamingHttpResponse(
        csv_lines(export_rows(record_type, queryset)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{record_type}.csv"'
    return response


@router.get("/{int:job_id}", response=ImportJobOut, summary="An import and its progress")
def detail(request: HttpRequest, job_id: int) -> dict[str, Any]:
    return job_out(get_job(request_user(request), job_id))


@router.put("/{int:job_id}/options", response=ImportJobOut, summary="Set mapping and options")
def configure(request: HttpRequest, job_id: int, payload: ImportOptions) -> dict[str, Any]:
    user = request_user(request)
    ensure_can_write(user)
    return job_out(import_configure(job=get_job(user, job_id), options=payload))


@router.post("/{int:job_id}/dry-run", response=DryRunOut, summary="Validate; write nothing")
def dry_run(request: HttpRequest, job_id: int, payload: RunIn) -> Any:
    user = request_user(request)
    job = get_job(user, job_id)
    options = payload.options or ImportOptions.model_validate(job.options)
    return import_dry_run(job=job, options=options, user=user)


@router.post("/{int:job_id}/start", response={202: ImportJobOut}, summary="Run in background")
def start(request: HttpRequest, job_id: int, payload: RunIn) -> Status[dict[str, Any]]:
    user = request_user(request)
    ensure_can_write(user)
    job = import_start(job=get_job(user, job_id), options=payload.options)
    return Status(202, job_out(job))


@router.get("/{int:job_id}/errors.csv", summary="Rejected rows as CSV")
def error_report(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    job = get_job(request_user(request), job_id)
    response = StreamingHttpResponse(
        csv_lines(error_report_rows(job)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
