"""Deal histories rebuilt from the event log: stage visits and field values as of a moment.

The log is the source of truth for "what did the pipeline look like on 1 March?": a deal's stage
at time t is the stage of its last stage event at or before t, and its expected close date is
the last value its events gave that field by then. Forecast learning and back-testing use this,
so they never peek at values written after the moment they pretend to be in.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from flowcrm.core.models import Event

STAGE_EVENT_TYPES = ("deal.created", "deal.stage_changed")


@dataclass(frozen=True)
class StageVisit:
    stage_id: int
    entered_at: dt.datetime
    left_at: dt.datetime | None

    def days(self, now: dt.datetime) -> float:
        end = self.left_at or now
        return max((end - self.entered_at).total_seconds(), 0.0) / 86400


@dataclass
class DealHistory:
    """One deal's stage visits (oldest first) and expected-close-date changes over time."""

    deal_id: int
    visits: list[StageVisit] = field(default_factory=list)
    close_dates: list[tuple[dt.datetime, dt.date | None]] = field(default_factory=list)

    def stage_at(self, moment: dt.datetime) -> StageVisit | None:
        current = None
        for visit in self.visits:
            if visit.entered_at > moment:
                break
            current = visit
        return current

    def close_date_at(self, moment: dt.datetime) -> dt.date | None:
        value: dt.date | None = None
        for changed_at, close_date in self.close_dates:
            if changed_at > moment:
                break
            value = close_date
        return value

    def created_at(self) -> dt.datetime | None:
        return self.visits[0].entered_at if self.visits else None

    def days_in_stage(self, stage_id: int, *, now: dt.datetime) -> float:
        return sum(v.days(now) for v in self.visits if v.stage_id == stage_id)

    def stages_reached(self) -> set[int]:
        return {v.stage_id for v in self.visits}


def _parse_date(value: object) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def deal_histories(deal_ids: Iterable[int]) -> dict[int, DealHistory]:
    """Histories of the given deals from their events (one query per 2,000 deals, streamed)."""
    ids = sorted(set(deal_ids))
    histories: dict[int, DealHistory] = {i: DealHistory(deal_id=i) for i in ids}
    pending: dict[int, tuple[int, dt.datetime]] = {}
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        rows = (
            Event.objects.filter(subject_type="deal", subject_id__in=chunk)
            .filter(type__in=(*STAGE_EVENT_TYPES, "deal.updated"))
            .order_by("subject_id", "occurred_at", "id")
            .values_list("subject_id", "type", "data", "changes", "occurred_at")
        )
        for deal_id, event_type, data, changes, occurred_at in rows.iterator(chunk_size=5000):
            history = histories[deal_id]
            stage_id = _stage_of(event_type, data)
            if stage_id is not None:
                previous = pending.pop(deal_id, None)
                if previous is not None:
                    history.visits.append(StageVisit(previous[0], previous[1], occurred_at))
                pending[deal_id] = (stage_id, occurred_at)
            close_change = (changes or {}).get("expected_close_date")
            if close_change is not None:
                history.close_dates.append((occurred_at, _parse_date(close_change.get("after"))))
    for deal_id, (stage_id, entered_at) in pending.items():
        histories[deal_id].visits.append(StageVisit(stage_id, entered_at, None))
    return histories


def _stage_of(event_type: str, data: dict[str, object] | None) -> int | None:
    data = data or {}
    raw = data.get("stage_id") if event_type == "deal.created" else None
    if event_type == "deal.stage_changed":
        raw = data.get("to_stage_id")
    if raw is None:
        return None
    try:
        return int(str(raw))
    except ValueError:
        return None


def group_by_deal(histories: dict[int, DealHistory]) -> dict[int, list[StageVisit]]:
    grouped: dict[int, list[StageVisit]] = defaultdict(list)
    for deal_id, history in histories.items():
        grouped[deal_id].extend(history.visits)
    return grouped
