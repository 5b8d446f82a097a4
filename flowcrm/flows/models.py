"""What the flow engine persists: definitions, versions, runs, steps, approvals and the outbox.

The engine core (``flowcrm.flows.core``) is plain Python; these tables only store what it
decides. A run's ``due_at`` is its timer: the worker claims runs whose ``due_at`` has passed
(a delay ending, a wait timing out, an approval escalating, a retry backing off).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from flowcrm.core.models import TimestampedModel

# Bumped whenever the shape of FlowRun.state changes; engine.upgrade_state() migrates old runs.
RUN_STATE_SCHEMA_VERSION = 1


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class FlowStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ARCHIVED = "archived", "Archived"


class Flow(TimestampedModel):
    """A named automation. ``draft`` is editable; published versions are frozen rows."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=8, choices=FlowStatus.choices, default=FlowStatus.DRAFT)
    draft = models.JSONField(default=dict, blank=True)
    active_version = models.ForeignKey(
        "FlowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Signs outgoing webhooks (HMAC-SHA256) and authenticates the inbound webhook trigger.
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FlowVersion(models.Model):
    """An immutable published definition. Runs are pinned to the version they started on."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Warnings of the static checks at publish time (errors refuse publishing).
    checks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["flow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "number"], name="flow_version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.flow.name} v{self.number}"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    EXITED_BY_GOAL = "exited_by_goal", "Exited (goal met)"


FINISHED_RUN_STATUSES = frozenset(
    {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.EXITED_BY_GOAL}
)


class FlowRun(models.Model):
    """One record going through one flow version.

    ``state`` is the stepper's persisted state (``state_schema_version`` says its shape).
    ``due_at`` set means "the worker should advance this run at or after that time";
    ``waiting_event`` set means "an event of this type on this record resumes the run".
    ``cascade_chain`` lists the flow ids whose actions led to this enrollment (loop guard).
    """

    id = models.BigAutoField(primary_key=True)
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(FlowVersion, on_delete=models.PROTECT, related_name="runs")
    record_type = models.CharField(max_length=32)
    record_id = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    state = models.JSONField(default=dict)
    state_schema_version = models.PositiveSmallIntegerField(default=RUN_STATE_SCHEMA_VERSION)
    current_node = models.CharField(max_length=100, blank=True, default="")
    due_at = models.DateTimeField(null=True, blank=True)
    waiting_event = models.CharField(max_length=64, blank=True, default="")
    # An event that may resume the run's wait, handed to the stepper on its next turn.
    pending_event = models.JSONField(null=True, blank=True)
    trigger_event_id = models.BigIntegerField(null=True, blank=True)
    cascade_chain = models.JSONField(default=list, blank=True)
    enrolled_at = models.DateTimeField(default=timezone.now)
    first_action_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    error = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            # the worker's claim query: due runs, oldest first
            models.Index(
                fields=["due_at", "id"], name="flowrun_due_idx", condition=Q(due_at__isnull=False)
            ),
            # wait-for-event resumption in the event subscriber
            models.Index(
                fields=["waiting_event", "record_type", "record_id"],
                name="flowrun_waiting_idx",
                condition=~Q(waiting_event=""),
            ),
            models.Index(fields=["flow", "status", "enrolled_at"], name="flowrun_flow_idx"),
            models.Index(fields=["record_type", "record_id"], name="flowrun_record_idx"),
            models.Index(fields=["enrolled_at", "id"], name="flowrun_enrolled_idx"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.flow_id} on {self.record_type}#{self.record_id}"

    @property
    def cascade_depth(self) -> int:
        return len(self.cascade_chain)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_RUN_STATUSES


class StepStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    STARTED = "started", "Started"
    WAITING = "waiting", "Waiting"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


class StepExecution(models.Model):
    """One attempt at one node of a run, with the times that make waiting vs working visible.

    ``queued_at`` is when the step became due, ``started_at`` when a worker picked it up,
    ``finished_at`` when it committed; waiting time = started - queued, processing = finished -
    started.
    """

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="steps")
    # The step's position in the run's state (``RunState.steps[index]``).
    index = models.PositiveIntegerField(default=0)
    node_id = models.CharField(max_length=100)
    node_kind = models.CharField(max_length=32, blank=True, default="")
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=StepStatus.choices)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    input = models.JSONField(default=dict, blank=True)
    output = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    idempotency_key = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["run", "index"]
        indexes = [models.Index(fields=["run", "id"], name="flowstep_run_idx")]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="flowstep_run_index_unique")
        ]

    def __str__(self) -> str:
        return f"{self.node_id} attempt {self.attempt} ({self.status})"


class EffectRecord(models.Model):
    """An effect a step applied, keyed by its idempotency key; written in the step's transaction.

    A step re-executed after a crash finds its key here and reuses the recorded output instead
    of applying the effect again. The unique key also stops two workers that somehow raced on
    one step: the second INSERT fails and its transaction rolls back.
    """

    key = models.CharField(max_length=200, unique=True)
    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="effects")
    action = models.CharField(max_length=50)
    output = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key


class EnrollmentLog(models.Model):
    """When a record last entered a flow: drives the re-enrollment policy without scanning runs."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(max_length=32)
    record_id = models.BigIntegerField()
    last_enrolled_at = models.DateTimeField(default=timezone.now)
    enrollments = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "record_type", "record_id"], name="enrollment_log_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_type}#{self.record_id} in flow {self.flow_id}"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    # The run stopped waiting (cancelled, goal reached) before anyone decided.
    CLOSED = "closed", "Closed"


class ApprovalPolicy(models.TextChoices):
    ANY = "any", "Any approver"
    ALL = "all", "All approvers"
    N_OF_M = "n_of_m", "N of the approvers"


class Approval(models.Model):
    """A run waiting at an approval node. ``approver_ids`` is resolved when the step is reached."""

    run = models.ForeignKey(FlowRun, on_delete=models.CASCADE, related_name="approvals")
    node_id = models.CharField(max_length=100)
    # The step's idempotency key (run:node:visit): one approval per visit of the node.
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    title = models.CharField(max_length=200)
    approver_ids = models.JSONField(default=list)
    policy = models.CharField(max_length=8, choices=ApprovalPolicy.choices, default="any")
    required = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=8, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    escalate_at = models.DateTimeField(null=True, blank=True)
    escalated = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="approval_status_idx")]

    def __str__(self) -> str:
        return self.title


class ApprovalDecision(models.Model):
    approval = models.ForeignKey(Approval, on_delete=models.CASCADE, related_name="decisions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    approved = models.BooleanField()
    comment = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["approval", "decided_at"]
        constraints = [
            models.UniqueConstraint(fields=["approval", "user"], name="approval_decision_unique")
        ]

    def __str__(self) -> str:
        return f"{'approved' if self.approved else 'rejected'} by {self.user_id}"


class OutboxKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "Webhook"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    # Claimed by a worker that is delivering it now (``claimed_until`` is its lease).
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # The worker died mid-delivery of an e-mail: it may or may not have gone out. Never resent
    # automatically (that could send it twice); an operator can resend it.
    IN_DOUBT = "in_doubt", "In doubt"


class OutboxMessage(models.Model):
    """An e-mail or webhook call decided by a step, written in the step's transaction.

    Delivery happens after commit and carries ``idempotency_key`` (webhooks: the
    ``Idempotency-Key`` header; e-mail: the Message-ID), so a receiver can drop a repeat.
    """

    id = models.BigAutoField(primary_key=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=8, choices=OutboxKind.choices)
    run = models.ForeignKey(
        FlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="outbox"
    )
    step = models.ForeignKey(
        StepExecution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    response = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="outbox_pending_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_until"], name="outbox_sending_idx", condition=Q(status="sending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key} ({self.status})"


class Notification(models.Model):
    """An in-app notice for one user (e.g. "Approve the discount on deal X")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    text = models.CharField(max_length=500)
    link = models.CharField(max_length=300, blank=True, default="")
    run = models.ForeignKey(
        FlowRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "created_at"], name="notification_idx")]

    def __str__(self) -> str:
        return self.text


class RateWindow(models.Model):
    """How many times an action ran for a flow in one window (rate limits queue, never drop)."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=50)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "action", "window_start"], name="rate_window_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} x{self.count} from {self.window_start:%Y-%m-%d %H:%M}"


class AssignmentPointer(models.Model):
    """The user a round-robin assignment node gave the last record to."""

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="+")
    node_id = models.CharField(max_length=100)
    last_user_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["flow", "node_id"], name="assignment_pointer_unique")
        ]

    def __str__(self) -> str:
        return f"{self.node_id}: {self.last_user_id}"
