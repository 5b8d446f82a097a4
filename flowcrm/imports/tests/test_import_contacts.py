from __future__ import annotations

from flowcrm.contacts.models import Contact
from flowcrm.core.models import Event
from flowcrm.imports.models import ImportRowError


def test_importing_contacts_creates_records_and_one_event_each(write_csv, run_import):
    # given a CSV with three contacts, one of them repeated in another case and with spaces
    path = write_csv(
        [
            ["Email", "First name", "Last name", "Phone", "Country"],
            ["ada@example.com", "Ada", "Lovelace", "+44 20 7946 0018", "GB"],
            ["grace@example.com", "Grace", "Hopper", "", "US"],
            ["  ADA@example.com ", "Ada", "King", "", ""],
        ]
    )
    # when it is imported with create-update on e-mail
    job = run_import(path)
    # then two contacts exist, the repeated row updated the first, one event per record
    assert job.summary() == {
        "rows": 3, "created": 2, "updated": 1, "unchanged": 0, "skipped": 0, "errors": 0,
    }  # fmt: skip
    ada = Contact.objects.get(email="ada@example.com")
    assert (ada.first_name, ada.last_name, ada.phone, ada.country) == (
        "Ada", "King", "+442079460018", "GB",
    )  # fmt: skip
    events = list(Event.objects.order_by("id").values_list("type", "subject_id"))
    assert events == [("contact.created", ada.pk), ("contact.created", ada.pk + 1)]
    created = Event.objects.get(subject_id=ada.pk)
    assert created.changes["email"] == {"before": None, "after": "ada@example.com"}
    assert created.changes["last_name"] == {"before": None, "after": "King"}


import pytest  # noqa: E402

from flowcrm.contacts.models import Company  # noqa: E402
from flowcrm.core.actors import Actor  # noqa: E402
from flowcrm.core.models import CustomFieldDefinition  # noqa: E402
from flowcrm.imports import engine  # noqa: E402
from flowcrm.imports.mapping import ImportOptions  # noqa: E402
from flowcrm.imports.models import ImportChunk, ImportJob  # noqa: E402
from flowcrm.imports.services import (  # noqa: E402
    import_configure,
    import_dry_run,
    import_from_path,
    import_run,
)

HEADER = ["Email", "First name", "Last name", "Job title"]


def make_contact(**fields: object) -> Contact:
    return Contact.objects.create(**fields)


@pytest.mark.django_db
def test_a_dry_run_validates_every_row_and_writes_nothing(write_csv):
    path = write_csv(
        [
            HEADER,
            ["ada@example.com", "Ada", "Lovelace", "Countess"],
            ["not-an-email", "Grace", "Hopper", ""],
            ["ADA@example.com", "Ada", "King", ""],
        ]
    )
    job = import_from_path(
        record_type="contacts", path=path, preset=None, user=None, actor=Actor.system("t")
    )
    report = import_dry_run(job=job, options=ImportOptions.model_validate(job.options), user=None)
    assert (report.rows, report.would_create, report.would_update, report.errors) == (3, 1, 1, 1)
    assert report.error_rows == [
        {"line": 3, "errors": {"Email": "'not-an-email' is not a valid e-mail address."}}
    ]
    assert report.preview[0] == {
        "line": 2,
        "action": "created",
        "values": {
            "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
            "job_title": "Countess",
        },
        "errors": {},
    }  # fmt: skip
    assert Contact.objects.count() == 0
    assert Event.objects.count() == 0
    assert ImportChunk.objects.count() == 0


@pytest.mark.django_db
def test_create_only_skips_rows_that_match_an_existing_record(write_csv, run_import):
    make_contact(email="ada@example.com", first_name="Ada")
    path = write_csv(
        [HEADER, ["ada@example.com", "Augusta", "", ""], ["new@example.com", "N", "", ""]]
    )
    job = run_import(path, policy="create")
    assert (job.created_count, job.skipped_count, job.updated_count) == (1, 1, 0)
    assert Contact.objects.get(email="ada@example.com").first_name == "Ada"
    assert list(Event.objects.values_list("type", flat=True)) == ["contact.created"]


@pytest.mark.django_db
def test_update_only_never_creates(write_csv, run_import):
    ada = make_contact(email="ada@example.com", first_name="Ada")
    path = write_csv(
        [HEADER, ["ada@example.com", "Augusta", "", ""], ["new@example.com", "N", "", ""]]
    )
    job = run_import(path, policy="update")
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 1, 1)
    assert list(Contact.objects.values_list("email", "first_name")) == [
        ("ada@example.com", "Augusta")
    ]
    event = Event.objects.get()
    assert (event.type, event.subject_id) == ("contact.updated", ada.pk)
    assert event.changes == {"first_name": {"before": "Ada", "after": "Augusta"}}


@pytest.mark.django_db
def test_fill_empty_only_keeps_stored_values(write_csv, run_import):
    make_contact(email="ada@example.com", first_name="Ada", job_title="")
    path = write_csv([HEADER, ["ada@example.com", "Augusta", "King", "Countess"]])
    job = run_import(path, fill_empty=True)
    ada = Contact.objects.get()
    assert (ada.first_name, ada.last_name, ada.job_title) == ("Ada", "King", "Countess")
    assert job.updated_count == 1
    assert Event.objects.get().changes == {
        "last_name": {"before": "", "after": "King"},
        "job_title": {"before": "", "after": "Countess"},
    }


@pytest.mark.django_db
def test_running_the_same_file_again_changes_nothing(write_csv, run_import):
    path = write_csv(
        [HEADER, ["ada@example.com", "Ada", "Lovelace", ""], ["b@example.com", "B", "", ""]]
    )
    run_import(path)
    events_before = Event.objects.count()
    job = run_import(path)
    assert job.summary() == {
        "rows": 2, "created": 0, "updated": 0, "unchanged": 2, "skipped": 0, "errors": 0,
    }  # fmt: skip
    assert Event.objects.count() == events_before == 2
    assert Contact.objects.count() == 2


@pytest.mark.django_db
def test_a_failing_chunk_writes_nothing_and_a_rerun_completes_the_import(write_csv, monkeypatch):
    rows = [[f"user{i}@example.com", f"First{i}", f"Last{i}", ""] for i in range(10)]
    path = write_csv([HEADER, *rows])
    job = import_from_path(
        record_type="contacts", path=path, preset=None, user=None, actor=Actor.system("t")
    )
    job.chunk_size = 4
    job.save()
    import_configure(job=job, options=ImportOptions.model_validate(job.options))
    real_write = engine.ChunkProcessor._write
    calls = {"n": 0}

    def write_then_fail_on_second_chunk(self, creates, updates, now):
        calls["n"] += 1
        real_write(self, creates, updates, now)  # the rows are written, then the chunk fails
        if calls["n"] == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(engine.ChunkProcessor, "_write", write_then_fail_on_second_chunk)
    with pytest.raises(RuntimeError):
        import_run(job=job)
    job.refresh_from_db()
    assert (job.status, job.message, job.rows_done) == ("failed", "RuntimeError: disk full", 4)
    assert sorted(str(e) for e in Contact.objects.values_list("email", flat=True)) == [
        f"user{i}@example.com" for i in range(4)
    ]
    assert Event.objects.count() == 4
    assert list(ImportChunk.objects.values_list("number", flat=True)) == [0]

    monkeypatch.setattr(engine.ChunkProcessor, "_write", real_write)
    job = import_run(job=job)
    assert job.summary() == {
        "rows": 10, "created": 10, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 0,
    }  # fmt: skip
    assert job.status == "done"
    assert Contact.objects.count() == 10
    assert Event.objects.filter(type="contact.created").count() == 10
    assert list(ImportChunk.objects.values_list("number", flat=True)) == [0, 1, 2]
    # running a finished job again changes nothing
    import_run(job=ImportJob.objects.get(pk=job.pk))
    assert (Contact.objects.count(), Event.objects.count()) == (10, 10)


@pytest.mark.django_db
def test_a_unique_email_taken_by_another_record_is_a_row_error(write_csv, run_import):
    existing = make_contact(email="ada@example.com", external_id="A1")
    path = write_csv(
        [
            ["Id", "Email", "First name"],
            ["B2", "ada@example.com", "Other"],
            ["C3", "c@example.com", "C"],
        ]
    )
    job = run_import(path, match=["external_id"])
    assert (job.created_count, job.error_count) == (1, 1)
    assert ImportRowError.objects.get().message == (
        f"Email: 'ada@example.com' already belongs to record {existing.pk}; email must be unique."
    )


@pytest.mark.django_db
def test_matching_on_a_combination_including_a_unique_custom_field(write_csv, run_import):
    CustomFieldDefinition.objects.create(
        record_type="contact", key="member_no", label="Member no", field_type="text", is_unique=True
    )
    ada = make_contact(first_name="Ada", last_name="L", custom={"member_no": "M-1"})
    make_contact(first_name="Ada", last_name="L", custom={"member_no": "M-2"})
    path = write_csv([["Member no", "First name", "Job title"], ["M-1", "Ada", "Countess"]])
    job = run_import(path, match=["custom.member_no", "first_name"])
    assert job.updated_count == 1
    ada.refresh_from_db()
    assert ada.job_title == "Countess"


@pytest.mark.django_db
def test_several_matches_are_an_error_unless_merging_is_enabled(write_csv, run_import):
    older = make_contact(first_name="Ada", last_name="Lovelace", email="ada@old.example")
    newer = make_contact(first_name="Ada", last_name="Lovelace", email="ada@new.example")
    path = write_csv([["First name", "Last name", "Job title"], ["Ada", "Lovelace", "Countess"]])
    job = run_import(path, match=["first_name", "last_name"])
    assert job.error_count == 1
    assert "matches 2 existing records" in ImportRowError.objects.get().message

    job = run_import(path, match=["first_name", "last_name"], merge_matches=True)
    assert (job.updated_count, job.error_count) == (1, 0)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.merged_into_id == newer.pk
    assert newer.job_title == "Countess"
    assert list(Event.objects.values_list("type", flat=True)) == [
        "contact.merged",
        "contact.updated",
    ]


@pytest.mark.django_db
def test_relations_and_transforms_are_resolved(write_csv, run_import, make_user):
    owner = make_user(email="owner@example.com")
    acme = Company.objects.create(name="Acme", domain="acme.com")
    path = write_csv(
        [
            ["Full name", "Mail", "Company", "Owner", "Stage", "Region"],
            [
                "Lovelace, Ada",
                "ada@x.example",
                "acme.com",
                "OWNER@example.com",
                "Marketing qualified lead",
                "Germany",
            ],
            ["Grace Hopper", "grace@x.example", "Acme", "", "customer", "us"],
            ["Alan Turing", "alan@x.example", "Nope Inc", "", "", ""],
        ]
    )
    job = run_import(
        path,
        mapping={
            "Full name": {"target": "full_name"},
            "Mail": {"target": "email"},
            "Company": {"target": "company"},
            "Owner": {"target": "owner"},
            "Stage": {"target": "lifecycle_stage"},
            "Region": {"target": "country"},
        },
    )
    assert (job.created_count, job.error_count) == (2, 1)
    rows = list(
        Contact.objects.order_by("id").values_list(
            "first_name", "last_name", "company_id", "owner_id", "lifecycle_stage", "country"
        )
    )
    assert rows == [
        ("Ada", "Lovelace", acme.pk, owner.pk, "mql", "DE"),
        ("Grace", "Hopper", acme.pk, None, "customer", "US"),
    ]
    assert ImportRowError.objects.get().message == "Company: No company 'Nope Inc'."
