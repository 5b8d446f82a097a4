"""Import pages: upload, mapping with dry run, progress; duplicates review and merge."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from flowcrm.accounts.models import User
from flowcrm.contacts.dedupe import find_company_duplicates, find_contact_duplicates
from flowcrm.contacts.merge import merge_records
from flowcrm.core.actors import Actor
from flowcrm.core.custom_fields import definitions_for
from flowcrm.core.errors import DomainError, ValidationFailed
from flowcrm.core.permissions import can_write, ensure_can_write, get_visible
from flowcrm.imports.fields import SPECS, spec_for
from flowcrm.imports.forms import options_from_form
from flowcrm.imports.mapping import TRANSFORMS, ImportOptions
from flowcrm.imports.models import ImportStatus
from flowcrm.imports.reading import iter_rows
from flowcrm.imports.selectors import get_job, presets_for, visible_jobs
from flowcrm.imports.services import (
    import_configure,
    import_dry_run,
    import_start,
    import_upload,
    job_path,
    mapping_preset_save,
    table_info,
)
from flowcrm.web.htmx import render_page

SAMPLE_ROWS = 3


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationFailed({"file": "Choose a file to import."})
            job = import_upload(
                record_type=request.POST.get("record_type", ""),
                source=upload,
                original_name=upload.name or "upload.csv",
                size=upload.size,
                preset=request.POST.get("preset") or None,
                user=user,
                actor=Actor.for_user(user),
            )
            return redirect("imports:detail", job_id=job.pk)
        except DomainError as error:
            messages.error(request, _message(error))
    jobs = list(visible_jobs(user)[:30])
    return render_page(
        request,
        "imports/list.html",
        {"jobs": jobs, "kinds": list(SPECS), "can_write": can_write(user)},
    )


def _message(error: DomainError) -> str:
    if isinstance(error, ValidationFailed):
        return "; ".join(f"{k}: {v}" if k != "__all__" else v for k, v in error.errors.items())
    return str(error)


def _mapping_context(
    job_id: int, user: User, options: ImportOptions | None = None
) -> dict[str, Any]:
    job = get_job(user, job_id)
    info = table_info(job)
    spec = spec_for(job.record_type)
    options = options or ImportOptions.model_validate(job.options)
    samples = [row.cells for row in islice(iter_rows(job_path(job), info), SAMPLE_ROWS)]
    custom = [f"custom.{key}" for key in definitions_for(spec.record_type)]
    columns = []
    for index, header in enumerate(info.headers):
        column = options.mapping.get(header)
        columns.append(
            {
                "index": index,
                "header": header,
                "samples": [row[index] if index < len(row) else "" for row in samples],
                "target": column.target if column else "ignore",
                "transforms": column.transforms if column else [],
                "date_format": (column.date_format or "") if column else "",
            }
        )
    return {
        "job": job,
        "columns": columns,
        "targets": ["ignore", *spec.targets(), *custom],
        "match_keys": [*spec.fields, *custom],
        "default_fields": [*spec.fields, *spec.relations],
        "transforms": TRANSFORMS,
        "options": options,
        "presets": presets_for(job.record_type),
        "running": job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
        "editable": job.status in (ImportStatus.UPLOADED, ImportStatus.FAILED),
    }


@login_required
def import_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    user = _user(request)
    job = get_job(user, job_id)
    context = _mapping_context(job_id, user)
    if request.method == "POST":
        options = options_from_form(request.POST, table_info(job).headers, context["options"])
        action = request.POST.get("action", "dry_run")
        try:
            ensure_can_write(user)
            if action == "load_preset":
                preset = (
                    presets_for(job.record_type)
                    .filter(pk=request.POST.get("preset_id", "0"))
                    .first()
                )
                if preset is None:
                    raise ValidationFailed({"preset_id": "Choose a saved mapping."})
                context = _mapping_context(
                    job_id, user, ImportOptions.model_validate(preset.options)
                )
            elif action == "save_preset":
                mapping_preset_save(
                    name=request.POST.get("preset_name", ""),
                    record_type=job.record_type,
                    options=options,
                    user=user,
                )
                messages.success(request, "Mapping saved.")
                context = _mapping_context(job_id, user, options)
            elif action == "start":
                import_start(job=job, options=options)
                return redirect("imports:detail", job_id=job.pk)
            else:
                import_configure(job=job, options=options)
                context = _mapping_context(job_id, user, options)
                context["report"] = import_dry_run(job=job, options=options, user=user)
        except DomainError as error:
            context = _mapping_context(job_id, user, options)
            context["form_error"] = _message(error)
    return render_page(request, "imports/detail.html", context, fragment="imports/_mapping.html")


@login_required
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    job = get_job(_user(request), job_id)
    running = job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)
    return render_page(request, "imports/_progress.html", {"job": job, "running": running})


def _duplicates(request: HttpRequest, record_type: str) -> HttpResponse:
    user = _user(request)
    kind = request.GET.get("kind", "all")
    finder = find_contact_duplicates if record_type == "contact" else find_company_duplicates
    groups = finder(user, exact=kind in ("all", "exact"), fuzzy=kind in ("all", "fuzzy"), limit=100)
    return render_page(
        request,
        "imports/duplicates.html",
        {"groups": groups, "record_type": record_type, "kind": kind, "can_write": can_write(user)},
    )


@login_required
def contact_duplicates(request: HttpRequest) -> HttpResponse:
    return _duplicates(request, "contact")


@login_required
def company_duplicates(request: HttpRequest) -> HttpResponse:
    return _duplicates(request, "company")


@login_required
@require_POST
def merge(request: HttpRequest, record_type: str) -> HttpResponse:
    from flowcrm.contacts.models import Company, Contact

    if record_type not in ("contact", "company"):
        raise Http404("Only contacts and companies can be merged.")
    user = _user(request)
    model: type[Contact] | type[Company] = Contact if record_type == "contact" else Company
    try:
        ensure_can_write(user)
        ids = [int(pk) for pk in request.POST.getlist("ids")]
        for pk in ids:
            get_visible(model._default_manager.all(), user, pk)
        survivor_id = int(request.POST["survivor_id"]) if request.POST.get("survivor_id") else None
        survivor = merge_records(
            record_type=record_type, ids=ids, survivor_id=survivor_id, actor=Actor.for_user(user)
        )
        messages.success(request, f"Merged {len(ids) - 1} record(s) into #{survivor.pk}.")
    except (DomainError, ValueError) as error:
        messages.error(request, _message(error) if isinstance(error, DomainError) else str(error))
    target = (
        "imports:contact_duplicates" if record_type == "contact" else "imports:company_duplicates"
    )
    return redirect(target)
