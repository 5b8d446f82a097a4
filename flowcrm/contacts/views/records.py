"""Inline editing and tagging, shared by the contact and company detail pages.

A field is shown as a fragment (``_field.html``); clicking it swaps in its editor; posting the
editor calls the same service as the API and swaps back the shown value, or the editor again with
the reason when the service refused (nothing is written then).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from flowcrm.contacts import selectors
from flowcrm.contacts.models import Company, Contact
from flowcrm.contacts.views.common import active_users, page_user
from flowcrm.contacts.views.fields import FormField, form_fields, parse_field
from flowcrm.core.custom_fields import definitions_for
from flowcrm.core.errors import ValidationFailed

_COMPANY_REF = re.compile(r"#(\d+)\s*$")

Record = Contact | Company


def record_fields(record: Record | None, record_type: str) -> list[FormField]:
    definitions = list(definitions_for(record_type).values())
    definitions.sort(key=lambda d: (d.position, d.key))
    return form_fields(
        record, record_type=record_type, definitions=definitions, users=active_users()
    )


def company_field(contact: Contact | None) -> FormField:
    """The contact's company, typed as a name picked from suggestions (``Acme · #12``)."""
    company = contact.company if contact is not None else None
    value = f"{company.name} · #{company.pk}" if company else ""
    return FormField(
        "company", "Company", kind="company", value=value, display=company.name if company else ""
    )


def parse_company(request: HttpRequest, text: str) -> Company | None:
    """The company a picked suggestion names; ValidationFailed naming ``company`` otherwise."""
    text = text.strip()
    if not text:
        return None
    match = _COMPANY_REF.search(text)
    if match is None:
        raise ValidationFailed({"company": "Pick a company from the suggestions."})
    return selectors.company_visible(user=page_user(request), company_id=int(match.group(1)))


def field_view(
    request: HttpRequest,
    *,
    record: Record,
    field_name: str,
    fields: list[FormField],
    url: str,
    save: Callable[[dict[str, Any]], Record],
) -> HttpResponse:
    """GET: the field (``?edit=1``: its editor). POST: save it through ``save(values)``."""
    form_field = next((f for f in fields if f.name == field_name), None)
    if form_field is None:
        return HttpResponse(status=404)
    context: dict[str, Any] = {
        "field": form_field,
        "url": url,
        "editing": request.GET.get("edit") == "1",
    }
    if request.method == "POST":
        try:
            if field_name == "company":
                values: dict[str, Any] = {
                    "company": parse_company(request, request.POST.get("company", ""))
                }
            else:
                name, value = parse_field(form_field, request.POST)
                values = {name: value}
            saved = save(values)
        except ValidationFailed as failure:
            form_field.value = (
                request.POST.getlist(field_name)
                if form_field.kind == "multiselect"
                else request.POST.get(field_name, "")
            )
            form_field.error = "; ".join(failure.errors.values())
            context["editing"] = True
        else:
            fresh = [f for f in _refreshed(saved, fields) if f.name == field_name]
            context["field"] = fresh[0]
            context["editing"] = False
    return render(request, "contacts/_field.html", context)


def _refreshed(record: Record, fields: list[FormField]) -> list[FormField]:
    if isinstance(record, Contact):
        return [company_field(record), *record_fields(record, "contact")]
    return record_fields(record, "company")
