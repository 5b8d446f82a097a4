from __future__ import annotations

from flowcrm.contacts.models import Contact
from flowcrm.core.models import Event


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
