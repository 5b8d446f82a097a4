from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from flowcrm.imports import views

app_name = "imports"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.import_list, name="list"),
    path("<int:job_id>/", views.import_detail, name="detail"),
    path("<int:job_id>/progress/", views.import_progress, name="progress"),
    path("duplicates/contacts/", views.contact_duplicates, name="contact_duplicates"),
    path("duplicates/companies/", views.company_duplicates, name="company_duplicates"),
    path("merge/<str:record_type>/", views.merge, name="merge"),
]
