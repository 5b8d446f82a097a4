"""Saved reports (a spec with a name) and dashboards (a grid of saved reports)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from flowcrm.core.models import TimestampedModel


class SavedReport(TimestampedModel):
    name = models.CharField(max_length=150)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shared with this team when set.",
    )
    spec = models.JSONField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Dashboard(TimestampedModel):
    """A user's dashboard, or a team's shared one. ``items`` are grid cells in order:
    ``[{"report": <saved report id>, "width": 1..3}]`` on a three-column grid."""

    name = models.CharField(max_length=150)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    items = models.JSONField(default=list)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
