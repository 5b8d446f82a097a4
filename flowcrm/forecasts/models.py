"""Manager overrides of a period's forecast, and snapshots of forecasts for accuracy tracking."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from flowcrm.core.models import TimestampedModel


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class ForecastOverride(TimestampedModel):
    """A manager's expert figure for a period (optionally for one owner), with a comment.

    The newest override for the same pipeline, period and owner is the one shown.
    """

    pipeline = models.ForeignKey("sales.Pipeline", on_delete=models.CASCADE, related_name="+")
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    comment = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["pipeline", "period_kind", "period_start", "-created_at"],
                name="forecast_override_period_idx",
            )
        ]


class ForecastSnapshot(TimestampedModel):
    """The forecast of a period as it stood at the period's start, per method.

    ``values`` maps a method (configured, learned, time_aware, run_rate, override, commit) to
    the forecast amount; ``actual`` is filled when the period has closed.
    """

    pipeline = models.ForeignKey("sales.Pipeline", on_delete=models.CASCADE, related_name="+")
    period_kind = models.CharField(max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField()
    taken_at = models.DateTimeField()
    values = models.JSONField(default=dict)
    actual = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "period_kind", "period_start"], name="forecast_snapshot_unique"
            )
        ]
