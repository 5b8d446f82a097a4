"""The read-only analysis workspace: event logs imported from other systems (XES files)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from flowcrm.core.models import TimestampedModel


class ImportedLog(TimestampedModel):
    """An event log imported from a file; analysed with the same views, never edited."""

    name = models.CharField(max_length=200)
    source_filename = models.CharField(max_length=255, blank=True, default="")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    case_count = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class ImportedEvent(models.Model):
    """One event of an imported log; ``position`` is its order in the file (the tie-break)."""

    id = models.BigAutoField(primary_key=True)
    log = models.ForeignKey(ImportedLog, on_delete=models.CASCADE, related_name="events")
    case_id = models.CharField(max_length=200)
    activity = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    position = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["log", "position"], name="imported_event_log_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.activity}"
