from __future__ import annotations

from django.urls import path

from flowcrm.forecasts import views

app_name = "forecasts"
urlpatterns = [
    path("", views.forecast_page, name="page"),
    path("<int:pipeline_id>/overrides/", views.override_create, name="override"),
]
