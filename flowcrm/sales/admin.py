"""Admin site configuration of pipelines and stages; every save goes through the services.

Deleting is disabled here: a stage or pipeline holding deals is protected, and removing one
without an event would leave a gap in the log.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.sales import services
from flowcrm.sales.models import Pipeline, Stage


def _actor(request: HttpRequest) -> Actor:
    assert isinstance(request.user, User)
    return Actor.for_user(request.user)


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin[Pipeline]):
    list_display = ["name", "currency", "is_default", "position"]

    def has_delete_permission(self, request: HttpRequest, obj: Pipeline | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Pipeline, form: Any, change: bool) -> None:
        if not change:
            created = services.pipeline_create(
                name=obj.name,
                currency=obj.currency,
                is_default=obj.is_default,
                actor=_actor(request),
            )
            obj.pk = created.pk
            return
        current = Pipeline.objects.get(pk=obj.pk)
        data = {field: getattr(obj, field) for field in form.changed_data}
        services.pipeline_update(pipeline=current, data=data, actor=_actor(request))


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin[Stage]):
    list_display = [
        "name",
        "pipeline",
        "position",
        "probability",
        "is_won",
        "is_lost",
        "rotting_days",
    ]
    list_filter = ["pipeline"]
    ordering = ["pipeline", "position"]

    def has_delete_permission(self, request: HttpRequest, obj: Stage | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Stage | None = None) -> list[str]:
        # Position changes through the reorder service; a stage never changes pipeline.
        return ["pipeline", "position"] if obj is not None else ["position"]

    def save_model(self, request: HttpRequest, obj: Stage, form: Any, change: bool) -> None:
        if not change:
            created = services.stage_create(
                pipeline=obj.pipeline,
                name=obj.name,
                probability=obj.probability,
                is_won=obj.is_won,
                is_lost=obj.is_lost,
                rotting_days=obj.rotting_days,
                actor=_actor(request),
            )
            obj.pk = created.pk
            return
        current = Stage.objects.select_related("pipeline").get(pk=obj.pk)
        data = {field: getattr(obj, field) for field in form.changed_data}
        services.stage_update(stage=current, data=data, actor=_actor(request))
