"""Triggers: what starts a run. A registry keyed by ``type`` so later features plug in.

A trigger is a pydantic model with a ``type: Literal[...]`` field, registered with
:func:`register_trigger`. Its contract (all pure):

- ``record_type_name()``: the record type runs are about (``None``: not tied to a record);
- ``event_types()``: event-log types the runtime must route to :meth:`Trigger.matches`;
- ``matches(event)``: whether an event (a dict shaped like an event-log row: ``type``,
  ``subject_type``, ``subject_id``, ``changes``, ``data``) starts a run;
- ``fired_by(write)``: whether a flow writing that field could fire it (cascade checks);
- ``signature()``: a string equal for triggers that fire on the same occurrences (conflicts).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flowcrm.flows.core.actions import RECORD_CREATED, FieldAccess
from flowcrm.flows.core.errors import DefinitionInvalid, Path, PathError
from flowcrm.flows.core.validation import pydantic_errors

EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")

#: Event types a record_event trigger may name; later features add theirs with
#: :func:`register_event_type` (e.g. ``form.submitted``, ``email.opened``, ``sla.breached``).
_known_event_types: set[str] = set()

#: For each event type, the field writes that make the event happen (cascade detection).
_event_fired_by: dict[str, tuple[str, ...]] = {}


def register_event_type(event_type: str, *, fired_by_fields: tuple[str, ...] = ()) -> None:
    """Allow ``event_type`` in record_event triggers.

    ``fired_by_fields`` names the fields on the event's subject whose write emits it
    (``("*",)``: any field; ``(RECORD_CREATED,)``: creating the record).
    """
    if not EVENT_TYPE_PATTERN.match(event_type):
        raise ValueError(f"event type must look like 'subject.verb', got {event_type!r}")
    _known_event_types.add(event_type)
    _event_fired_by[event_type] = fired_by_fields


def known_event_types() -> list[str]:
    return sorted(_known_event_types)


for _subject in ("contact", "company", "deal", "task", "activity"):
    register_event_type(f"{_subject}.created", fired_by_fields=(RECORD_CREATED,))
    register_event_type(f"{_subject}.updated", fired_by_fields=("*",))
    register_event_type(f"{_subject}.deleted")
register_event_type("deal.stage_changed", fired_by_fields=("stage", "status"))
register_event_type("task.completed", fired_by_fields=("status",))
register_event_type("activity.logged", fired_by_fields=(RECORD_CREATED,))
register_event_type("contact.merged")
register_event_type("company.merged")


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class Trigger(BaseModel):
    """Base of every trigger type."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: str
    trigger_type: ClassVar[str] = ""

    def record_type_name(self) -> str | None:
        return None

    def event_types(self) -> frozenset[str]:
        return frozenset()

    def matches(self, event: Mapping[str, Any]) -> bool:
        return False

    def fired_by(self, write: FieldAccess) -> bool:
        return False

    def signature(self) -> str:
        return self.model_dump_json(by_alias=True)

    def condition_paths(self) -> list[tuple[str, Any]]:
        """Conditions embedded in the trigger, as ``(key, condition dict)`` for validation."""
        return []


class RecordEventTrigger(Trigger):
    """An event from the event log: created, updated, a field changed (to/from a value), ...

    ``record_type`` defaults to the event's subject. When it differs (an ``activity.logged``
    starting a flow on a contact), the run's record is the event's ``data["<record_type>_id"]``.
    ``deal.stage_changed`` compares ``from``/``to`` with the stage names, ids and status.
    """

    trigger_type: ClassVar[str] = "record_event"
    type: Literal["record_event"]
    event: str
    record_type: str | None = None
    field: str | None = None
    from_value: Any = Field(default=None, alias="from")
    to_value: Any = Field(default=None, alias="to")

    @field_validator("event")
    @classmethod
    def _known_event(cls, value: str) -> str:
        if value not in _known_event_types:
            raise ValueError(f"unknown event type {value!r}")
        return value

    @model_validator(mode="after")
    def _values_need_a_field(self) -> RecordEventTrigger:
        wants_values = self.from_value is not None or self.to_value is not None
        if wants_values and self.field is None and self.event != "deal.stage_changed":
            raise ValueError("'from'/'to' need a 'field'")
        return self

    def subject_type(self) -> str:
        return self.event.split(".", 1)[0]

    def record_type_name(self) -> str:
        return self.record_type or self.subject_type()

    def event_types(self) -> frozenset[str]:
        return frozenset({self.event})

    def record_id_for(self, event: Mapping[str, Any]) -> Any:
        """The id of the record a matching event starts a run for."""
        if self.record_type_name() == event.get("subject_type"):
            return event.get("subject_id")
        return (event.get("data") or {}).get(f"{self.record_type_name()}_id")

    def matches(self, event: Mapping[str, Any]) -> bool:
        if event.get("type") != self.event:
            return False
        return change_matches(event, self.field, self.from_value, self.to_value)

    def fired_by(self, write: FieldAccess) -> bool:
        if write.record_type != self.subject_type():
            return False
        fields = _event_fired_by.get(self.event, ())
        if write.field == RECORD_CREATED:
            return RECORD_CREATED in fields
        if self.field is not None:
            return write.field == self.field and ("*" in fields or write.field in fields)
        return "*" in fields or write.field in fields


def change_matches(
    event: Mapping[str, Any], field: str | None, from_value: Any, to_value: Any
) -> bool:
    """Whether ``event`` changed ``field`` (when given) from/to the given values (when given).

    For ``deal.stage_changed`` the values are also compared with the stage names, ids and
    statuses in the event's data, so ``to: Won`` and ``to: won`` both work.
    """
    changes: Mapping[str, Any] = event.get("changes") or {}
    data: Mapping[str, Any] = event.get("data") or {}
    if field is not None and field not in changes:
        return False
    change = changes.get(field or "stage") or {}
    before = [change.get("before")]
    after = [change.get("after")]
    if event.get("type") == "deal.stage_changed":
        before += [data.get("from_stage"), data.get("from_stage_id"), data.get("from_status")]
        after += [data.get("to_stage"), data.get("to_stage_id"), data.get("to_status")]
    if from_value is not None and not _any_equal(from_value, before):
        return False
    return to_value is None or _any_equal(to_value, after)


def _any_equal(wanted: Any, candidates: list[Any]) -> bool:
    return any(c is not None and (c == wanted or str(c) == str(wanted)) for c in candidates)


class DateTrigger(Trigger):
    """N days before (negative) or after a record's date field, at a local time."""

    trigger_type: ClassVar[str] = "date"
    type: Literal["date"]
    record_type: str
    field: str
    offset_days: int = Field(default=0, ge=-3650, le=3650)
    time: dt.time = dt.time(9, 0)
    timezone: str = "UTC"

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))

    def record_type_name(self) -> str:
        return self.record_type

    def fire_at(self, value: dt.date) -> dt.datetime:
        """When a record whose field holds ``value`` (a date or datetime) is enrolled."""
        day = value.date() if isinstance(value, dt.datetime) else value
        day = day + dt.timedelta(days=self.offset_days)
        return dt.datetime.combine(day, self.time, tzinfo=ZoneInfo(self.timezone))


class ScheduleTrigger(Trigger):
    """A cron schedule in a time zone; optionally every record of a type matching a condition."""

    trigger_type: ClassVar[str] = "schedule"
    type: Literal["schedule"]
    cron: str
    timezone: str = "UTC"
    record_type: str | None = None
    condition: dict[str, Any] | None = None

    _tz = field_validator("timezone")(classmethod(lambda cls, v: _check_timezone(v)))

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"not a valid cron expression: {value!r}")
        return value

    @model_validator(mode="after")
    def _condition_needs_record_type(self) -> ScheduleTrigger:
        if self.condition is not None and self.record_type is None:
            raise ValueError("'condition' needs a 'record_type'")
        return self

    def record_type_name(self) -> str | None:
        return self.record_type

    def next_fire_after(self, moment: dt.datetime) -> dt.datetime:
        """The first scheduled time strictly after ``moment`` (aware, in the trigger's zone)."""
        local = moment.astimezone(ZoneInfo(self.timezone))
        result: dt.datetime = croniter(self.cron, local).get_next(dt.datetime)
        return result

    def condition_paths(self) -> list[tuple[str, Any]]:
        return [("condition", self.condition)] if self.condition is not None else []


class WebhookTrigger(Trigger):
    """An authenticated inbound URL per flow; the JSON body becomes the trigger payload."""

    trigger_type: ClassVar[str] = "webhook"
    type: Literal["webhook"]
    record_type: str | None = None

    def record_type_name(self) -> str | None:
        return self.record_type


class ManualTrigger(Trigger):
    """Started by a person: one record, a selection, or every record matching a condition."""

    trigger_type: ClassVar[str] = "manual"
    type: Literal["manual"]
    record_type: str

    def record_type_name(self) -> str:
        return self.record_type


_triggers: dict[str, type[Trigger]] = {}


def register_trigger(model: type[Trigger]) -> type[Trigger]:
    """Register a trigger model under its ``trigger_type``; usable as a class decorator."""
    if not model.trigger_type:
        raise ValueError(f"{model.__name__} must set the class variable trigger_type")
    _triggers[model.trigger_type] = model
    return model


def trigger_types() -> dict[str, type[Trigger]]:
    return dict(sorted(_triggers.items()))


for _model in (RecordEventTrigger, DateTrigger, ScheduleTrigger, WebhookTrigger, ManualTrigger):
    register_trigger(_model)


def parse_trigger(data: Any, path: Path = ("trigger",)) -> Trigger:
    """Validate a trigger dict by its ``type``; raises :class:`DefinitionInvalid`."""
    if not isinstance(data, dict):
        raise DefinitionInvalid([PathError(path, "a trigger must be an object")])
    kind = data.get("type")
    model = _triggers.get(kind) if isinstance(kind, str) else None
    if model is None:
        known = ", ".join(_triggers)
        raise DefinitionInvalid(
            [PathError((*path, "type"), f"unknown trigger type {kind!r} (known: {known})")]
        )

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DefinitionInvalid(pydantic_errors(exc, path)) from exc
