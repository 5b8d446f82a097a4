from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from flowcrm.sales import views

app_name = "sales"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.board, name="board"),
    path("new/", views.deal_create, name="deal_create"),
    path("pipelines/", views.pipelines, name="pipelines"),
    path("board/stage/<int:stage_id>/more/", views.board_column_more, name="column_more"),
    path("<int:deal_id>/", views.deal_detail, name="deal_detail"),
    path("<int:deal_id>/edit/", views.deal_edit, name="deal_edit"),
    path("<int:deal_id>/move/", views.deal_move, name="deal_move"),
]
