from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from flowcrm.activities import views

app_name = "activities"
urlpatterns: list[URLPattern | URLResolver] = [
    path("tasks/", views.my_tasks, name="my_tasks"),
    path("tasks/<int:task_id>/complete/", views.task_complete, name="task_complete"),
    path("timeline/<str:subject_type>/<int:subject_id>/", views.timeline, name="timeline"),
]
