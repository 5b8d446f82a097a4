"""The delay node: for a duration, until an instant, until a record date field, until open."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from flowcrm.flows.core.effects import NodeOutcome, Proceed, Suspend
from flowcrm.flows.core.nodes.base import Node, Strict

if TYPE_CHECKING:
    from flowcrm.flows.core.effects import StepContext
    from flowcrm.flows.core.state import Wait

DelayType = Literal["duration", "until", "until_field", "business_hours"]


class DelayConfig(Strict):
    """``duration`` (days/hours/minutes/seconds, optionally counting business time only),
    ``until`` an instant, ``until_field`` a record date field ± offset at a local time, or
    ``business_hours`` (until the flow's calendar is open). A moment already past continues at
    once; an empty ``until_field`` field continues at once too (noted on the step)."""

    type: DelayType
    days: int = Field(default=0, ge=0, le=3650)
    hours: int = Field(default=0, ge=0, le=87600)
    minutes: int = Field(default=0, ge=0, le=5256000)
    seconds: int = Field(default=0, ge=0, le=315360000)
    business_time: bool = False
    at: dt.datetime | None = None
    field: str | None = None
    offset_days: int = Field(default=0, ge=-3650, le=3650)
    offset_hours: int = Field(default=0, ge=-23, le=23)
    time: dt.time | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("at")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("'at' needs a time zone offset, e.g. 2027-01-01T09:00:00+01:00")
        return value

    @model_validator(mode="after")
    def _fields_fit_the_type(self) -> DelayConfig:
        if self.type == "duration" and self.duration() <= dt.timedelta(0):
            raise ValueError("a 'duration' delay needs days, hours, minutes or seconds")
        if self.type == "until" and self.at is None:
            raise ValueError("an 'until' delay needs 'at'")
        if self.type == "until_field" and not self.field:
            raise ValueError("an 'until_field' delay needs 'field'")
        return self

    def duration(self) -> dt.timedelta:
        return dt.timedelta(
            days=self.days, hours=self.hours, minutes=self.minutes, seconds=self.seconds
        )


class DelayNode(Node):
    node_kind: ClassVar[str] = "delay"
    pauses: ClassVar[bool] = True
    kind: Literal["delay"]
    config: DelayConfig

    def due(self, ctx: StepContext) -> tuple[dt.datetime | None, dict[str, Any]]:
        """When the delay ends (``None``: it does not apply) and a note for the step."""
        config = self.config
        if config.type == "duration":
            if config.business_time:
                return ctx.definition.calendar.add_business_time(ctx.now, config.duration()), {}
            return ctx.now + config.duration(), {}
        if config.type == "until":
            assert config.at is not None
            return config.at.astimezone(dt.UTC), {}
        if config.type == "business_hours":
            return ctx.definition.calendar.next_open(ctx.now), {}
        assert config.field is not None
        value = (ctx.record or {}).get(config.field)
        moment = _as_moment(value, config)
        if moment is None:
            return None, {"skipped": f"{config.field} is empty or not a date", "value": str(value)}
        return moment, {"field": config.field, "value": str(value)}

    def enter(self, ctx: StepContext) -> NodeOutcome:
        due, note = self.due(ctx)
        if due is None or due <= ctx.now:
            detail = {**note, "due": due.isoformat() if due else None, "waited": False}
            return Proceed(detail=detail)
        return Suspend(kind="timer", wake_at=due, detail={**note, "due": due.isoformat()})

    def resume(self, ctx: StepContext, wait: Wait) -> NodeOutcome | None:
        if wait.wake_at is not None and ctx.now < wait.wake_at:
            return None
        due = wait.wake_at.isoformat() if wait.wake_at else None
        return Proceed(detail={"due": due, "waited": True})


def _as_moment(value: Any, config: DelayConfig) -> dt.datetime | None:
    """The field value (a date, a datetime or ISO text) moved by the offsets, at ``time``."""
    zone = ZoneInfo(config.timezone)
    if isinstance(value, str):
        try:
            value = (
                dt.date.fromisoformat(value)
                if len(value) == 10
                else dt.datetime.fromisoformat(value)
            )
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        local = value if value.tzinfo else value.replace(tzinfo=zone)
        local = local.astimezone(zone) + dt.timedelta(days=config.offset_days)
        if config.time is not None:
            local = dt.datetime.combine(local.date(), config.time, tzinfo=zone)
    elif isinstance(value, dt.date):
        day = value + dt.timedelta(days=config.offset_days)
        local = dt.datetime.combine(day, config.time or dt.time(0, 0), tzinfo=zone)
    else:
        return None
    return (local + dt.timedelta(hours=config.offset_hours)).astimezone(dt.UTC)
