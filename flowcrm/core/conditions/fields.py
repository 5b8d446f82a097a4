"""The field registry: which field paths a condition may name, per record type, and their types.

A path is rooted at the record type and may cross up to two relations
(``deal.owner.team.name``). Custom fields appear as ``<entity>.custom.<key>`` wherever their
entity appears. Tags of the record itself are ``<record>.tags`` (a multi-choice of tag names).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import TextChoices

from flowcrm.accounts.models import Role
from flowcrm.activities.models import ActivityKind, Direction, TaskPriority, TaskStatus
from flowcrm.contacts.models import CompanySize, LeadStatus, LifecycleStage
from flowcrm.core.conditions.tree import FieldInfo, FieldType
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import CustomFieldDefinition, CustomFieldType, RecordType
from flowcrm.sales.models import DealStatus, ForecastCategory

RECORD_TYPES: tuple[str, ...] = tuple(RecordType.values)
MAX_RELATION_HOPS = 2
_LABEL_SEPARATOR = " / "
_RECORDS_WITH_TAGS = ("contact", "company")


@dataclass(frozen=True)
class _Scalar:
    name: str
    kind: FieldType
    label: str
    choices: type[TextChoices] | None = None


@dataclass(frozen=True)
class _Entity:
    label: str
    scalars: tuple[_Scalar, ...]
    relations: Mapping[str, str] = field(default_factory=dict)  # orm name -> entity
    custom_type: str | None = None  # record type whose custom fields this entity carries


def _s(name: str, kind: FieldType, label: str, choices: type[TextChoices] | None = None) -> _Scalar:
    return _Scalar(name, kind, label, choices)


_T, _N, _D, _DT, _B, _C = (
    FieldType.TEXT,
    FieldType.NUMBER,
    FieldType.DATE,
    FieldType.DATETIME,
    FieldType.BOOLEAN,
    FieldType.CHOICE,
)
_STAMPS = (_s("created_at", _DT, "Created at"), _s("updated_at", _DT, "Updated at"))

_ENTITIES: dict[str, _Entity] = {
    "contact": _Entity(
        "Contact",
        (
            _s("id", FieldType.RELATION, "Id"),
            _s("first_name", _T, "First name"),
            _s("last_name", _T, "Last name"),
            _s("email", _T, "E-mail"),
            _s("phone", _T, "Phone"),
            _s("job_title", _T, "Job title"),
            _s("lifecycle_stage", _C, "Lifecycle stage", LifecycleStage),
            _s("lead_status", _C, "Lead status", LeadStatus),
            _s("source", _T, "Source"),
            _s("score", _N, "Score"),
            _s("country", _T, "Country"),
            _s("unsubscribed", _B, "Unsubscribed"),
            *_STAMPS,
        ),
        {"company": "company", "owner": "user"},
        "contact",
    ),
    "company": _Entity(
        "Company",
        (
            _s("id", FieldType.RELATION, "Id"),
            _s("name", _T, "Name"),
            _s("domain", _T, "Domain"),
            _s("industry", _T, "Industry"),
            _s("size", _C, "Size", CompanySize),
            _s("country", _T, "Country"),
            *_STAMPS,
        ),
        {"owner": "user"},
        "company",
    ),
    "deal": _Entity(
        "Deal",
        (
            _s("id", FieldType.RELATION, "Id"),
            _s("title", _T, "Title"),
            _s("amount", _N, "Amount"),
            _s("currency", _T, "Currency"),
            _s("expected_close_date", _D, "Expected close date"),
            _s("status", _C, "Status", DealStatus),
            _s("stage_entered_at", _DT, "Entered stage at"),
            _s("closed_at", _DT, "Closed at"),
            _s("lost_reason", _T, "Lost reason"),
            _s("forecast_category", _C, "Forecast category", ForecastCategory),
            *_STAMPS,
        ),
        {"stage": "stage", "pipeline": "pipeline", "company": "company", "owner": "user"},
        "deal",
    ),
    "task": _Entity(
        "Task",
        (
            _s("id", FieldType.RELATION, "Id"),
            _s("title", _T, "Title"),
            _s("description", _T, "Description"),
            _s("due_at", _DT, "Due at"),
            _s("status", _C, "Status", TaskStatus),
            _s("priority", _C, "Priority", TaskPriority),
            _s("completed_at", _DT, "Completed at"),
            *_STAMPS,
        ),
        {"assignee": "user", "contact": "contact", "company": "company", "deal": "deal"},
        "task",
    ),
    "activity": _Entity(
        "Activity",
        (
            _s("id", FieldType.RELATION, "Id"),
            _s("kind", _C, "Kind", ActivityKind),
            _s("direction", _C, "Direction", Direction),
            _s("subject", _T, "Subject"),
            _s("body", _T, "Body"),
            _s("duration_seconds", _N, "Duration (seconds)"),
            _s("outcome", _T, "Outcome"),
            _s("occurred_at", _DT, "Occurred at"),
            *_STAMPS,
        ),
        {"owner": "user", "contact": "contact", "company": "company", "deal": "deal"},
        "activity",
    ),
    "user": _Entity(
        "User",
        (
            _s("id", FieldType.USER, "Id"),
            _s("email", _T, "E-mail"),
            _s("name", _T, "Name"),
            _s("role", _C, "Role", Role),
            _s("is_available", _B, "Available"),
        ),
        {"team": "team"},
    ),
    "team": _Entity("Team", (_s("id", FieldType.RELATION, "Id"), _s("name", _T, "Name"))),
    "stage": _Entity(
        "Stage",
        (
            _s("id", FieldType.RELATION, "Id"),
            _s("name", _T, "Name"),
            _s("probability", _N, "Probability"),
            _s("is_won", _B, "Is won"),
            _s("is_lost", _B, "Is lost"),
        ),
    ),
    "pipeline": _Entity("Pipeline", (_s("id", FieldType.RELATION, "Id"), _s("name", _T, "Name"))),
}

CUSTOM_FIELD_TYPES: dict[str, FieldType] = {
    CustomFieldType.TEXT: FieldType.TEXT,
    CustomFieldType.URL: FieldType.TEXT,
    CustomFieldType.EMAIL: FieldType.TEXT,
    CustomFieldType.NUMBER: FieldType.NUMBER,
    CustomFieldType.MONEY: FieldType.NUMBER,
    CustomFieldType.DATE: FieldType.DATE,
    CustomFieldType.CHOICE: FieldType.CHOICE,
    CustomFieldType.MULTI_CHOICE: FieldType.MULTI_CHOICE,
    CustomFieldType.BOOLEAN: FieldType.BOOLEAN,
    CustomFieldType.USER: FieldType.USER,
}


def fields_for(record_type: str) -> dict[str, FieldInfo]:
    """Every condition field path of a record type, by path (one query for custom fields).

    Raises ValidationFailed for an unknown record type.
    """
    if record_type not in RECORD_TYPES:
        raise ValidationFailed({"record_type": f"unknown record type {record_type!r}"})
    custom: dict[str, list[CustomFieldDefinition]] = {}
    for definition in CustomFieldDefinition.objects.all():
        custom.setdefault(definition.record_type, []).append(definition)
    registry: dict[str, FieldInfo] = {}
    _add_entity(registry, record_type, record_type, (), (record_type,), custom)
    if record_type in _RECORDS_WITH_TAGS:
        registry[f"{record_type}.tags"] = FieldInfo(
            path=f"{record_type}.tags", type=FieldType.MULTI_CHOICE, label="Tags", is_tags=True
        )
    return registry


def _add_entity(
    registry: dict[str, FieldInfo],
    prefix: str,
    entity_name: str,
    relations: tuple[str, ...],
    labels: tuple[str, ...],
    custom: Mapping[str, list[CustomFieldDefinition]],
) -> None:
    entity = _ENTITIES[entity_name]
    label_prefix = _LABEL_SEPARATOR.join(
        _ENTITIES[name].label if name in _ENTITIES else name for name in labels
    )
    for scalar in entity.scalars:
        registry[f"{prefix}.{scalar.name}"] = FieldInfo(
            path=f"{prefix}.{scalar.name}",
            type=scalar.kind,
            label=f"{label_prefix}{_LABEL_SEPARATOR}{scalar.label}",
            choices=tuple(scalar.choices.values) if scalar.choices else (),
            relations=relations,
            column=scalar.name,
        )
    for definition in custom.get(entity.custom_type or "", []):
        path = f"{prefix}.custom.{definition.key}"
        registry[path] = FieldInfo(
            path=path,
            type=CUSTOM_FIELD_TYPES[definition.field_type],
            label=f"{label_prefix}{_LABEL_SEPARATOR}{definition.label}",
            choices=tuple(str(choice) for choice in definition.choices or ()),
            relations=relations,
            custom_key=definition.key,
        )
    if len(relations) >= MAX_RELATION_HOPS:
        return
    for orm_name, target in entity.relations.items():
        _add_entity(
            registry,
            f"{prefix}.{orm_name}",
            target,
            (*relations, orm_name),
            (*labels, target),
            custom,
        )
