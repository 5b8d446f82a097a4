"""REST endpoints of the insights app (mounted by flowcrm.api at /api/v1/insights).

Every number of the process pages is here as JSON. Filters are query parameters (see
``ProcessFilter``); an unknown parameter, a bad value or an empty window is a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import File, Form, Router, UploadedFile

from flowcrm.api import request_actor, request_user
from flowcrm.core.errors import ValidationFailed
from flowcrm.insights import services
from flowcrm.insights.process import selectors
from flowcrm.insights.process.filters import parse_filters
from flowcrm.insights.process.notions import case_notions, get_case_notion

router = Router(tags=["insights"])

VIEW_PARTS = frozenset(
    {"dfg", "variants", "sojourn", "funnel", "bottlenecks", "findings", "durations", "throughput"}
)


def _filters_and_top(request: HttpRequest) -> tuple[Any, int]:
    params = {key: request.GET.get(key, "") for key in request.GET}
    filters = parse_filters(params, allowed_extra=frozenset({"top"}))
    raw_top = params.get("top") or str(selectors.DEFAULT_TOP_VARIANTS)
    if not raw_top.isdigit():
        raise ValidationFailed({"top": "Must be a whole number between 1 and 100."})
    return filters, int(raw_top)


@router.get("/notions")
def list_notions(request: HttpRequest) -> list[dict[str, str]]:
    """The case notions that can be analysed."""
    return [{"name": n.name, "label": n.label, "case_label": n.case_label} for n in case_notions()]


@router.get("/process/{notion}")
def process_view(request: HttpRequest, notion: str) -> dict[str, Any]:
    """DFG, variants, sojourn, funnel, bottlenecks, findings, durations and throughput."""
    filters, top = _filters_and_top(request)
    return selectors.process_view(notion, filters, request_user(request), top=top)


@router.get("/pipelines/{pipeline_id}/process")
def pipeline_process_view(request: HttpRequest, pipeline_id: int) -> dict[str, Any]:
    """The process view of one pipeline's deals (the insights home page's numbers)."""
    filters, top = _filters_and_top(request)
    if filters.pipeline is not None and filters.pipeline != pipeline_id:
        raise ValidationFailed({"pipeline": "Given in the path already."})
    filters = filters.model_copy(update={"pipeline": pipeline_id})
    return selectors.process_view("deals", filters, request_user(request), top=top)


@router.get("/process/{notion}/funnel/{position}/cases")
def funnel_cases(request: HttpRequest, notion: str, position: int) -> dict[str, Any]:
    """The ids of the cases behind one funnel bar."""
    filters, _ = _filters_and_top(request)
    stage, cases = selectors.funnel_cases(notion, filters, request_user(request), position)
    return {"stage": stage, "count": len(cases), "cases": cases}


@router.get("/process/{notion}/{part}")
def process_view_part(request: HttpRequest, notion: str, part: str) -> Any:
    """One part of the process view (``dfg``, ``variants``, ``sojourn``, ``funnel``, …)."""
    if part not in VIEW_PARTS:
        raise ValidationFailed({"part": f"Must be one of {', '.join(sorted(VIEW_PARTS))}."})
    filters, top = _filters_and_top(request)
    return selectors.process_view(notion, filters, request_user(request), top=top)[part]


@router.get("/export/xes/{notion}")
def export_xes(request: HttpRequest, notion: str) -> StreamingHttpResponse:
    """The notion's event log as an IEEE 1849 XES document, streamed."""
    from flowcrm.insights.xes import xes_lines

    filters, _ = _filters_and_top(request)
    notion_object = get_case_notion(notion)
    lines = xes_lines(notion_object, filters, request_user(request))
    response = StreamingHttpResponse(lines, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{notion}.xes"'
    return response


@router.get("/export/ocel")
def export_ocel(request: HttpRequest) -> StreamingHttpResponse:
    """Deals, contacts and companies with their events and links as OCEL 2.0 JSON, streamed."""
    from flowcrm.insights.ocel import ocel_chunks

    response = StreamingHttpResponse(
        ocel_chunks(request_user(request)), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="flowcrm.ocel.json"'
    return response


@router.post("/logs")
def import_log(
    request: HttpRequest, file: File[UploadedFile], name: Form[str] = ""
) -> dict[str, Any]:
    """Import an XES file (plain or gzipped) into the analysis workspace."""
    imported = services.imported_log_create(
        name=name or (file.name or "log"),
        filename=file.name or "",
        stream=file,
        actor=request_actor(request),
    )
    return services.imported_log_summary(imported)


@router.get("/logs")
def list_logs(request: HttpRequest) -> list[dict[str, Any]]:
    """Imported logs, newest first."""
    return [services.imported_log_summary(log) for log in services.imported_logs()]
