"""Import jobs, their chunks and row errors, and saved column mappings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class MappingPreset(models.Model):
    """A saved column mapping (and match/policy options) for one record type."""

    name = models.CharField(max_length=100)
    record_type = models.CharField(max_length=16)
    options = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["record_type", "name"]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "name"], name="mapping_preset_unique")
        ]

    def __str__(self) -> str:
        return f"{self.record_type}: {self.name}"


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJob(models.Model):
    """One uploaded file and the run that imports it; counters are kept per finished chunk."""

    record_type = models.CharField(max_length=16)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    file_name = models.CharField(max_length=300, help_text="Stored file, under MEDIA_ROOT.")
    original_name = models.CharField(max_length=300)
    size_bytes = models.BigIntegerField(default=0)
    file_info = models.JSONField(default=dict)
    options = models.JSONField(default=dict)
    chunk_size = models.PositiveIntegerField(default=5000)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True, default="")
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"], name="import_job_status_idx")]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.record_type}, {self.status})"

    def summary(self) -> dict[str, object]:
        return {
            "rows": self.rows_done,
            "created": self.created_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "skipped": self.skipped_count,
            "errors": self.error_count,
        }


class ImportChunk(models.Model):
    """A finished chunk. Written in the transaction of the chunk's records: it exists if and only
    if the chunk's writes committed, which makes a resumed import skip exactly the done chunks."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    rows = models.PositiveIntegerField()
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="import_chunk_unique")
        ]

    def __str__(self) -> str:
        return f"Import {self.job_id} chunk {self.number}"


class ImportRowError(models.Model):
    """A row that was not imported: its line, original cells and what was wrong."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    chunk_number = models.PositiveIntegerField()
    line = models.PositiveIntegerField()
    cells = models.JSONField(default=list)
    message = models.TextField()

    class Meta:
        ordering = ["job", "line"]
        indexes = [models.Index(fields=["job", "line"], name="import_row_error_idx")]

    def __str__(self) -> str:
        return f"Import {self.job_id} line {self.line}"
