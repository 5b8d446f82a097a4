"""Logged interactions (calls, e-mails, meetings, notes) and tasks."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from flowcrm.core.models import OwnedModel, TimestampedModel


class ActivityKind(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    MEETING = "meeting", "Meeting"
    NOTE = "note", "Note"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class Activity(OwnedModel):
    kind = models.CharField(max_length=8, choices=ActivityKind.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True, default="")
    subject = models.CharField(max_length=200, blank=True, default="")
    body = models.TextField(blank=True, default="")
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=100, blank=True, default="")
    occurred_at = models.DateTimeField(default=timezone.now)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    company = models.ForeignKey(
        "contacts.Company",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    participants = models.ManyToManyField(
        "contacts.Contact", blank=True, related_name="participated_activities"
    )
    custom = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["contact", "occurred_at"], name="activity_contact_idx"),
            models.Index(fields=["company", "occurred_at"], name="activity_company_idx"),
            models.Index(fields=["deal", "occurred_at"], name="activity_deal_idx"),
            models.Index(fields=["kind", "occurred_at"], name="activity_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_kind_display()} {self.pk}"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class TaskPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Task(TimestampedModel):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    due_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    priority = models.CharField(
        max_length=8, choices=TaskPriority.choices, default=TaskPriority.NORMAL
    )
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    deal = models.ForeignKey(
        "sales.Deal", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["assignee", "status", "due_at"], name="task_assignee_idx"),
            models.Index(fields=["contact"], name="task_contact_idx"),
            models.Index(fields=["deal"], name="task_deal_idx"),
            models.Index(fields=["company"], name="task_company_idx"),
        ]

    def __str__(self) -> str:
        return self.title
