"""Case notions: which records are cases, and which of their events are the activities.

A case notion is registered by name and produces its event log as one SQL query (built with the
ORM, so filters compose as subqueries) returning rows of
``(case_id, activity, timestamp_seconds, tiebreak[, start_seconds, queued_seconds])``.
:func:`load_log` runs that query and sorts the rows into an :class:`EventLog`; every analysis
then works on any notion. A new kind of case (flow runs through their steps, tickets through
statuses) plugs in with :func:`register_case_notion` and needs no new analytics code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models.sql.query import Query

from flowcrm.core.errors import NotFound
from flowcrm.insights.process.filters import ProcessFilter
from flowcrm.insights.process.log import EventLog, build_log

if TYPE_CHECKING:
    from flowcrm.accounts.models import User


class EpochSeconds(models.Func):
    """Seconds since the Unix epoch (UTC, float) of a datetime column, on SQLite and PostgreSQL."""

    output_field = models.FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # SQLite keeps datetimes as UTC text; julianday is exact to the millisecond.
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra
        )


class JsonText(models.Func):
    """A top-level key of a JSON column as text, in the cheapest form each database has.

    Django's ``KT()`` on SQLite evaluates ``JSON_TYPE`` and ``JSON_EXTRACT`` up to three times
    per row; a plain ``json_extract`` (``->>`` on PostgreSQL) is what a log scan can afford.
    """

    output_field = models.TextField()

    def __init__(self, column: str, key: str) -> None:
        if not key.isidentifier():
            raise ValueError(f"not a JSON key name: {key!r}")
        self.key = key
        super().__init__(models.F(column))

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = f"json_extract(%(expressions)s, '$.{self.key}')"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = f"(%(expressions)s ->> '{self.key}')"
        return self.as_sql(compiler, connection, template=template, **extra)


LogQueryBuilder = Callable[[ProcessFilter, "User | None"], models.QuerySet[Any]]


@dataclass(frozen=True)
class CaseNotion:
    """A kind of case.

    ``build_query(filters, user)`` returns a queryset whose ``values_list`` yields
    ``(case_id, activity, timestamp_seconds, tiebreak[, start_seconds, queued_seconds])``;
    ``user`` (None: everything) limits cases to the records the user may see.
    ``stage_order(filters)`` gives the ordered stages a funnel walks (empty: no funnel);
    ``closing_activities`` end a case (won, lost, finished); ``lost_activities`` are the
    unfavourable ends that drop-off and bottleneck findings count.
    """

    name: str
    label: str
    case_label: str
    build_query: LogQueryBuilder
    stage_order: Callable[[ProcessFilter], list[str]] = lambda filters: []
    closing_activities: Callable[[ProcessFilter], frozenset[str]] = lambda filters: frozenset()
    lost_activities: Callable[[ProcessFilter], frozenset[str]] = lambda filters: frozenset()
    interval: bool = False
    record_url: Callable[[str], str] | None = field(default=None)


_registry: dict[str, CaseNotion] = {}


def register_case_notion(notion: CaseNotion) -> CaseNotion:
    """Add (or replace) a case notion under ``notion.name``."""
    _registry[notion.name] = notion
    return notion


def get_case_notion(name: str) -> CaseNotion:
    _ensure_builtin_notions()
    try:
        return _registry[name]
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise NotFound(f"No case notion '{name}' (known: {known}).") from None


def case_notions() -> list[CaseNotion]:
    _ensure_builtin_notions()
    return [_registry[name] for name in sorted(_registry)]


def _ensure_builtin_notions() -> None:
    # Imported lazily: the notions import models of other apps.
    from flowcrm.insights.process import builtin_notions

    builtin_notions.register()


def log_sql(
    notion: CaseNotion, filters: ProcessFilter, user: User | None, using: str = "default"
) -> tuple[str, tuple[Any, ...]]:
    """The SQL (and parameters) of a notion's log under ``filters``: for benchmarks and EXPLAIN."""
    query: Query = notion.build_query(filters, user).using(using).query
    sql, params = query.get_compiler(using).as_sql()
    return sql, tuple(params)


def load_log(
    notion: CaseNotion, filters: ProcessFilter, user: User | None = None, using: str = "default"
) -> EventLog:
    """Run the notion's query (one round trip) and sort the rows into an :class:`EventLog`.

    The database returns rows unsorted; sorting the columns in numpy (case, timestamp, then the
    tie-break) is several times cheaper than an ORDER BY. Timestamps are rounded to the
    millisecond, the precision both databases keep exactly. ``using`` names the database alias.
    """
    try:
        sql, params = log_sql(notion, filters, user, using)
    except EmptyResultSet:  # a filter that can match nothing (e.g. ``.none()``)
        return build_log([], [], [])
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return build_log([], [], [])
    columns = list(zip(*rows, strict=True))
    timestamps = _milliseconds(columns[2])
    starts = _milliseconds(columns[4]) if notion.interval and len(columns) > 4 else None
    queued = _milliseconds(columns[5]) if notion.interval and len(columns) > 5 else None
    return build_log(
        columns[0],
        columns[1],
        timestamps,
        tiebreak=columns[3],
        start_timestamps=starts,
        queued_timestamps=queued,
    )


def _milliseconds(values: tuple[Any, ...]) -> Any:
    import numpy as np

    array = np.array(values, dtype=np.float64)  # None (unknown) becomes NaN
    return np.round(array, 3)
