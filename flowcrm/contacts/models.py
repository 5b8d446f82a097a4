"""People and companies, with tags and admin-defined custom fields."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from flowcrm.core.models import OwnedModel


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber", "Subscriber"
    LEAD = "lead", "Lead"
    MQL = "mql", "Marketing qualified lead"
    SQL = "sql", "Sales qualified lead"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    EVANGELIST = "evangelist", "Evangelist"
    OTHER = "other", "Other"


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    QUALIFIED = "qualified", "Qualified"
    UNQUALIFIED = "unqualified", "Unqualified"


class CompanySize(models.TextChoices):
    MICRO = "1-10", "1-10"
    SMALL = "11-50", "11-50"
    MEDIUM = "51-200", "51-200"
    LARGE = "201-1000", "201-1,000"
    ENTERPRISE = "1001-5000", "1,001-5,000"
    HUGE = "5001+", "5,001+"


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)
    color = models.CharField(max_length=7, default="#667085")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Company(OwnedModel):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, default="", help_text="Lower-case.")
    industry = models.CharField(max_length=100, blank=True, default="")
    size = models.CharField(max_length=10, choices=CompanySize.choices, blank=True, default="")
    country = models.CharField(max_length=2, blank=True, default="", help_text="ISO 3166-1 alpha-2")
    external_id = models.CharField(max_length=100, null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies")
    # A merged company keeps its row as a tombstone that points at the survivor.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["name", "id"], name="company_name_idx"),
            models.Index(fields=["domain"], name="company_domain_idx"),
            models.Index(fields=["created_at", "id"], name="company_created_idx"),
            models.Index(fields=["owner", "name"], name="company_owner_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False, merged_into__isnull=True),
                name="company_external_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Contact(OwnedModel):
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    # Primary e-mail, normalised (trimmed, lower-case); unique among live contacts.
    email = models.CharField(max_length=254, null=True, blank=True)
    extra_emails = models.JSONField(default=list, blank=True)
    # Primary phone in E.164 (+4930123456) when it parses, else as entered.
    phone = models.CharField(max_length=40, blank=True, default="")
    extra_phones = models.JSONField(default=list, blank=True)
    job_title = models.CharField(max_length=150, blank=True, default="")
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    lifecycle_stage = models.CharField(
        max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.LEAD
    )
    lead_status = models.CharField(
        max_length=16, choices=LeadStatus.choices, blank=True, default=LeadStatus.NEW
    )
    source = models.CharField(max_length=50, blank=True, default="")
    score = models.IntegerField(default=0)
    country = models.CharField(max_length=2, blank=True, default="", help_text="ISO 3166-1 alpha-2")
    unsubscribed = models.BooleanField(default=False)
    external_id = models.CharField(max_length=100, null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            models.Index(fields=["created_at", "id"], name="contact_created_idx"),
            models.Index(fields=["owner", "created_at"], name="contact_owner_idx"),
            models.Index(fields=["company"], name="contact_company_idx"),
            models.Index(fields=["lifecycle_stage", "created_at"], name="contact_stage_idx"),
            models.Index(fields=["phone"], name="contact_phone_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(email__isnull=False, merged_into__isnull=True),
                name="contact_email_unique",
            ),
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False, merged_into__isnull=True),
                name="contact_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Contact {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
