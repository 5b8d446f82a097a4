"""``flowcrm demo``: realistic, deterministic data written through the bulk paths, with events."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from flowcrm.accounts.models import Team, User
from flowcrm.activities.models import Activity, Task
from flowcrm.contacts.models import Company, Contact
from flowcrm.core.models import CustomFieldDefinition, Event
from flowcrm.demo.loader import load_demo
from flowcrm.demo.setup import DEMO_PASSWORD, demo_email
from flowcrm.sales.models import Deal, Pipeline

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
SIZE: dict[str, Any] = {"contacts": 60, "companies": 12, "deals": 25, "seed": 7, "now": NOW}


def _fingerprint() -> dict[str, Any]:
    """The data by natural values (ids differ between loads)."""
    return {
        "companies": sorted(Company.objects.values_list("name", "domain", "country", "created_at")),
        "contacts": sorted(
            Contact.objects.values_list(
                "email", "phone", "company__domain", "lifecycle_stage", "score", "created_at"
            )
        ),
        "deals": sorted(
            Deal.objects.values_list(
                "title", "amount", "stage__name", "status", "created_at", "closed_at"
            )
        ),
        "activities": sorted(Activity.objects.values_list("kind", "subject", "occurred_at")),
        "tasks": sorted(Task.objects.values_list("title", "status", "due_at")),
        "events": sorted(
            Event.objects.exclude(subject_type__in=["user", "team", "pipeline", "tag"])
            # configuration and the demo flows are written at the real time, not back-dated
            .exclude(subject_type__in=["customfielddefinition", "flow", "flowversion"])
            .values_list("type", "occurred_at")
        ),
    }


def _delete_records() -> None:
    for model in (Task, Activity, Deal, Contact, Company):
        model.objects.all().delete()
    Event.objects.filter(
        subject_type__in=["contact", "company", "deal", "activity", "task"]
    ).delete()


def test_the_demo_creates_the_organisation_and_records_with_their_events() -> None:
    # when the demo is loaded at a tiny size
    summary = load_demo(**SIZE)
    # then the organisation is there: five teams, twenty users with the demo password
    assert Team.objects.count() == 5
    assert User.objects.count() == 20
    manager = User.objects.get(email=demo_email("Sophie Martin"))
    assert (manager.role, manager.check_password(DEMO_PASSWORD)) == ("manager", True)
    assert sorted(Pipeline.objects.values_list("name", flat=True)) == ["New business", "Renewals"]
    assert set(CustomFieldDefinition.objects.values_list("record_type", "key")) == {
        ("contact", "region"),
        ("company", "renewal_date"),
        ("company", "annual_revenue"),
        # defined by the demo flows (renewal reminder, discount approval)
        ("deal", "renewal_date"),
        ("deal", "discount_percent"),
    }
    # and the records, each with exactly one created/logged event
    assert (Company.objects.count(), Contact.objects.count(), Deal.objects.count()) == (12, 60, 25)
    assert summary.counts["contacts"] == 60
    for subject_type, event_type, model in (
        ("company", "company.created", Company),
        ("contact", "contact.created", Contact),
        ("deal", "deal.created", Deal),
        ("activity", "activity.logged", Activity),
        ("task", "task.created", Task),
    ):
        assert Event.objects.filter(type=event_type).count() == model.objects.count()
        assert set(
            Event.objects.filter(subject_type=subject_type).values_list("type", flat=True)
        ) <= {event_type, "deal.stage_changed"}
    # and deals carry 18 months of history: some won, some lost, the rest open
    assert set(Deal.objects.values_list("status", flat=True)) == {"open", "won", "lost"}
    changes = Event.objects.filter(type="deal.stage_changed")
    assert changes.count() > Deal.objects.exclude(status="open").count()
    oldest = Event.objects.filter(type="deal.created").order_by("occurred_at").first()
    assert oldest is not None and oldest.occurred_at >= NOW - dt.timedelta(days=540)
    assert (
        not Event.objects.filter(occurred_at__gt=NOW)
        .exclude(subject_type__in=["user", "team", "pipeline", "tag", "customfielddefinition"])
        .exclude(subject_type__in=["flow", "flowversion"])
        .exists()
    )


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not() -> None:
    # given the demo loaded once
    load_demo(**SIZE)
    first = _fingerprint()
    # when the records are removed and the demo is loaded again with the same seed
    _delete_records()
    load_demo(**SIZE)
    # then it is the same data
    assert _fingerprint() == first
    # and with another seed it is not
    _delete_records()
    load_demo(**{**SIZE, "seed": 8})
    assert _fingerprint()["contacts"] != first["contacts"]


def test_the_command_refuses_a_database_with_records_unless_forced() -> None:
    # given a database with a contact
    Contact.objects.create(last_name="Existing")
    # when the demo command runs, then it refuses and writes nothing
    with pytest.raises(CommandError, match="--force"):
        call_command("demo", "--contacts", "5", stdout=StringIO())
    assert Contact.objects.count() == 1
    # when forced, then it adds the demo records and prints the demo login
    out = StringIO()
    call_command(
        "demo", "--contacts", "5", "--companies", "2", "--deals", "3", "--force", stdout=out
    )
    assert Contact.objects.count() == 6
    assert Deal.objects.count() == 3
    assert DEMO_PASSWORD in out.getvalue()
