from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from flowcrm.insights import views

app_name = "insights"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("funnel/<str:notion>/<int:position>/", views.funnel_cases, name="funnel-cases"),
    path("logs/", views.imported_logs, name="logs"),
    path("logs/<int:log_id>/", views.imported_log_view, name="log"),
]
