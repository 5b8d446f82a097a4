"""``flowcrm import`` and ``flowcrm export`` on the command line."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from flowcrm.contacts.models import Company, Contact
from flowcrm.core.models import Event


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_import_prints_a_json_summary_and_writes_the_error_report(write_csv, tmp_path):
    path = write_csv(
        [["Email", "First Name"], ["ada@example.com", "Ada"], ["nope", "Grace"]], name="people.csv"
    )
    summary = json.loads(run("import", "contacts", str(path), "--json"))
    report = tmp_path / "people.errors.csv"
    assert summary == {
        "rows": 2, "created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 1,
        "error_report": str(report), "job_id": summary["job_id"],
    }  # fmt: skip
    assert report.read_text().splitlines() == [
        "Email,First Name,line,error",
        "nope,Grace,3,Email: 'nope' is not a valid e-mail address.",
    ]
    assert Event.objects.filter(type="contact.created").count() == 1


@pytest.mark.django_db
def test_dry_run_on_the_command_line_writes_nothing(write_csv):
    path = write_csv([["Email", "First Name"], ["ada@example.com", "Ada"]])
    summary = json.loads(run("import", "contacts", str(path), "--dry-run", "--json"))
    assert (summary["dry_run"], summary["created"], summary["errors"]) == (True, 1, 0)
    assert (Contact.objects.count(), Event.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_match_policy_and_fill_empty_options(write_csv):
    Contact.objects.create(email="ada@example.com", external_id="H1", first_name="Ada")
    path = write_csv([["Record ID", "First Name", "Job Title"], ["H1", "Augusta", "Countess"]])
    summary = json.loads(
        run(
            "import",
            "contacts",
            str(path),
            "--preset",
            "hubspot",
            "--match",
            "external_id",
            "--policy",
            "update",
            "--fill-empty",
            "--json",
        )
    )
    assert (summary["updated"], summary["errors"]) == (1, 0)
    assert list(Contact.objects.values_list("first_name", "job_title")) == [("Ada", "Countess")]


@pytest.mark.django_db
def test_import_of_companies_and_a_missing_file(write_csv, tmp_path):
    path = write_csv([["Company name", "Website URL"], ["Acme", "https://www.acme.com/about"]])
    summary = json.loads(run("import", "companies", str(path), "--preset", "hubspot", "--json"))
    assert summary["created"] == 1
    assert list(Company.objects.values_list("name", "domain")) == [("Acme", "acme.com")]
    with pytest.raises(CommandError, match="No file"):
        run("import", "companies", str(tmp_path / "missing.csv"))


@pytest.mark.django_db
def test_a_file_problem_is_a_command_error_naming_it(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("Email,email\na@example.com,b@example.com\n")
    with pytest.raises(CommandError, match="Duplicate column name 'email'"):
        run("import", "contacts", str(path))


@pytest.mark.django_db
def test_export_writes_escaped_csv(admin_user, tmp_path):
    Contact.objects.create(email="ada@example.com", first_name="=cmd|' /C calc'!A0")
    target = tmp_path / "out.csv"
    run("export", "contacts", "--output", str(target), "--filter", "q=ada")
    lines = target.read_text().splitlines()
    assert lines[0].startswith("id,first_name,last_name,email")
    assert lines[1].split(",")[1] == "'=cmd|' /C calc'!A0"
