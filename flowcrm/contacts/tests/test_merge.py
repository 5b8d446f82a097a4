"""Merging contacts and companies: surviving values, re-linking, tombstones, one event."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from flowcrm.accounts.models import Role
from flowcrm.activities.models import Activity, Task
from flowcrm.contacts.merge import merge_records, register_relink_hook, resolve_merged
from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event
from flowcrm.sales.models import Deal, Pipeline, Stage


def at(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


@pytest.fixture
def duplicates(db):
    vip, news = Tag.objects.create(name="vip"), Tag.objects.create(name="news")
    old = Contact.objects.create(
        email="ada@old.example", first_name="Ada", last_name="Lovelace", phone="+441111",
        job_title="Analyst", custom={"tier": "gold"}, updated_at=at(10),
    )  # fmt: skip
    new = Contact.objects.create(
        email="ada@new.example", first_name="Ada", last_name="King", phone="", job_title="",
        updated_at=at(1),
    )  # fmt: skip
    old.tags.add(vip, news)
    new.tags.add(vip)
    pipeline = Pipeline.objects.create(name="Sales")
    stage = Stage.objects.create(pipeline=pipeline, name="Lead in")
    deal = Deal.objects.create(title="D", pipeline=pipeline, stage=stage)
    deal.contacts.add(old, new)
    Activity.objects.create(kind="call", contact=old)
    Task.objects.create(title="Call back", contact=old)
    return old, new, deal


def test_merge_keeps_the_most_recent_non_empty_values_and_relinks(duplicates, system_actor):
    old, new, deal = duplicates
    merged = merge_records(record_type="contact", ids=[old.pk, new.pk], actor=system_actor)
    assert merged.pk == new.pk  # the most recently updated survives by default
    survivor = Contact.objects.get(pk=merged.pk)
    assert (survivor.email, survivor.last_name, survivor.phone, survivor.job_title) == (
        "ada@new.example", "King", "+441111", "Analyst",
    )  # fmt: skip
    assert survivor.custom == {"tier": "gold"}
    assert survivor.extra_emails == ["ada@old.example"]
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["news", "vip"]
    assert list(deal.contacts.values_list("id", flat=True)) == [new.pk]
    assert Activity.objects.get().contact_id == new.pk
    assert Task.objects.get().contact_id == new.pk
    old.refresh_from_db()
    assert old.merged_into_id == new.pk
    assert resolve_merged(Contact, old.pk) == new.pk
    assert resolve_merged(Contact, new.pk) is None


def test_merge_is_one_event_with_the_full_before_state(duplicates, system_actor):
    old, new, _ = duplicates
    merge_records(record_type="contact", ids=[old.pk, new.pk], actor=system_actor)
    event = Event.objects.get()
    assert (event.type, event.subject_id) == ("contact.merged", new.pk)
    assert event.data["merged_ids"] == [old.pk]
    assert event.data["before"][str(old.pk)]["email"] == "ada@old.example"
    assert event.data["before"][str(old.pk)]["tags"] == ["news", "vip"]
    assert event.data["before"][str(new.pk)]["last_name"] == "King"
    assert event.data["relinked"] == {
        "activities": 1, "activity_participants": 0, "tasks": 1, "deals": 0, "tags": 1,
    }  # fmt: skip
    assert event.changes["phone"] == {"before": "", "after": "+441111"}


def test_field_choices_override_the_default(duplicates, system_actor):
    old, new, _ = duplicates
    merge_records(
        record_type="contact",
        ids=[old.pk, new.pk],
        survivor_id=new.pk,
        field_sources={"email": old.pk, "last_name": old.pk},
        actor=system_actor,
    )
    new.refresh_from_db()
    assert (new.email, new.last_name, new.extra_emails) == (
        "ada@old.example", "Lovelace", [],
    )  # fmt: skip


def test_invalid_merges_change_nothing(duplicates, system_actor):
    old, new, _ = duplicates
    with pytest.raises(ValidationFailed) as caught:
        merge_records(
            record_type="contact", ids=[old.pk, new.pk], field_sources={"password": old.pk},
            actor=system_actor,
        )  # fmt: skip
    assert list(caught.value.errors) == ["fields.password"]
    with pytest.raises(ValidationFailed):
        merge_records(record_type="contact", ids=[old.pk, old.pk], actor=system_actor)
    assert Event.objects.count() == 0
    assert Contact.objects.filter(merged_into__isnull=False).count() == 0


def test_tombstone_chains_point_at_the_final_survivor(db, system_actor):
    a, b, c = (Contact.objects.create(first_name=n) for n in "abc")
    merge_records(record_type="contact", ids=[a.pk, b.pk], survivor_id=b.pk, actor=system_actor)
    merge_records(record_type="contact", ids=[b.pk, c.pk], survivor_id=c.pk, actor=system_actor)
    assert resolve_merged(Contact, a.pk) == c.pk
    assert Contact.objects.get(pk=a.pk).merged_into_id == c.pk


def test_relink_hooks_run_in_the_merge(db, system_actor):
    calls = []

    def hook(record_type: str, survivor_id: int, merged: list[int]) -> int:
        calls.append((record_type, survivor_id, merged))
        return 7

    register_relink_hook("flow_runs", hook)
    a, b = Contact.objects.create(first_name="a"), Contact.objects.create(first_name="b")
    merge_records(record_type="contact", ids=[a.pk, b.pk], survivor_id=b.pk, actor=system_actor)
    from flowcrm.contacts import merge

    merge._relink_hooks.pop("flow_runs")
    assert calls == [("contact", b.pk, [a.pk])]
    assert Event.objects.get().data["relinked"]["flow_runs"] == 7


def test_company_merge_relinks_contacts_and_deals(db, system_actor):
    a = Company.objects.create(name="Acme", domain="acme.com", updated_at=at(5))
    b = Company.objects.create(name="ACME Inc", domain="", industry="Tools", updated_at=at(1))
    person = Contact.objects.create(first_name="P", company=a)
    merged = merge_records(record_type="company", ids=[a.pk, b.pk], actor=Actor.system())
    survivor = Company.objects.get(pk=merged.pk)
    assert (survivor.pk, survivor.name, survivor.domain, survivor.industry) == (
        b.pk, "ACME Inc", "acme.com", "Tools",
    )  # fmt: skip
    person.refresh_from_db()
    assert person.company_id == b.pk
    assert Event.objects.get().type == "company.merged"


def test_merge_api_and_tombstone_lookup(duplicates, admin_api):
    old, new, _ = duplicates
    response = admin_api.post("contacts/merge", {"ids": [old.pk, new.pk]})
    assert response.status_code == 200
    assert response.json() == {"id": new.pk, "merged_ids": [old.pk]}
    assert admin_api.get(f"contacts/merged/{old.pk}").json() == {
        "id": old.pk, "merged_into": new.pk,
    }  # fmt: skip
    again = admin_api.post("contacts/merge", {"ids": [old.pk, new.pk]})
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "ids"


def test_merge_api_needs_write_access_and_visibility(duplicates, api_for, make_user):
    old, new, _ = duplicates
    reader = api_for(make_user(role=Role.READ_ONLY))
    assert reader.post("contacts/merge", {"ids": [old.pk, new.pk]}).status_code == 403
    stranger = make_user(role=Role.SALES_REP)
    Contact.objects.filter(pk=old.pk).update(owner=make_user(role=Role.SALES_REP))
    assert api_for(stranger).post("contacts/merge", {"ids": [old.pk, new.pk]}).status_code == 404
    assert api_for(stranger).post("contacts/merge", {"ids": [new.pk]}).status_code == 422
    assert Event.objects.filter(type="contact.merged").count() == 0
