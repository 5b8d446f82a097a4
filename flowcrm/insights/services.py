"""Writes of the insights app: importing an event log into the analysis workspace."""

from __future__ import annotations

import datetime as dt
from typing import IO, Any

from django.db import transaction

from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.events import record_event
from flowcrm.insights.models import ImportedEvent, ImportedLog
from flowcrm.insights.xes import XesError, read_xes

BATCH_SIZE = 5000


def imported_log_create(
    *, name: str, filename: str, stream: IO[bytes], actor: Actor
) -> ImportedLog:
    """Import an XES file (plain or gzipped) as a read-only log, with one ``imported_log.created``
    event. Streams the file; events are inserted in batches inside one transaction.

    Raises ValidationFailed(``file``: "line N: …") for a malformed or non-XES file; nothing is
    kept then.
    """
    name = name.strip()[:200]
    if not name:
        raise ValidationFailed({"name": "Must not be empty."})
    with transaction.atomic():
        log = ImportedLog.objects.create(
            name=name, source_filename=filename[:255], imported_by_id=actor.user_id
        )
        batch: list[ImportedEvent] = []
        cases: set[str] = set()
        counted = 0

        def store(case: str, activity: str, moment: dt.datetime, position: int) -> None:
            nonlocal counted
            if len(case) > 200 or len(activity) > 200:
                raise XesError(
                    0, f"case id or activity longer than 200 characters in case {case[:40]!r}"
                )
            batch.append(
                ImportedEvent(
                    log=log, case_id=case, activity=activity, occurred_at=moment, position=position
                )
            )
            cases.add(case)
            counted += 1
            if len(batch) >= BATCH_SIZE:
                ImportedEvent.objects.bulk_create(batch)
                batch.clear()

        try:
            read_xes(stream, store)
        except XesError as error:
            raise ValidationFailed({"file": str(error)}) from None
        ImportedEvent.objects.bulk_create(batch)
        log.case_count, log.event_count = len(cases), counted
        log.save(update_fields=["case_count", "event_count"])
        record_event(
            type="imported_log.created",
            subject=log,
            actor=actor,
            changes={"name": {"before": None, "after": log.name}},
            data={"cases": log.case_count, "events": log.event_count, "filename": filename},
        )
    return log


def imported_logs() -> list[ImportedLog]:
    return list(ImportedLog.objects.all()[:200])


def imported_log_summary(log: ImportedLog) -> dict[str, Any]:
    return {
        "id": log.pk,
        "name": log.name,
        "source_filename": log.source_filename,
        "cases": log.case_count,
        "events": log.event_count,
        "created_at": log.created_at.isoformat(),
    }
