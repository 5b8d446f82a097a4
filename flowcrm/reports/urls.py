from __future__ import annotations

from django.urls import path

from flowcrm.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("builder/", views.builder, name="builder"),
    path("builtin/<slug:name>/", views.builtin_report, name="builtin"),
    path("<int:report_id>/", views.saved_report, name="saved"),
    path("dashboards/new/", views.dashboard_create, name="dashboard_create"),
    path("dashboards/<int:dashboard_id>/", views.dashboard, name="dashboard"),
    path("dashboards/<int:dashboard_id>/add/", views.dashboard_add, name="dashboard_add"),
]
