"""Claiming rows for one worker among many.

On PostgreSQL, ``SELECT … FOR UPDATE SKIP LOCKED`` lets concurrent workers take disjoint
batches without waiting on each other. On SQLite every writing transaction is IMMEDIATE
(settings), so the whole claim runs under the single write lock and a plain SELECT is safe.
Call inside ``transaction.atomic()``; the rows stay claimed by whatever the caller writes.
"""

from __future__ import annotations

from django.db import connection, models


def lock_due[ModelT: models.Model](
    queryset: models.QuerySet[ModelT], *, limit: int
) -> list[ModelT]:
    """Up to ``limit`` rows of ``queryset`` (already ordered), locked for this transaction."""
    if connection.features.has_select_for_update_skip_locked:
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return list(queryset[:limit])
