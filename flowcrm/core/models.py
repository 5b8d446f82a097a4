"""Base model mixins, the event log and custom field definitions."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class OwnedModel(TimestampedModel):
    """A record with an owner; ownership drives record-level visibility (core.permissions)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True


class ActorKind(models.TextChoices):
    USER = "user"
    TOKEN = "token"  # noqa: S105  # an actor kind, not a secret
    SYSTEM = "system"
    FLOW = "flow"


class Event(models.Model):
    """One change to one record. Appended by services in the transaction of the change.

    ``id`` is monotonic and doubles as the cursor for readers of the log ("events after X").
    ``changes`` maps a field name to ``{"before": …, "after": …}``; ``data`` carries extra facts
    of the event (e.g. stage names of a stage change) that readers need without a join.
    """

    id = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=32)
    subject_id = models.BigIntegerField()
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=200, blank=True, default="")
    # Audit rows outlive users: no database constraint, no cascade.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    flow_id = models.BigIntegerField(null=True, blank=True)
    flow_version_id = models.BigIntegerField(null=True, blank=True)
    flow_run_id = models.BigIntegerField(null=True, blank=True)
    flow_step_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # timeline / field history of one record, newest first
            models.Index(fields=["subject_type", "subject_id", "id"], name="event_subject_idx"),
            # events of one type in a time range (process analytics, reports)
            models.Index(fields=["type", "occurred_at"], name="event_type_time_idx"),
            # all changes made by one flow run (run trace, audit)
            models.Index(
                fields=["flow_run_id"],
                name="event_flow_run_idx",
                condition=models.Q(flow_run_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_type}#{self.subject_id}"


class RecordType(models.TextChoices):
    CONTACT = "contact"
    COMPANY = "company"
    DEAL = "deal"
    ACTIVITY = "activity"
    TASK = "task"


class CustomFieldType(models.TextChoices):
    TEXT = "text"
    NUMBER = "number"
    MONEY = "money"
    DATE = "date"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    BOOLEAN = "boolean"
    URL = "url"
    EMAIL = "email"
    USER = "user"


class CustomFieldDefinition(TimestampedModel):
    """An admin-defined typed field of a record type; values live in the record's ``custom``."""

    record_type = models.CharField(max_length=16, choices=RecordType.choices)
    key = models.SlugField(max_length=50, help_text="Name used in the API, filters and flows.")
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=16, choices=CustomFieldType.choices)
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    is_unique = models.BooleanField(default=False, help_text="Usable as an import match key.")
    help_text = models.CharField(max_length=200, blank=True, default="")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["record_type", "position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "key"], name="custom_field_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.record_type}.{self.key}"
