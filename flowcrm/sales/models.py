"""Pipelines, their stages, and deals moving through them."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from flowcrm.core.models import OwnedModel, TimestampedModel


class Pipeline(TimestampedModel):
    name = models.CharField(max_length=100, unique=True)
    currency = models.CharField(max_length=3, default="EUR")
    is_default = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Stage(TimestampedModel):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)], help_text="Percent."
    )
    is_won = models.BooleanField(default=False)
    is_lost = models.BooleanField(default=False)
    rotting_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="A deal idle this many days in the stage is rotting."
    )

    class Meta:
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_unique"),
            models.CheckConstraint(
                condition=~models.Q(is_won=True, is_lost=True), name="stage_not_won_and_lost"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline.name} · {self.name}"

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


class DealStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    CLOSED = "closed", "Closed"
    OMITTED = "omitted", "Omitted"


class Deal(OwnedModel):
    title = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="EUR")
    expected_close_date = models.DateField(null=True, blank=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    # Derived from the stage (won/lost/open), kept on the row for cheap filters and totals.
    status = models.CharField(max_length=8, choices=DealStatus.choices, default=DealStatus.OPEN)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals"
    )
    contacts = models.ManyToManyField("contacts.Contact", blank=True, related_name="deals")
    lost_reason = models.CharField(max_length=200, blank=True, default="")
    closed_at = models.DateTimeField(null=True, blank=True)
    forecast_category = models.CharField(
        max_length=12, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    external_id = models.CharField(max_length=100, null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["pipeline", "status", "stage"], name="deal_board_idx"),
            # a kanban column: newest in stage first, read backwards with LIMIT
            models.Index(fields=["stage", "stage_entered_at", "id"], name="deal_stage_board_idx"),
            models.Index(fields=["owner", "status"], name="deal_owner_idx"),
            models.Index(fields=["created_at", "id"], name="deal_created_idx"),
            models.Index(fields=["closed_at"], name="deal_closed_idx"),
            models.Index(fields=["company"], name="deal_company_idx"),
            models.Index(fields=["external_id"], name="deal_external_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="deal_amount_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.title
