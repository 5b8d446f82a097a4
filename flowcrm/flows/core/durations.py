"""Durations written as ``{"days": 2, "hours": 4}`` in definitions."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: No wait in a definition may be longer than this (ten years).
MAX_DURATION = dt.timedelta(days=3650)


class Duration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    minutes: int = Field(default=0, ge=0)
    seconds: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _positive_and_bounded(self) -> Duration:
        total = self.as_timedelta()
        if total <= dt.timedelta(0):
            raise ValueError("a duration must be longer than zero")
        if total > MAX_DURATION:
            raise ValueError("a duration may be at most 3650 days")
        return self

    def as_timedelta(self) -> dt.timedelta:
        return dt.timedelta(
            days=self.days, hours=self.hours, minutes=self.minutes, seconds=self.seconds
        )
