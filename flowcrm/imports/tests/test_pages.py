"""The import, progress and duplicates pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from flowcrm.accounts.models import Role
from flowcrm.contacts.models import Contact
from flowcrm.core.models import Event
from flowcrm.imports.models import ImportJob
from flowcrm.imports.tasks import run_queued_imports

CSV = b"Email,First Name,Last Name\r\nada@example.com,Ada,Lovelace\r\nbad,Grace,Hopper\r\n"


@pytest.fixture
def browser(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def upload(client: Client) -> ImportJob:
    response = client.post(
        "/imports/", {"file": SimpleUploadedFile("c.csv", CSV), "record_type": "contacts"}
    )
    assert response.status_code == 302
    return ImportJob.objects.order_by("-id").first()  # type: ignore[return-value]  # just created


MAPPING = {
    "target_0": "email",
    "target_1": "first_name",
    "target_2": "last_name",
    "match": "email",
    "policy": "create-update",
}


@pytest.mark.django_db
def test_upload_map_dry_run_start_and_watch_progress(browser):
    job = upload(browser)
    page = browser.get(f"/imports/{job.pk}/")
    assert page.status_code == 200
    assert b'<option value="email" selected>' in page.content

    dry = browser.post(
        f"/imports/{job.pk}/", {**MAPPING, "action": "dry_run"}, HTTP_HX_REQUEST="true"
    )
    html = dry.content.decode()
    assert "Dry run: nothing was written" in html
    assert "would create <strong>1</strong>" in html
    assert "&#x27;bad&#x27; is not a valid e-mail address." in html
    assert Contact.objects.count() == 0

    started = browser.post(f"/imports/{job.pk}/", {**MAPPING, "action": "start"})
    assert started.status_code == 302
    progress = browser.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in progress  # queued: the fragment keeps polling
    assert "does not trigger flows" in progress

    run_queued_imports()
    progress = browser.get(f"/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' not in progress
    assert '<strong data-testid="rows-done">2</strong> of 2 rows' in progress
    assert f"/api/v1/imports/{job.pk}/errors.csv" in progress
    assert Event.objects.filter(type="contact.created").count() == 1


@pytest.mark.django_db
def test_bad_mapping_is_shown_on_the_form(browser):
    job = upload(browser)
    response = browser.post(
        f"/imports/{job.pk}/", {"target_0": "ignore", "match": "email", "action": "dry_run"}
    )
    assert "Match key &#x27;email&#x27; is not mapped from any column." in response.content.decode()


@pytest.mark.django_db
def test_an_unreadable_upload_is_reported_on_the_page(browser):
    response = browser.post(
        "/imports/",
        {"file": SimpleUploadedFile("x.csv", b"\x00\x01\x02"), "record_type": "contacts"},
        follow=True,
    )
    assert "This is not a CSV file" in response.content.decode()
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_import_list_page_query_count(browser, django_assert_num_queries):
    for _ in range(3):
        upload(browser)
    with django_assert_num_queries(3):  # session, user, jobs
        response = browser.get("/imports/")
    assert response.content.decode().count("/imports/") >= 3


@pytest.mark.django_db
def test_duplicates_page_and_merge(browser, django_assert_num_queries):
    a = Contact.objects.create(email="ada@example.com ", first_name="Ada")
    b = Contact.objects.create(email="ADA@example.com", first_name="Ada")
    with django_assert_num_queries(7):  # session, user, e-mail keys+members, phones, names, rows
        page = browser.get("/imports/duplicates/contacts/")
    assert "same e-mail: ada@example.com" in page.content.decode()
    response = browser.post(
        "/imports/merge/contact/", {"ids": [a.pk, b.pk], "survivor_id": a.pk}, follow=True
    )
    assert f"Merged 1 record(s) into #{a.pk}." in response.content.decode()
    assert Contact.objects.get(pk=b.pk).merged_into_id == a.pk


@pytest.mark.django_db
def test_read_only_users_cannot_merge_from_the_page(make_user):
    reader = make_user(role=Role.READ_ONLY)
    client = Client()
    client.force_login(reader)
    a = Contact.objects.create(email="a@example.com")
    b = Contact.objects.create(email="b@example.com")
    response = client.post("/imports/merge/contact/", {"ids": [a.pk, b.pk]}, follow=True)
    assert "Your role is read-only." in response.content.decode()
    assert Contact.objects.filter(merged_into__isnull=False).count() == 0
    assert client.post("/imports/merge/deal/", {"ids": [a.pk]}).status_code == 404
