"""Business hours: a weekly opening window in a time zone, minus holidays."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class BusinessCalendar(BaseModel):
    """Open on ``weekdays`` (0 = Monday) from ``opens`` to ``closes`` local time, except holidays.

    The default is Monday to Friday, 09:00-17:00 UTC.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    weekdays: tuple[int, ...] = Field(default=(0, 1, 2, 3, 4), min_length=1)
    opens: dt.time = dt.time(9, 0)
    closes: dt.time = dt.time(17, 0)
    holidays: tuple[dt.date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("weekdays")
    @classmethod
    def _valid_weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(day < 0 or day > 6 for day in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _opens_before_closes(self) -> BusinessCalendar:
        if self.opens >= self.closes:
            raise ValueError("'opens' must be before 'closes'")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _is_business_day(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def _window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        return (
            dt.datetime.combine(day, self.opens, tzinfo=self.zone),
            dt.datetime.combine(day, self.closes, tzinfo=self.zone),
        )

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.zone)
        if not self._is_business_day(local.date()):
            return False
        opens, closes = self._window(local.date())
        return opens <= local < closes

    def next_open(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself when open, else the next opening time (aware, UTC)."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(366 * 2):
            if self._is_business_day(day):
                opens, closes = self._window(day)
                if local < closes:
                    return max(local, opens).astimezone(dt.UTC)
            day += dt.timedelta(days=1)
        raise ValueError("the calendar has no opening time within two years")

    def add_business_time(self, moment: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """``moment`` plus ``amount`` of open time (time outside business hours does not count)."""
        remaining = amount
        current = self.next_open(moment)
        while True:
            local = current.astimezone(self.zone)
            _, closes = self._window(local.date())
            available = closes - local
            if remaining <= available:
                return (local + remaining).astimezone(dt.UTC)
            remaining -= available
            current = self.next_open(closes)

    def add_business_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The same local time ``days`` business days later (e.g. a task due in 2 business days)."""
        local = moment.astimezone(self.zone)
        day = local.date()
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self._is_business_day(day):
                counted += 1
        return dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=self.zone)
