"""The custom fields admin page: every definition, and a form to add one (admins only)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from flowcrm.contacts import selectors, services
from flowcrm.contacts.views.common import domain_errors, page_user
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import CustomFieldType, RecordType
from flowcrm.core.permissions import ensure_admin
from flowcrm.web.htmx import render_page


@login_required
@domain_errors
def custom_field_admin(request: HttpRequest) -> HttpResponse:
    user = page_user(request)
    ensure_admin(user)
    errors: dict[str, str] = {}
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = {
            "record_type": request.POST.get("record_type", ""),
            "key": request.POST.get("key", "").strip(),
            "label": request.POST.get("label", ""),
            "field_type": request.POST.get("field_type", ""),
            "choices": [c.strip() for c in request.POST.get("choices", "").split(",") if c.strip()],
            "required": request.POST.get("required") == "on",
            "help_text": request.POST.get("help_text", ""),
        }
        try:
            services.custom_field_create(values=form, actor=Actor.for_user(user))
        except ValidationFailed as failure:
            errors = failure.errors
        else:
            return redirect("contacts:custom_fields")
    context = {
        "definitions": selectors.custom_field_list(),
        "record_types": RecordType.choices,
        "field_types": CustomFieldType.choices,
        "form": form,
        "choices_text": ", ".join(form.get("choices", [])),
        "errors": errors,
    }
    return render_page(
        request, "contacts/custom_fields.html", context, status=422 if errors else 200
    )
