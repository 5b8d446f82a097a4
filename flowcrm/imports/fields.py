"""What can be imported into each record type: its fields, their kinds and its relations.

A :class:`RecordSpec` is the import's view of a model: which columns a file may fill, how each
value is cleaned, which fields can be match keys, and which event types record a change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.db import models

from flowcrm.activities.models import Activity, ActivityKind, Direction
from flowcrm.contacts.models import Company, CompanySize, Contact, LeadStatus, LifecycleStage
from flowcrm.sales.models import Deal, ForecastCategory

FieldKind = Literal[
    "text", "email", "phone", "domain", "country", "currency", "choice", "int", "bool",
    "decimal", "date", "datetime",
]  # fmt: skip


@dataclass(frozen=True)
class FieldSpec:
    """A standard field: ``name`` in mappings, ``kind`` for cleaning, model ``column`` attname."""

    name: str
    kind: FieldKind = "text"
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    label: str = ""

    @property
    def column(self) -> str:
        return self.name


# Relations are resolved in bulk per chunk; the value names the related record.
RELATIONS: dict[str, str] = {
    "company": "Company, by name or domain",
    "owner": "Owner (user), by e-mail",
    "pipeline": "Pipeline, by name (default pipeline if empty)",
    "stage": "Stage, by name within the pipeline",
    "contact": "Contact, by e-mail",
    "deal": "Deal, by external id",
}


@dataclass(frozen=True)
class RecordSpec:
    record_type: str  # "contact", "company", "deal", "activity"
    model: type[models.Model]
    fields: dict[str, FieldSpec]
    relations: tuple[str, ...]
    required: tuple[str, ...]
    created_event: str
    updated_event: str
    unique_keys: tuple[str, ...] = ()
    default_match: tuple[str, ...] = ()
    extra_targets: tuple[str, ...] = field(default_factory=tuple)

    def targets(self) -> list[str]:
        """Every target a column can be mapped to (custom fields come on top)."""
        return [*self.fields, *self.extra_targets, *self.relations]


def _choices(enum: type[models.TextChoices]) -> tuple[str, ...]:
    return tuple(str(value) for value in enum.values)


CONTACT = RecordSpec(
    record_type="contact",
    model=Contact,
    fields={
        spec.name: spec
        for spec in [
            FieldSpec("first_name", max_length=100),
            FieldSpec("last_name", max_length=100),
            FieldSpec("email", "email", max_length=254),
            FieldSpec("phone", "phone", max_length=40),
            FieldSpec("job_title", max_length=150),
            FieldSpec("lifecycle_stage", "choice", choices=_choices(LifecycleStage)),
            FieldSpec("lead_status", "choice", choices=_choices(LeadStatus)),
            FieldSpec("source", max_length=50),
            FieldSpec("score", "int"),
            FieldSpec("country", "country"),
            FieldSpec("unsubscribed", "bool"),
            FieldSpec("external_id", max_length=100),
        ]
    },
    relations=("company", "owner"),
    required=(),
    created_event="contact.created",
    updated_event="contact.updated",
    unique_keys=("email", "external_id"),
    default_match=("email",),
    extra_targets=("full_name",),
)

COMPANY = RecordSpec(
    record_type="company",
    model=Company,
    fields={
        spec.name: spec
        for spec in [
            FieldSpec("name", max_length=200),
            FieldSpec("domain", "domain", max_length=200),
            FieldSpec("industry", max_length=100),
            FieldSpec("size", "choice", choices=_choices(CompanySize)),
            FieldSpec("country", "country"),
            FieldSpec("external_id", max_length=100),
        ]
    },
    relations=("owner",),
    required=("name",),
    created_event="company.created",
    updated_event="company.updated",
    unique_keys=("external_id",),
    default_match=("domain",),
)

DEAL = RecordSpec(
    record_type="deal",
    model=Deal,
    fields={
        spec.name: spec
        for spec in [
            FieldSpec("title", max_length=200),
            FieldSpec("amount", "decimal"),
            FieldSpec("currency", "currency"),
            FieldSpec("expected_close_date", "date"),
            FieldSpec("lost_reason", max_length=200),
            FieldSpec("forecast_category", "choice", choices=_choices(ForecastCategory)),
            FieldSpec("external_id", max_length=100),
        ]
    },
    relations=("pipeline", "stage", "company", "owner"),
    required=("title",),
    created_event="deal.created",
    updated_event="deal.updated",
    default_match=("external_id",),
)

ACTIVITY = RecordSpec(
    record_type="activity",
    model=Activity,
    fields={
        spec.name: spec
        for spec in [
            FieldSpec("kind", "choice", choices=_choices(ActivityKind)),
            FieldSpec("direction", "choice", choices=_choices(Direction)),
            FieldSpec("subject", max_length=200),
            FieldSpec("body"),
            FieldSpec("duration_seconds", "int"),
            FieldSpec("outcome", max_length=100),
            FieldSpec("occurred_at", "datetime"),
        ]
    },
    relations=("contact", "company", "deal", "owner"),
    required=("kind",),
    created_event="activity.logged",
    updated_event="activity.updated",
)

SPECS: dict[str, RecordSpec] = {
    "contacts": CONTACT,
    "companies": COMPANY,
    "deals": DEAL,
    "activities": ACTIVITY,
}


def spec_for(kind: str) -> RecordSpec:
    """The spec for ``contacts``/``companies``/``deals``/``activities`` (or the singular)."""
    for name, spec in SPECS.items():
        if kind in (name, spec.record_type):
            return spec
    raise KeyError(kind)
