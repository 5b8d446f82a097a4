"""Pipelines and their stages (configuration; callers check that the user is an admin)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max

from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import created_changes, diff, record_event
from flowcrm.sales.models import Pipeline, Stage

PIPELINE_UPDATABLE_FIELDS = frozenset({"name", "currency", "is_default", "position"})
STAGE_UPDATABLE_FIELDS = frozenset({"name", "probability", "is_won", "is_lost", "rotting_days"})


@dataclass(frozen=True)
class StageSpec:
    """A stage to create with a new pipeline."""

    name: str
    probability: int = 0
    is_won: bool = False
    is_lost: bool = False
    rotting_days: int | None = None


def _pipeline_snapshot(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "name": pipeline.name,
        "currency": pipeline.currency,
        "is_default": pipeline.is_default,
        "position": pipeline.position,
    }


def _stage_snapshot(stage: Stage) -> dict[str, Any]:
    return {
        "pipeline": stage.pipeline_id,
        "name": stage.name,
        "position": stage.position,
        "probability": stage.probability,
        "is_won": stage.is_won,
        "is_lost": stage.is_lost,
        "rotting_days": stage.rotting_days,
    }


def _clean_pipeline(values: Mapping[str, Any], *, exclude_pk: int | None) -> dict[str, Any]:
    cleaned = dict(values)
    errors: dict[str, str] = {}
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors["name"] = "A pipeline needs a name."
        elif (
            Pipeline.objects.filter(name__iexact=cleaned["name"])
            .exclude(pk=exclude_pk or 0)
            .exists()
        ):
            errors["name"] = f"A pipeline named {cleaned['name']!r} already exists."
    if "currency" in cleaned:
        cleaned["currency"] = str(cleaned["currency"] or "").strip().upper()
        if len(cleaned["currency"]) != 3 or not cleaned["currency"].isalpha():
            errors["currency"] = "Use a three-letter ISO 4217 code such as EUR."
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _clean_stage(
    values: Mapping[str, Any], *, pipeline: Pipeline, current: Stage | None, field_prefix: str = ""
) -> dict[str, Any]:
    cleaned = dict(values)
    errors: dict[str, str] = {}
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors[f"{field_prefix}name"] = "A stage needs a name."
        else:
            clash = pipeline.stages.filter(name__iexact=cleaned["name"])
            if current is not None:
                clash = clash.exclude(pk=current.pk)
            if clash.exists():
                errors[f"{field_prefix}name"] = (
                    f"The pipeline already has a stage named {cleaned['name']!r}."
                )
    probability = cleaned.get("probability")
    if probability is not None and not 0 <= int(probability) <= 100:
        errors[f"{field_prefix}probability"] = "Must be between 0 and 100."
    rotting = cleaned.get("rotting_days")
    if rotting is not None and int(rotting) < 1:
        errors[f"{field_prefix}rotting_days"] = "Must be at least 1 day (or empty for never)."
    is_won = cleaned.get("is_won", current.is_won if current else False)
    is_lost = cleaned.get("is_lost", current.is_lost if current else False)
    if is_won and is_lost:
        errors[f"{field_prefix}is_lost"] = "A stage cannot be both won and lost."
    if (
        current is not None
        and (is_won != current.is_won or is_lost != current.is_lost)
        and current.deals.exists()
    ):
        # Deals store their status; flipping the stage's outcome would make them lie.
        errors[f"{field_prefix}is_won"] = (
            "Deals are in this stage; move them out before changing whether it is won or lost."
        )
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def pipeline_create(
    *,
    name: str,
    actor: Actor,
    currency: str = "EUR",
    is_default: bool = False,
    stages: Sequence[StageSpec] = (),
) -> Pipeline:
    """Create a pipeline with its initial stages (in the given order); one ``pipeline.created``.

    The event's ``data.stages`` lists the created stages (id, name, position, is_won, is_lost).
    Raises ValidationFailed (``name``, ``currency``, ``stages.<i>.<field>``).
    """
    cleaned = _clean_pipeline({"name": name, "currency": currency}, exclude_pk=None)
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for index, spec in enumerate(stages):
        key = spec.name.strip().lower()
        if not key:
            errors[f"stages.{index}.name"] = "A stage needs a name."
        elif key in seen:
            errors[f"stages.{index}.name"] = f"Duplicate stage name {spec.name!r}."
        seen.add(key)
        if spec.is_won and spec.is_lost:
            errors[f"stages.{index}.is_lost"] = "A stage cannot be both won and lost."
        if not 0 <= spec.probability <= 100:
            errors[f"stages.{index}.probability"] = "Must be between 0 and 100."
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if is_default:
            Pipeline.objects.filter(is_default=True).update(is_default=False)
        position = (Pipeline.objects.aggregate(top=Max("position"))["top"] or 0) + 1
        pipeline = Pipeline.objects.create(
            name=cleaned["name"],
            currency=cleaned["currency"],
            is_default=is_default,
            position=position,
        )
        created = Stage.objects.bulk_create(
            [
                Stage(
                    pipeline=pipeline,
                    name=spec.name.strip(),
                    position=index,
                    probability=spec.probability,
                    is_won=spec.is_won,
                    is_lost=spec.is_lost,
                    rotting_days=spec.rotting_days,
                )
                for index, spec in enumerate(stages)
            ]
        )
        record_event(
            type="pipeline.created",
            subject=pipeline,
            actor=actor,
            changes=created_changes(_pipeline_snapshot(pipeline)),
            data={
                "stages": [
                    {
                        "id": stage.pk,
                        "name": stage.name,
                        "position": stage.position,
                        "is_won": stage.is_won,
                        "is_lost": stage.is_lost,
                    }
                    for stage in created
                ]
            },
        )
    return pipeline


def pipeline_update(*, pipeline: Pipeline, data: Mapping[str, Any], actor: Actor) -> Pipeline:
    """Change name/currency/is_default/position; one ``pipeline.updated`` if anything changed.

    Making a pipeline the default clears the flag on the previous default (named in the event's
    ``data.previous_default_id``). Raises ValidationFailed for unknown or invalid fields.
    """
    unknown = set(data) - PIPELINE_UPDATABLE_FIELDS
    if unknown:
        raise ValidationFailed(dict.fromkeys(unknown, "This field cannot be changed."))
    cleaned = _clean_pipeline(data, exclude_pk=pipeline.pk)
    before = _pipeline_snapshot(pipeline)
    after = {**before, **cleaned}
    changes = diff(before, after)
    if not changes:
        return pipeline
    with transaction.atomic():
        event_data: dict[str, Any] = {}
        if cleaned.get("is_default"):
            previous = Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).first()
            if previous is not None:
                Pipeline.objects.filter(pk=previous.pk).update(is_default=False)
                event_data["previous_default_id"] = previous.pk
        for field, value in cleaned.items():
            setattr(pipeline, field, value)
        pipeline.save()
        record_event(
            type="pipeline.updated", subject=pipeline, actor=actor, changes=changes, data=event_data
        )
    return pipeline


def stage_create(
    *,
    pipeline: Pipeline,
    name: str,
    actor: Actor,
    probability: int = 0,
    is_won: bool = False,
    is_lost: bool = False,
    rotting_days: int | None = None,
) -> Stage:
    """Append a stage at the end of ``pipeline``; one ``stage.created``.

    Raises ValidationFailed (``name``, ``probability``, ``is_lost``, ``rotting_days``).
    """
    cleaned = _clean_stage(
        {
            "name": name,
            "probability": probability,
            "is_won": is_won,
            "is_lost": is_lost,
            "rotting_days": rotting_days,
        },
        pipeline=pipeline,
        current=None,
    )
    with transaction.atomic():
        top = pipeline.stages.aggregate(top=Max("position"))["top"]
        stage = Stage.objects.create(
            pipeline=pipeline, position=0 if top is None else top + 1, **cleaned
        )
        record_event(
            type="stage.created",
            subject=stage,
            actor=actor,
            changes=created_changes(_stage_snapshot(stage)),
            data={"pipeline_id": pipeline.pk},
        )
    return stage


def stage_update(*, stage: Stage, data: Mapping[str, Any], actor: Actor) -> Stage:
    """Change a stage's name, probability, outcome flags or rotting days; one ``stage.updated``.

    Nothing is saved or recorded when nothing changes. The won/lost flags of a stage that holds
    deals cannot change (``is_won`` error). Raises ValidationFailed.
    """
    unknown = set(data) - STAGE_UPDATABLE_FIELDS
    if unknown:
        raise ValidationFailed(dict.fromkeys(unknown, "This field cannot be changed here."))
    cleaned = _clean_stage(data, pipeline=stage.pipeline, current=stage)
    before = _stage_snapshot(stage)
    changes = diff(before, {**before, **cleaned})
    if not changes:
        return stage
    with transaction.atomic():
        for field, value in cleaned.items():
            setattr(stage, field, value)
        stage.save()
        record_event(
            type="stage.updated",
            subject=stage,
            actor=actor,
            changes=changes,
            data={"pipeline_id": stage.pipeline_id},
        )
    return stage


def stage_reorder(*, pipeline: Pipeline, stage_ids: Sequence[int], actor: Actor) -> list[Stage]:
    """Put the pipeline's stages in the order of ``stage_ids`` (which must list each exactly once).

    One ``pipeline.stages_reordered`` event on the pipeline with the order before and after.
    Raises ValidationFailed (``stage_ids``).
    """
    with transaction.atomic():
        stages = list(pipeline.stages.select_for_update().order_by("position", "id"))
        current_ids = [stage.pk for stage in stages]
        if sorted(stage_ids) != sorted(current_ids) or len(set(stage_ids)) != len(stage_ids):
            raise ValidationFailed({"stage_ids": "List every stage of this pipeline exactly once."})
        by_id = {stage.pk: stage for stage in stages}
        ordered = [by_id[stage_id] for stage_id in stage_ids]
        if current_ids == list(stage_ids):
            return ordered
        for position, stage in enumerate(ordered):
            stage.position = position
        Stage.objects.bulk_update(ordered, ["position"])
        record_event(
            type="pipeline.stages_reordered",
            subject=pipeline,
            actor=actor,
            changes={"stage_order": {"before": current_ids, "after": list(stage_ids)}},
        )
    return ordered
