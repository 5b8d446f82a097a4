"""Deal pages: the kanban board, a deal's detail with inline edit, the create form, pipelines.

Views parse, authorise and call one service or selector; domain errors become messages.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from flowcrm.accounts.models import User
from flowcrm.activities.models import Activity, Task
from flowcrm.core.actors import Actor
from flowcrm.core.errors import NotFound, PermissionDenied, ValidationFailed
from flowcrm.core.pagination import encode_cursor
from flowcrm.core.permissions import can_write, ensure_can_write, is_admin
from flowcrm.sales import selectors, services
from flowcrm.sales.forms import DealCreateForm, DealFieldsForm, add_service_errors
from flowcrm.sales.models import Deal
from flowcrm.web.htmx import render_page


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


def _visible_deal(user: User, deal_id: int) -> Deal:
    try:
        return selectors.deal_get(user, deal_id)
    except NotFound as error:
        raise Http404(str(error)) from error


def _column_cursor(column: selectors.BoardColumn) -> str | None:
    if not column.has_more or not column.deals:
        return None
    last = column.deals[-1]
    return encode_cursor([last.stage_entered_at.isoformat(), last.pk])


@login_required
def board(request: HttpRequest) -> HttpResponse:
    """The kanban of one pipeline (``?pipeline=<id>``, default: the default pipeline)."""
    user = _user(request)
    pipelines = list(selectors.pipelines_with_stages())
    wanted = request.GET.get("pipeline", "")
    pipeline = next((p for p in pipelines if str(p.pk) == wanted), None)
    if pipeline is None:
        pipeline = next((p for p in pipelines if p.is_default), pipelines[0] if pipelines else None)
    columns = selectors.board(user, pipeline) if pipeline is not None else []
    context = {
        "pipelines": pipelines,
        "pipeline": pipeline,
        "columns": [(column, _column_cursor(column)) for column in columns],
        "now": timezone.now(),
        "can_write": can_write(user),
    }
    return render_page(request, "sales/board.html", context)


@login_required
def board_column_more(request: HttpRequest, stage_id: int) -> HttpResponse:
    """The next cards of one kanban column (htmx "show more")."""
    user = _user(request)
    try:
        stage = selectors.stage_get(stage_id)
        page = selectors.column_page(user, stage, cursor=request.GET.get("cursor"))
    except (NotFound, ValidationFailed) as error:
        raise Http404(str(error)) from error
    context = {"deals": page.items, "stage": stage, "next_cursor": page.next_cursor}
    return render(request, "sales/_more_cards.html", {**context, "now": timezone.now()})


@login_required
@require_POST
def deal_move(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Move a deal (kanban drop). Returns the card and, out of band, both columns' headers.

    A refused move answers 422 (or 403) with a plain-text reason; the board restores the card.
    """
    user = _user(request)
    deal = _visible_deal(user, deal_id)
    from_stage = deal.stage
    try:
        ensure_can_write(user)
        raw_stage = request.POST.get("stage_id", "")
        if not raw_stage.isdigit():
            raise ValidationFailed({"stage_id": "Choose a stage."})
        stage = selectors.stage_for_input(int(raw_stage))
        deal = services.deal_move_stage(
            deal=deal,
            stage=stage,
            lost_reason=request.POST.get("lost_reason", ""),
            actor=Actor.for_user(user),
        )
    except ValidationFailed as error:
        return HttpResponse(" ".join(error.errors.values()), status=422, content_type="text/plain")
    except PermissionDenied as error:
        return HttpResponse(str(error), status=403, content_type="text/plain")
    totals = selectors.stage_totals(user, [from_stage.pk, stage.pk])
    headers = [
        {"stage": s, "count": totals.get(s.pk, (0, 0))[0], "total": totals.get(s.pk, (0, 0))[1]}
        for s in (from_stage, stage)
    ]
    deal.stage = stage
    context = {
        "deal": deal,
        "headers": headers,
        "currency": deal.pipeline.currency,
        "now": timezone.now(),
    }
    return render(request, "sales/_move_result.html", context)


@login_required
def deal_detail(request: HttpRequest, deal_id: int) -> HttpResponse:
    user = _user(request)
    deal = _visible_deal(user, deal_id)
    context: dict[str, Any] = {
        "deal": deal,
        "rotting": selectors.is_rotting(deal),
        "stages": list(deal.pipeline.stages.order_by("position", "id")),
        "history": selectors.deal_stage_history(deal),
        "contacts": list(deal.contacts.order_by("last_name", "first_name")[:50]),
        "activities": list(
            Activity.objects.filter(deal=deal).select_related("owner").order_by("-occurred_at")[:20]
        ),
        "tasks": list(
            Task.objects.filter(deal=deal)
            .select_related("assignee")
            .order_by("status", "due_at")[:50]
        ),
        "can_write": can_write(user),
    }
    return render_page(request, "sales/deal_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def deal_edit(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Inline edit of a deal's fields: GET the form fragment, POST saves and shows the fields."""
    user = _user(request)
    deal = _visible_deal(user, deal_id)
    if not can_write(user):
        return HttpResponse("Your role is read-only.", status=403, content_type="text/plain")
    if request.method == "GET":
        form = DealFieldsForm(
            initial={
                "title": deal.title,
                "amount": deal.amount,
                "currency": deal.currency,
                "expected_close_date": deal.expected_close_date,
                "owner": deal.owner_id,
                "forecast_category": deal.forecast_category,
            }
        )
        return render(request, "sales/_deal_form.html", {"deal": deal, "form": form})
    form = DealFieldsForm(request.POST)
    if form.is_valid():
        try:
            services.deal_update(deal=deal, data=form.cleaned_data, actor=Actor.for_user(user))
        except ValidationFailed as error:
            add_service_errors(form, error)
    if form.errors:
        return render(request, "sales/_deal_form.html", {"deal": deal, "form": form})
    deal = _visible_deal(user, deal_id)
    return render(request, "sales/_deal_fields.html", {"deal": deal, "can_write": True})


@login_required
@require_http_methods(["GET", "POST"])
def deal_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not can_write(user):
        return HttpResponse("Your role is read-only.", status=403, content_type="text/plain")
    form = DealCreateForm(
        request.POST or None,
        initial={
            "owner": user.pk,
            "currency": "",
            "amount": 0,
            "pipeline": request.GET.get("pipeline"),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deal = services.deal_create(
                title=data["title"],
                pipeline=data["pipeline"],
                stage=data["stage"],
                amount=data["amount"],
                currency=data["currency"] or None,
                expected_close_date=data["expected_close_date"],
                owner=data["owner"],
                forecast_category=data["forecast_category"],
                actor=Actor.for_user(user),
            )
        except ValidationFailed as error:
            add_service_errors(form, error)
        else:
            return redirect("sales:deal_detail", deal_id=deal.pk)
    return render(request, "sales/deal_create.html", {"form": form})


@login_required
def pipelines(request: HttpRequest) -> HttpResponse:
    """Pipelines and their stages; admins change them in the admin site (through services)."""
    user = _user(request)
    context = {"pipelines": selectors.pipelines_with_stages(), "is_admin": is_admin(user)}
    return render_page(request, "sales/pipelines.html", context)
