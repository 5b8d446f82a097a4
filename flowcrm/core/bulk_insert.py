"""Fast multi-row INSERTs for the bulk paths (imports, demo data, benchmarks).

``QuerySet.bulk_create`` spends ~40 µs a row in Python compiling each value of each model
instance; at a million rows that is most of an import's time. :func:`insert_rows` takes plain
dicts of column values, converts only the values that need it (JSON, dates, decimals) with the
fields' own ``get_db_prep_save``, and sends multi-row ``INSERT … RETURNING id`` statements sized
to the backend's parameter limit. It writes exactly what ``bulk_create`` would write, but does
not run ``save()``, model validation or signals: callers validate first, as the bulk services do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection, models

from flowcrm.core.actors import Actor
from flowcrm.core.events import EVENT_APPEND_LOCK_KEY, json_value, record_events_bulk
from flowcrm.core.models import Event

# Values of these field types reach the driver as they are.
_PASSTHROUGH = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "EmailField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SlugField",
        "SmallIntegerField",
        "TextField",
        "URLField",
    }
)


def _sqlite_utc_datetime(value: dt.datetime | None) -> str | None:
    """What Django stores on SQLite for an aware datetime (naive UTC text), without its layers."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given for a time-zone aware database")
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    if kind in _PASSTHROUGH:
        return None
    if kind == "DateTimeField":
        if connection.vendor == "sqlite" and connection.timezone == dt.UTC:
            return _sqlite_utc_datetime
        adapt_datetime = connection.ops.adapt_datetimefield_value
        return lambda value: None if value is None else adapt_datetime(value)
    if kind == "JSONField" and connection.vendor == "sqlite":
        # SQLite stores JSON as text: encoding it ourselves skips three layers of field code.
        encoder = getattr(field, "encoder", None)
        return lambda value: None if value is None else json.dumps(value, cls=encoder)

    def convert(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return convert


def _concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.concrete:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[int]:
    """INSERT ``rows`` (dicts keyed by field attname, e.g. ``company_id``) into ``model``'s table.

    Every row must have every name in ``columns``; model defaults are not applied. Returns the
    new primary keys in row order. Runs in the caller's transaction.
    """
    if not rows:
        return []
    meta = model._meta
    fields = [_concrete_field(model, name) for name in columns]
    converters = [_converter(field) for field in fields]
    quote = connection.ops.quote_name
    column_sql = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    pk_column = quote(str(_concrete_field(model, "pk").column))
    limit = connection.features.max_query_params or 32766
    per_statement = max(1, min(2000, limit // len(fields)))
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params: list[Any] = []
            for row in chunk:
                for name, convert in zip(columns, converters, strict=True):
                    value = row[name]
                    params.append(value if convert is None else convert(value))
            values_sql = ", ".join([placeholders] * len(chunk))
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({column_sql}) VALUES {values_sql}"  # noqa: S608  # names from model metadata
                f" RETURNING {pk_column}",
                params,
            )
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


EVENT_COLUMNS = (
    "type",
    "subject_type",
    "subject_id",
    "actor_kind",
    "actor_label",
    "actor_user_id",
    "actor_token_id",
    "flow_id",
    "flow_version_id",
    "flow_run_id",
    "flow_step_id",
    "changes",
    "data",
    "occurred_at",
)


def event_row(
    *,
    type: str,
    subject_type: str,
    subject_id: int,
    actor: Actor,
    changes: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    occurred_at: dt.datetime,
) -> dict[str, Any]:
    """An event as a row for :func:`append_events`: ``build_event`` without the model instance
    (building a million ``Event`` objects costs more than inserting them)."""
    return {
        "type": type,
        "subject_type": subject_type,
        "subject_id": subject_id,
        **actor.event_fields(),
        "changes": dict(changes),
        "data": json_value(dict(data or {})),
        "occurred_at": occurred_at,
    }


_PLAIN = (str, int, float, bool)


def creation_changes(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``core.events.created_changes`` with a fast path for plain values (same result)."""
    return {
        field: {"before": None, "after": value if type(value) in _PLAIN else json_value(value)}
        for field, value in values.items()
        if value not in (None, "", [], {})
    }


def append_events(rows: Sequence[Mapping[str, Any]], *, notify: bool) -> list[int]:
    """Append events (from :func:`event_row`) in the caller's transaction; returns their ids.

    With ``notify`` this is :func:`record_events_bulk` (subscribers see the events). Without,
    nobody is to be told, so the rows go in through :func:`insert_rows` under the same append
    lock, at a fraction of the ORM's cost: the bulk paths' events are most of their writes.
    """
    if notify:
        saved = record_events_bulk([Event(**row) for row in rows], notify=True)
        return [event.pk for event in saved]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_APPEND_LOCK_KEY])
    return insert_rows(Event, EVENT_COLUMNS, rows)
