from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from flowcrm.flows import views

app_name = "flows"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.flow_list, name="list"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("runs/<int:run_id>/<str:operation>/", views.run_operate, name="run-operate"),
    path("approvals/", views.approvals_inbox, name="approvals"),
    path("approvals/<int:approval_id>/", views.approvals_inbox, name="approval"),
    path("approvals/<int:approval_id>/decide/", views.approval_decide_view, name="decide"),
    path("<int:flow_id>/", views.flow_detail, name="detail"),
]
