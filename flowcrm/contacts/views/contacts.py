"""Contact pages: list (search, filters, sort, keyset "Next"), create, detail, inline edit."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from flowcrm.contacts import selectors, services
from flowcrm.contacts.api.inputs import custom_filters
from flowcrm.contacts.models import Contact, LeadStatus, LifecycleStage
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
from flowcrm.contacts.views.records import company_field, field_view, parse_company, record_fields
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.permissions import can_write, ensure_can_write
from flowcrm.web.htmx import render_page

SORT_CHOICES = [
    ("-created_at", "Newest"),
    ("created_at", "Oldest"),
    ("last_name", "Last name A to Z"),
    ("-last_name", "Last name Z to A"),
    ("-score", "Highest score"),
    ("-updated_at", "Recently changed"),
]


@login_required
@domain_errors
def contact_list(request: HttpRequest) -> HttpResponse:
    """The page, or (htmx) only the results: as-you-type search and filters swap the results."""
    user = page_user(request)
    params = request.GET
    filters = selectors.ContactFilters(
        q=params.get("q", "").strip(),
        owner=int_param(params, "owner"),
        lifecycle_stage=params.get("lifecycle_stage") or None,
        lead_status=params.get("lead_status") or None,
        tag=int_param(params, "tag"),
        country=params.get("country") or None,
        created_after=date_param(params, "created_after"),
        created_before=date_param(params, "created_before"),
        custom=custom_filters(request),
    )
    context: dict[str, Any] = {
        "params": params,
        "sort": params.get("sort") or selectors.DEFAULT_CONTACT_SORT,
        "sort_choices": SORT_CHOICES,
        "stages": LifecycleStage.choices,
        "lead_statuses": LeadStatus.choices,
        "users": active_users(),
        "tags": selectors.tag_list(),
        "next_query": query_without(params, "cursor"),
        "can_write": can_write(user),
        "error": "",
        "items": [],
        "next_cursor": None,
    }
    try:
        page = selectors.contact_list(
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
        request, "contacts/contact_list.html", context, fragment="contacts/_contact_results.html"
    )


@login_required
@domain_errors
def contact_create(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    ensure_can_write(user)
    fields = [company_field(None), *record_fields(None, "contact")]
    if request.method == "POST":
        values: dict[str, Any] = {"custom": {}}
        errors: dict[str, str] = {}
        for form_field in fields:
            try:
                if form_field.name == "company":
                    values["company"] = parse_company(request, request.POST.get("company", ""))
                    continue
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
            contact = services.contact_create(values=values, actor=Actor.for_user(user))
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
                {"fields": fields, "title": "New contact", "errors": unplaced},
                status=422,
            )
        return redirect("contacts:detail", pk=contact.pk)
    return render_page(
        request,
        "contacts/record_form.html",
        {"fields": fields, "title": "New contact", "errors": {}},
    )


@login_required
@domain_errors
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = page_user(request)
    contact = selectors.contact_get(user=user, contact_id=pk)
    fields = [company_field(contact), *record_fields(contact, "contact")]
    builtin = [f for f in fields if not f.name.startswith("custom.")]
    custom = [f for f in fields if f.name.startswith("custom.")]
    context = {
        "contact": contact,
        "fields": builtin,
        "custom_fields": custom,
        "url": f"/contacts/{contact.pk}/field/",
        "can_write": can_write(user) and contact.merged_into_id is None,
        "all_tags": selectors.tag_list(),
        "tags": list(contact.tags.all()),
        "tags_url": f"/contacts/{contact.pk}/tags/",
        "deals": list(contact.deals.select_related("stage").order_by("-created_at")[:20]),
        "tasks": list(contact.tasks.select_related("assignee").order_by("status", "due_at")[:20]),
    }
    return render_page(request, "contacts/contact_detail.html", context)


@login_required
@domain_errors
def contact_field(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One field of a contact: shown, its editor (``?edit=1``), or saved (POST)."""
    user = page_user(request)
    if request.method == "POST" or request.GET.get("edit") == "1":
        contact = selectors.contact_for_write(user=user, contact_id=pk)
    else:
        contact = selectors.contact_get(user=user, contact_id=pk)
    fields = [company_field(contact), *record_fields(contact, "contact")]

    def save(values: dict[str, Any]) -> Contact:
        return services.contact_update(contact=contact, values=values, actor=Actor.for_user(user))

    return field_view(
        request,
        record=contact,
        field_name=name,
        fields=fields,
        url=f"/contacts/{pk}/field/",
        save=save,
    )


@login_required
@require_POST
@domain_errors
def contact_tags(request: HttpRequest, pk: int) -> HttpResponse:
    """Add (``tag``) or remove (``remove``) a tag; answers the tags fragment."""
    user = page_user(request)
    contact = selectors.contact_for_write(user=user, contact_id=pk)
    actor = Actor.for_user(user)
    if tag_id := int_param(request.POST, "remove"):
        services.contact_tag_remove(
            contact=contact, tag=selectors.tag_get(tag_id=tag_id), actor=actor
        )
    elif tag_id := int_param(request.POST, "tag"):
        services.contact_tag_add(contact=contact, tag=selectors.tag_get(tag_id=tag_id), actor=actor)
    context = {
        "record": contact,
        "tags": list(contact.tags.all()),
        "all_tags": selectors.tag_list(),
        "tags_url": f"/contacts/{pk}/tags/",
        "can_write": True,
    }
    return render(request, "contacts/_tags.html", context)


@login_required
@require_POST
@domain_errors
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = page_user(request)
    contact = selectors.contact_for_write(user=user, contact_id=pk)
    services.contact_delete(contact=contact, actor=Actor.for_user(user))
    return redirect("contacts:list")
