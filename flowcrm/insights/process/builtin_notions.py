"""The case notions FlowCRM ships: deals through stages, contacts through lifecycle stages,
imported logs, and (when the flow engine's models are installed) flow runs through steps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce

from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event
from flowcrm.core.permissions import sees_all, visible_q
from flowcrm.insights.process.filters import ProcessFilter
from flowcrm.insights.process.notions import (
    CaseNotion,
    EpochSeconds,
    JsonText,
    register_case_notion,
)

if TYPE_CHECKING:
    from flowcrm.accounts.models import User

DEAL_EVENT_TYPES = ("deal.created", "deal.stage_changed")
CONTACT_EVENT_TYPES = ("contact.created", "contact.updated")


def condition_q(model: type[models.Model], tree: dict[str, Any]) -> models.Q:
    """The condition tree compiled to a ``Q`` over ``model`` (422 naming ``condition…`` if bad)."""
    from flowcrm.core.conditions import compile_q, parse_condition

    record_type = model._meta.model_name or ""
    condition = parse_condition(tree, record_type=record_type, path="condition")
    return compile_q(condition, record_type=record_type, path="condition")


def _record_filter(
    model: type[models.Model], filters: ProcessFilter, user: User | None
) -> models.QuerySet[Any] | None:
    """The case records kept by owner/team/condition/visibility; None when nothing filters."""
    q = models.Q()
    if filters.owner is not None:
        q &= models.Q(owner_id=filters.owner)
    if filters.team is not None:
        q &= models.Q(owner__team_id=filters.team)
    if filters.condition is not None:
        q &= condition_q(model, filters.condition)
    if user is not None and not sees_all(user):
        q &= visible_q(user)
    if not q:
        return None
    return model._default_manager.filter(q).values("id")


def _started_in_window(created_type: str, filters: ProcessFilter) -> models.QuerySet[Any] | None:
    if filters.since is None and filters.until is None:
        return None
    starts = Event.objects.filter(type=created_type)
    if filters.since is not None:
        starts = starts.filter(occurred_at__gte=filters.since)
    if filters.until is not None:
        starts = starts.filter(occurred_at__lt=filters.until)
    return starts.values("subject_id")


def _refuse(filters: ProcessFilter, fields: tuple[str, ...], notion: str) -> None:
    errors = {f: f"Does not apply to {notion}." for f in fields if getattr(filters, f) is not None}
    if errors:
        raise ValidationFailed(errors)


def deal_log(filters: ProcessFilter, user: User | None) -> models.QuerySet[Any]:
    from flowcrm.sales.models import Deal

    _refuse(filters, ("log", "flow"), "deals")
    events = Event.objects.filter(subject_type="deal", type__in=DEAL_EVENT_TYPES)
    if filters.pipeline is not None:
        events = events.filter(data__pipeline_id=filters.pipeline)
    records = _record_filter(Deal, filters, user)
    if records is not None:
        events = events.filter(subject_id__in=records)
    started = _started_in_window("deal.created", filters)
    if started is not None:
        events = events.filter(subject_id__in=started)
    # deal.created carries the stage as "stage", deal.stage_changed as "to_stage".
    activity = Coalesce(JsonText("data", "to_stage"), JsonText("data", "stage"))
    return events.annotate(activity=activity, seconds=EpochSeconds("occurred_at")).values_list(
        "subject_id", "activity", "seconds", "id"
    )


def _deal_stages(filters: ProcessFilter) -> list[Any]:
    from flowcrm.sales.models import Stage

    if filters.pipeline is None:
        return []
    return list(Stage.objects.filter(pipeline_id=filters.pipeline).order_by("position", "id"))


def deal_stage_order(filters: ProcessFilter) -> list[str]:
    """Open stages in pipeline order, then the won stage(s): the steps of the deal funnel."""
    stages = _deal_stages(filters)
    return [s.name for s in stages if not s.is_closed] + [s.name for s in stages if s.is_won]


def deal_closing(filters: ProcessFilter) -> frozenset[str]:
    from flowcrm.sales.models import Stage

    stages = Stage.objects.filter(models.Q(is_won=True) | models.Q(is_lost=True))
    if filters.pipeline is not None:
        stages = stages.filter(pipeline_id=filters.pipeline)
    return frozenset(stages.values_list("name", flat=True))


def deal_lost(filters: ProcessFilter) -> frozenset[str]:
    from flowcrm.sales.models import Stage

    stages = Stage.objects.filter(is_lost=True)
    if filters.pipeline is not None:
        stages = stages.filter(pipeline_id=filters.pipeline)
    return frozenset(stages.values_list("name", flat=True))


def contact_log(filters: ProcessFilter, user: User | None) -> models.QuerySet[Any]:
    from flowcrm.contacts.models import Contact

    _refuse(filters, ("pipeline", "log", "flow"), "contacts")
    events = Event.objects.filter(
        subject_type="contact", type__in=CONTACT_EVENT_TYPES, changes__has_key="lifecycle_stage"
    )
    records = _record_filter(Contact, filters, user)
    if records is not None:
        events = events.filter(subject_id__in=records)
    started = _started_in_window("contact.created", filters)
    if started is not None:
        events = events.filter(subject_id__in=started)
    return events.annotate(
        activity=KT("changes__lifecycle_stage__after"), seconds=EpochSeconds("occurred_at")
    ).values_list("subject_id", "activity", "seconds", "id")


def contact_stage_order(filters: ProcessFilter) -> list[str]:
    from flowcrm.contacts.models import LifecycleStage

    return [value for value in LifecycleStage.values if value != LifecycleStage.OTHER]


def imported_log(filters: ProcessFilter, user: User | None) -> models.QuerySet[Any]:
    from flowcrm.insights.models import ImportedEvent

    _refuse(filters, ("pipeline", "owner", "team", "condition", "flow"), "imported logs")
    if filters.log is None:
        raise ValidationFailed({"log": "Choose the imported log to analyse."})
    events = ImportedEvent.objects.filter(log_id=filters.log)
    if filters.since is not None or filters.until is not None:
        first = ImportedEvent.objects.filter(log_id=filters.log).values("case_id")
        first = first.annotate(started=models.Min("occurred_at"))
        if filters.since is not None:
            first = first.filter(started__gte=filters.since)
        if filters.until is not None:
            first = first.filter(started__lt=filters.until)
        events = events.filter(case_id__in=first.values("case_id"))
    return events.annotate(seconds=EpochSeconds("occurred_at")).values_list(
        "case_id", "activity", "seconds", "position"
    )


def flow_run_log(filters: ProcessFilter, user: User | None) -> models.QuerySet[Any]:
    """Flow runs through their steps: one event per step execution (every attempt), completed
    when it finished (or started/queued while it has not), with its start and queue times;
    waiting and processing count finished steps only.

    Runs touch records of every type, so only users who see all records see runs."""
    from flowcrm.flows.models import StepExecution

    _refuse(filters, ("pipeline", "owner", "team", "condition", "log"), "flow runs")
    steps = StepExecution.objects.order_by()
    if filters.flow is not None:
        steps = steps.filter(run__flow_id=filters.flow)
    if filters.since is not None:
        steps = steps.filter(run__enrolled_at__gte=filters.since)
    if filters.until is not None:
        steps = steps.filter(run__enrolled_at__lt=filters.until)
    if user is not None and not sees_all(user):
        steps = steps.none()
    completed = Coalesce("finished_at", "started_at", "queued_at")
    # A step still running has no processing time yet; leaving its start out keeps it out of
    # both waiting and processing until it finishes (its place in the path still counts).
    started_if_finished = models.Case(
        models.When(finished_at__isnull=False, then=models.F("started_at")), default=None
    )
    return steps.annotate(
        seconds=EpochSeconds(completed),
        start_seconds=EpochSeconds(started_if_finished),
        queued_seconds=EpochSeconds("queued_at"),
    ).values_list("run_id", "node_id", "seconds", "id", "start_seconds", "queued_seconds")


_registered = False


def register() -> None:
    """Register the built-in notions once (idempotent)."""
    global _registered
    if _registered:
        return
    _registered = True
    register_case_notion(
        CaseNotion(
            name="deals",
            label="Deals through pipeline stages",
            case_label="deal",
            build_query=deal_log,
            stage_order=deal_stage_order,
            closing_activities=deal_closing,
            lost_activities=deal_lost,
            record_url=lambda case_id: f"/deals/{case_id}/",
        )
    )
    register_case_notion(
        CaseNotion(
            name="contacts",
            label="Contacts through lifecycle stages",
            case_label="contact",
            build_query=contact_log,
            stage_order=contact_stage_order,
            closing_activities=lambda filters: frozenset({"customer", "evangelist"}),
            record_url=lambda case_id: f"/contacts/{case_id}/",
        )
    )
    register_case_notion(
        CaseNotion(
            name="flow_runs",
            label="Flow runs through their steps",
            case_label="run",
            build_query=flow_run_log,
            interval=True,
        )
    )
    register_case_notion(
        CaseNotion(
            name="imported",
            label="An imported event log",
            case_label="case",
            build_query=imported_log,
        )
    )
