"""The imports API: upload, options, dry run, background run, progress and error report."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from flowcrm.accounts.models import Role
from flowcrm.contacts.models import Contact
from flowcrm.core.models import Event
from flowcrm.imports.models import ImportJob
from flowcrm.imports.tasks import run_queued_imports

CSV = (
    b"Email,First Name,Last Name,Lifecycle Stage\r\n"
    b"ada@example.com,Ada,Lovelace,lead\r\n"
    b"bad-email,Grace,Hopper,lead\r\n"
    b"alan@example.com,Alan,Turing,wizard\r\n"
    b"edsger@example.com,Edsger,Dijkstra,customer\r\n"
)


def upload(api: Any, content: bytes = CSV, name: str = "contacts.csv", **fields: str) -> Any:
    return api.client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile(name, content), "record_type": "contacts", **fields},
    )


@pytest.mark.django_db
def test_upload_suggests_a_mapping_from_the_header(admin_api):
    response = upload(admin_api)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["total_rows"], body["triggers_flows"]) == ("uploaded", 4, False)
    assert {k: v["target"] for k, v in body["options"]["mapping"].items()} == {
        "Email": "email",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Lifecycle Stage": "lifecycle_stage",
    }
    assert body["options"]["match"] == ["email"]


@pytest.mark.django_db
def test_the_hubspot_preset_maps_hubspot_column_names(admin_api):
    content = b"Record ID,First Name,Email,Phone Number,Contact owner\r\n1,Ada,a@example.com,,\r\n"
    body = upload(admin_api, content, preset="hubspot").json()
    assert {k: v["target"] for k, v in body["options"]["mapping"].items()} == {
        "Record ID": "external_id",
        "First Name": "first_name",
        "Email": "email",
        "Phone Number": "phone",
        "Contact owner": "owner",
    }


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused_before_reading_it(admin_api, settings):
    settings.FLOWCRM_MAX_UPLOAD_BYTES = 50
    response = upload(admin_api)
    assert response.status_code == 413
    assert response.json()["title"] == "Payload too large"
    assert "FLOWCRM_MAX_UPLOAD_BYTES" in response.json()["detail"]
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_a_non_csv_upload_is_a_422_naming_the_file(admin_api):
    response = upload(admin_api, b"%PDF-1.4\x00\x01\x02binary", name="x.pdf")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "file",
            "message": "This is not a CSV file: it contains binary data."
            " Upload a .csv or .xlsx file.",
        }
    ]


@pytest.mark.django_db
def test_read_only_users_cannot_import(api_for, make_user):
    response = upload(api_for(make_user(role=Role.READ_ONLY)))
    assert response.status_code == 403
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_bad_options_name_the_field(admin_api):
    job_id = upload(admin_api).json()["id"]
    response = admin_api.put(
        f"imports/{job_id}/options",
        {
            "mapping": {"Email": {"target": "nonsense"}},
            "match": ["email"],
            "policy": "create-update",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "mapping.Email", "message": "Unknown target 'nonsense' for contact imports."},
        {"field": "match", "message": "Match key 'email' is not mapped from any column."},
    ]


@pytest.mark.django_db
def test_dry_run_then_background_run_with_progress_and_error_report(admin_api):
    job_id = upload(admin_api).json()["id"]
    dry = admin_api.post(f"imports/{job_id}/dry-run", {}).json()
    assert (dry["would_create"], dry["errors"]) == (2, 2)
    assert dry["error_rows"] == [
        {"line": 3, "errors": {"Email": "'bad-email' is not a valid e-mail address."}},
        {
            "line": 4,
            "errors": {
                "Lifecycle Stage": "'wizard' is not one of subscriber, lead, mql, sql,"
                " opportunity, customer, evangelist, other."
            },
        },
    ]
    assert (Contact.objects.count(), Event.objects.filter(subject_type="contact").count()) == (0, 0)

    started = admin_api.post(f"imports/{job_id}/start", {})
    assert started.status_code == 202
    assert started.json()["status"] == "queued"
    assert run_queued_imports() == 1  # what the worker loop does on its next turn
    assert run_queued_imports() == 0

    body = admin_api.get(f"imports/{job_id}").json()
    assert (body["status"], body["rows_done"], body["created"], body["errors"]) == ("done", 4, 2, 2)
    assert body["error_report_url"] == f"/api/v1/imports/{job_id}/errors.csv"
    assert Event.objects.filter(type="contact.created").count() == 2

    report = admin_api.get(body["error_report_url"])
    assert report["Content-Type"] == "text/csv; charset=utf-8"
    lines = b"".join(report.streaming_content).decode().splitlines()
    assert lines == [
        "Email,First Name,Last Name,Lifecycle Stage,line,error",
        "bad-email,Grace,Hopper,lead,3,Email: 'bad-email' is not a valid e-mail address.",
        "alan@example.com,Alan,Turing,wizard,4,\"Lifecycle Stage: 'wizard' is not one of"
        ' subscriber, lead, mql, sql, opportunity, customer, evangelist, other."',
    ]


@pytest.mark.django_db
def test_starting_twice_is_a_conflict(admin_api):
    job_id = upload(admin_api).json()["id"]
    assert admin_api.post(f"imports/{job_id}/start", {}).status_code == 202
    response = admin_api.post(f"imports/{job_id}/start", {})
    assert response.status_code == 409


@pytest.mark.django_db
def test_other_users_imports_are_not_visible(api_for, make_user, admin_api):
    job_id = upload(admin_api).json()["id"]
    rep = api_for(make_user(role=Role.SALES_REP))
    assert rep.get(f"imports/{job_id}").status_code == 404
    assert rep.get("imports").json() == []


@pytest.mark.django_db
def test_listing_imports_costs_a_fixed_number_of_queries(admin_api, django_assert_num_queries):
    for _ in range(3):
        upload(admin_api)
    with django_assert_num_queries(2):  # the token (with its user) + the jobs
        response = admin_api.get("imports")
    assert len(response.json()) == 3


@pytest.mark.django_db
def test_saved_mappings_round_trip(admin_api):
    options = {"mapping": {"Mail": {"target": "email"}}, "match": ["email"], "policy": "create"}
    response = admin_api.post(
        "imports/presets", {"name": "Webinar list", "record_type": "contacts", "options": options}
    )
    assert response.status_code == 201
    listed = admin_api.get("imports/presets", {"record_type": "contacts"}).json()
    assert [p["name"] for p in listed] == ["Webinar list"]
    assert listed[0]["options"]["mapping"]["Mail"]["target"] == "email"
    assert listed[0]["options"]["policy"] == "create"


@pytest.mark.django_db
def test_session_users_can_use_the_api(admin_user):
    client = Client()
    client.force_login(admin_user)
    assert client.get("/api/v1/imports").status_code == 200
