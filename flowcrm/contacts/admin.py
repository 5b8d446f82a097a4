"""Django admin for configuration and support look-ups.

Everyday edits happen in the FlowCRM pages and API, which go through the services (and so write
events); the admin is read-mostly here: records are listed and searchable, but changed through
the product so the event log stays complete.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from flowcrm.contacts.models import Company, Contact, Tag


class ReadOnlyRecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # shared by two models
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "first_name", "last_name", "email", "company", "owner", "lifecycle_stage"]
    list_filter = ["lifecycle_stage", "lead_status"]
    list_select_related = ["company", "owner"]
    search_fields = ["=email", "last_name"]
    show_full_result_count = False  # a COUNT(*) over a million rows on every page is not worth it


@admin.register(Company)
class CompanyAdmin(ReadOnlyRecordAdmin):
    list_display = ["id", "name", "domain", "industry", "size", "owner"]
    list_select_related = ["owner"]
    search_fields = ["name", "=domain"]
    show_full_result_count = False


@admin.register(Tag)
class TagAdmin(ReadOnlyRecordAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]
