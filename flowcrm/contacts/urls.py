from __future__ import annotations

from django.urls import path

from flowcrm.contacts.views import companies, contacts, custom_fields

app_name = "contacts"
urlpatterns = [
    path("", contacts.contact_list, name="list"),
    path("new/", contacts.contact_create, name="create"),
    path("<int:pk>/", contacts.contact_detail, name="detail"),
    path("<int:pk>/field/<str:name>/", contacts.contact_field, name="field"),
    path("<int:pk>/tags/", contacts.contact_tags, name="tags"),
    path("<int:pk>/delete/", contacts.contact_delete, name="delete"),
    path("companies/", companies.company_list, name="company_list"),
    path("companies/new/", companies.company_create, name="company_create"),
    path("companies/options/", companies.company_options, name="company_options"),
    path("companies/<int:pk>/", companies.company_detail, name="company_detail"),
    path("companies/<int:pk>/field/<str:name>/", companies.company_field, name="company_field"),
    path("companies/<int:pk>/tags/", companies.company_tags, name="company_tags"),
    path("companies/<int:pk>/delete/", companies.company_delete, name="company_delete"),
    path("custom-fields/", custom_fields.custom_field_admin, name="custom_fields"),
]
