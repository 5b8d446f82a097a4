"""Deal stage logs written straight into the event table, in the documented event shape."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from flowcrm.core.models import Event

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)

# Each case: (deal id, [(stage, seconds after T0), ...]) — loops, skips, ties, single-event cases
# and open cases, the shapes PM4Py must agree with us on.
HANDMADE_CASES: tuple[tuple[int, tuple[tuple[str, int], ...]], ...] = (
    (1, (("Lead in", 0), ("Qualified", 86400), ("Demo", 3 * 86400), ("Won", 10 * 86400))),
    (
        2,
        (
            ("Lead in", 100),
            ("Qualified", 50000),
            ("Demo", 90000),
            ("Qualified", 200000),
            ("Demo", 400000),
            ("Lost", 900000),
        ),
    ),  # a loop
    (3, (("Lead in", 500), ("Demo", 7200), ("Won", 400000))),  # a skip
    (4, (("Lead in", 1000), ("Qualified", 1000), ("Demo", 1000), ("Lost", 5000))),  # ties
    (5, (("Lead in", 2000),)),  # single event, open
    (6, (("Lead in", 3000), ("Qualified", 90000))),  # open
    (7, (("Lead in", 3000), ("Qualified", 3000))),  # a tie and open
    (8, (("Lead in", 4000), ("Qualified", 80000), ("Demo", 86400 * 2), ("Won", 86400 * 9))),
    (9, (("Lead in", 0),)),  # single event again (same time as case 1's start)
)


def stage_events(
    cases: Iterable[tuple[int, Sequence[tuple[str, dt.datetime]]]], *, pipeline_id: int = 1
) -> list[Event]:
    """Unsaved Event rows: ``deal.created`` for the first stage, ``deal.stage_changed`` after."""
    events: list[Event] = []
    for deal_id, steps in cases:
        previous: str | None = None
        for stage, moment in steps:
            if previous is None:
                kind, data = "deal.created", {"pipeline_id": pipeline_id, "stage": stage}
            else:
                kind = "deal.stage_changed"
                data = {"pipeline_id": pipeline_id, "from_stage": previous, "to_stage": stage}
            events.append(
                Event(
                    type=kind,
                    subject_type="deal",
                    subject_id=deal_id,
                    actor_kind="system",
                    data=data,
                    occurred_at=moment,
                )
            )
            previous = stage
    return events


def handmade_cases() -> list[tuple[int, list[tuple[str, dt.datetime]]]]:
    return [
        (deal, [(stage, T0 + dt.timedelta(seconds=offset)) for stage, offset in steps])
        for deal, steps in HANDMADE_CASES
    ]


def write_cases(cases: Iterable[tuple[int, Sequence[tuple[str, dt.datetime]]]], **kw: int) -> int:
    """Insert the cases' events (in case order, so ids break timestamp ties); returns the count."""
    rows = stage_events(cases, **kw)
    Event.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
