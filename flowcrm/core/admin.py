from __future__ import annotations

from django.contrib import admin

from flowcrm.core.models import CustomFieldDefinition


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(admin.ModelAdmin[CustomFieldDefinition]):
    list_display = ["record_type", "key", "label", "field_type", "required", "is_unique"]
    list_filter = ["record_type", "field_type"]
