"""Set-based writes for imports: reserved ids, multi-row INSERT/UPDATE, and bulk events.

Imports write up to a million rows a minute, which the ORM's per-object machinery cannot do, so
this module writes prepared parameter rows with ``executemany`` on the cursor. It is the import's
own bulk service path and keeps the event contract of ``docs/events.md``: every created or
updated record gets exactly one event in the same transaction as its row. Subscribers (the flow
engine) are notified through :func:`flowcrm.core.events.record_events_bulk` when the import asks
for it; a silent import appends its events directly, under the same append lock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from flowcrm.core.actors import Actor
from flowcrm.core.events import EVENT_APPEND_LOCK_KEY, record_events_bulk
from flowcrm.core.models import Event

EventRow = tuple[str, str, int, str, str, str, str | None]  # type, subject, id, changes, data, at


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys for ``model``, never handed out to anyone else.

    PostgreSQL: taken from the table's identity sequence. SQLite: the caller holds the database
    write lock (FlowCRM opens transactions IMMEDIATE), so ids after the highest ever used are
    free until the transaction ends.
    """
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT MAX(id) FROM "{table}"')  # noqa: S608  # table name from model meta
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(highest, row[0] if row else 0) + 1
    return list(range(start, start + count))


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: list[list[Any]]) -> None:
    """INSERT prepared rows (values already in database form) into ``model``'s table."""
    if not rows:
        return
    table = model._meta.db_table
    column_sql = ", ".join(f'"{column}"' for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{table}" ({column_sql}) VALUES ({placeholders})',  # noqa: S608  # names from model meta
            rows,
        )


def update_rows(model: type[models.Model], columns: Sequence[str], rows: list[list[Any]]) -> None:
    """UPDATE by id: each row is the new values of ``columns`` followed by the id."""
    if not rows:
        return
    table = model._meta.db_table
    assignments = ", ".join(f'"{column}" = %s' for column in columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f'UPDATE "{table}" SET {assignments} WHERE id = %s',  # noqa: S608  # names from model meta
            rows,
        )


EVENT_COLUMNS = (
    "type", "subject_type", "subject_id", "changes", "data", "occurred_at",
    "actor_kind", "actor_label", "actor_user_id", "actor_token_id",
    "flow_id", "flow_version_id", "flow_run_id", "flow_step_id",
)  # fmt: skip


def append_events(
    events: list[tuple[str, str, int, dict[str, Any], dict[str, Any]]],
    *,
    actor: Actor,
    occurred_at: Any,
    notify: bool,
) -> int:
    """Append one event per ``(type, subject_type, subject_id, changes, data)``.

    ``changes`` and ``data`` hold JSON-ready values. With ``notify`` the events go through
    :func:`record_events_bulk` so subscribers (flows) see them; otherwise they are inserted in
    one statement per batch under the event append lock. Returns the number appended.
    """
    if not events:
        return 0
    if notify:
        record_events_bulk(
            [
                Event(
                    type=event_type,
                    subject_type=subject_type,
                    subject_id=subject_id,
                    changes=changes,
                    data=data,
                    occurred_at=occurred_at,
                    **actor.event_fields(),
                )
                for event_type, subject_type, subject_id, changes, data in events
            ],
            notify=True,
        )
        return len(events)
    actor_fields = actor.event_fields()
    tail = [
        actor_fields["actor_kind"],
        actor_fields["actor_label"],
        actor_fields["actor_user_id"],
        actor_fields["actor_token_id"],
        actor_fields["flow_id"],
        actor_fields["flow_version_id"],
        actor_fields["flow_run_id"],
        actor_fields["flow_step_id"],
    ]
    when = connection.ops.adapt_datetimefield_value(occurred_at)
    dumps = json.dumps
    rows = [
        [event_type, subject_type, subject_id, dumps(changes), dumps(data), when, *tail]
        for event_type, subject_type, subject_id, changes, data in events
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENT_APPEND_LOCK_KEY])
    insert_rows(Event, EVENT_COLUMNS, rows)
    return len(rows)
