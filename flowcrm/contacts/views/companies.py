"""Company pages: list (search, filters, sort, keyset "Next"), create, detail, inline edit."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from flowcrm.contacts import selectors, services
from flowcrm.contacts.api.inputs import custom_filters
from flowcrm.contacts.models import Company, CompanySize
from flowcrm.contacts.views.common import (
    LIST_LIMIT,
    active_users,
    date_param,
    domain_errors,
    int_param,
    page_user,
    query_without,
)
from flowcrm.contacts.views.fields import parse_field
from flowcrm.contacts.views.records import field_view, record_fields
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.permissions import can_write, ensure_can_write
from flowcrm.web.htmx import render_page

SORT_CHOICES = [
    ("name", "Name A to Z"),
    ("-name", "Name Z to A"),
    ("-created_at", "Newest"),
    ("-updated_at", "Recently changed"),
]


@login_required
@domain_errors
def company_list(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    params = request.GET
    filters = selectors.CompanyFilters(
        q=params.get("q", "").strip(),
        owner=int_param(params, "owner"),
        industry=params.get("industry") or None,
        size=params.get("size") or None,
        country=params.get("country") or None,
        tag=int_param(params, "tag"),
        created_after=date_param(params, "created_after"),
        created_before=date_param(params, "created_before"),
        custom=custom_filters(request),
    )
    context: dict[str, Any] = {
        "params": params,
        "sort": params.get("sort") or selectors.DEFAULT_COMPANY_SORT,
        "sort_choices": SORT_CHOICES,
        "sizes": CompanySize.choices,
        "users": active_users(),
        "tags": selectors.tag_list(),
        "next_query": query_without(params, "cursor"),
        "can_write": can_write(user),
        "error": "",
        "items": [],
        "next_cursor": None,
    }
    try:
        page = selectors.company_list(
            user=user,
            filters=filters,
            sort=context["sort"],
            cursor=params.get("cursor"),
            limit=LIST_LIMIT,
        )
    except ValidationFailed as failure:
        context["error"] = "; ".join(f"{k}: {v}" for k, v in failure.errors.items())
    else:
        context["items"], context["next_cursor"] = page.items, page.next_cursor
    return render_page(
        request, "contacts/company_list.html", context, fragment="contacts/_company_results.html"
    )


@login_required
def company_options(request: HttpRequest) -> HttpResponse:
    """Suggestions for a company input (``<option>`` elements of a datalist), by search."""
    query = request.GET.get("company", "").split("·")[0].strip()
    items: list[Company] = []
    if query:
        filters = selectors.CompanyFilters(q=query)
        items = selectors.company_list(
            user=page_user(request), filters=filters, sort="name", cursor=None, limit=10
        ).items
    return render(request, "contacts/_company_options.html", {"items": items})


@login_required
@domain_errors
def company_create(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    ensure_can_write(user)
    fields = record_fields(None, "company")
    if request.method == "POST":
        values: dict[str, Any] = {"custom": {}}
        errors: dict[str, str] = {}
        for form_field in fields:
            try:
                name, value = parse_field(form_field, request.POST)
            except ValidationFailed as failure:
                errors.update(failure.errors)
                continue
            if name == "custom":
                values["custom"].update({k: v for k, v in value.items() if v is not None})
            else:
                values[name] = value
        try:
            if errors:
                raise ValidationFailed(errors)
            company = services.company_create(values=values, actor=Actor.for_user(user))
        except ValidationFailed as failure:
            for form_field in fields:
                form_field.value = request.POST.get(form_field.name, "")
                form_field.error = failure.errors.get(form_field.name, "")
            unplaced = {
                k: v for k, v in failure.errors.items() if k not in {f.name for f in fields}
            }
            return render_page(
                request,
                "contacts/record_form.html",
                {"fields": fields, "title": "New company", "errors": unplaced},
                status=422,
            )
        return redirect("contacts:company_detail", pk=company.pk)
    return render_page(
        request,
        "contacts/record_form.html",
        {"fields": fields, "title": "New company", "errors": {}},
    )


@login_required
@domain_errors
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = page_user(request)
    company = selectors.company_get(user=user, company_id=pk)
    fields = record_fields(company, "company")
    context = {
        "company": company,
        "fields": [f for f in fields if not f.name.startswith("custom.")],
        "custom_fields": [f for f in fields if f.name.startswith("custom.")],
        "url": f"/contacts/companies/{company.pk}/field/",
        "can_write": can_write(user) and company.merged_into_id is None,
        "all_tags": selectors.tag_list(),
        "tags": list(company.tags.all()),
        "tags_url": f"/contacts/companies/{company.pk}/tags/",
        "contacts": selectors.company_contacts(user=user, company=company),
        "deals": list(company.deals.select_related("stage").order_by("-created_at")[:20]),
    }
    return render_page(request, "contacts/company_detail.html", context)


@login_required
@domain_errors
def company_field(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    user = page_user(request)
    if request.method == "POST" or request.GET.get("edit") == "1":
        company = selectors.company_for_write(user=user, company_id=pk)
    else:
        company = selectors.company_get(user=user, company_id=pk)

    def save(values: dict[str, Any]) -> Company:
        return services.company_update(company=company, values=values, actor=Actor.for_user(user))

    return field_view(
        request,
        record=company,
        field_name=name,
        fields=record_fields(company, "company"),
        url=f"/contacts/companies/{pk}/field/",
        save=save,
    )


@login_required
@require_POST
@domain_errors
def company_tags(request: HttpRequest, pk: int) -> HttpResponse:
    user = page_user(request)
    company = selectors.company_for_write(user=user, company_id=pk)
    actor = Actor.for_user(user)
    if tag_id := int_param(request.POST, "remove"):
        services.company_tag_remove(
            company=company, tag=selectors.tag_get(tag_id=tag_id), actor=actor
        )
    elif tag_id := int_param(request.POST, "tag"):
        services.company_tag_add(company=company, tag=selectors.tag_get(tag_id=tag_id), actor=actor)
    context = {
        "record": company,
        "tags": list(company.tags.all()),
        "all_tags": selectors.tag_list(),
        "tags_url": f"/contacts/companies/{pk}/tags/",
        "can_write": True,
    }
    return render(request, "contacts/_tags.html", context)


@login_required
@require_POST
@domain_errors
def company_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = page_user(request)
    company = selectors.company_for_write(user=user, company_id=pk)
    services.company_delete(company=company, actor=Actor.for_user(user))
    return redirect("contacts:company_list")
