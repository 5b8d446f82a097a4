"""Bad and unusual files: every problem is named with its line or column; nothing is kept."""

from __future__ import annotations

import codecs
from pathlib import Path

import openpyxl
import pytest

from flowcrm.contacts.models import Contact
from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event
from flowcrm.imports.models import ImportJob, ImportRowError
from flowcrm.imports.services import import_from_path, import_upload


def upload(path: Path) -> ImportJob:
    return import_from_path(
        record_type="contacts", path=path, preset=None, user=None, actor=Actor.system("t")
    )


def rejected(path: Path) -> str:
    with pytest.raises(ValidationFailed) as caught:
        upload(path)
    assert ImportJob.objects.count() == 0
    return caught.value.errors["file"]


@pytest.mark.django_db
def test_a_binary_file_is_not_a_csv(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert rejected(path) == (
        "This is not a CSV file: it contains binary data. Upload a .csv or .xlsx file."
    )


@pytest.mark.django_db
def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("\n\n")
    assert rejected(path) == "The file is empty: expected a header row and data rows."


@pytest.mark.django_db
def test_a_file_without_header_row_is_refused(write_csv):
    path = write_csv([["ada@example.com", "Ada"], ["grace@example.com", "Grace"]])
    assert rejected(path) == (
        "The file has no header row: line 1 holds data ('ada@example.com' in column 1)"
        " where column names are expected."
    )


@pytest.mark.django_db
def test_duplicate_header_names_are_refused(write_csv):
    path = write_csv([["Email", "Name", "email"], ["a@example.com", "A", "b@example.com"]])
    assert rejected(path) == (
        "Duplicate column name 'email' in the header: columns 1 and 3. Rename one of them."
    )


@pytest.mark.django_db
def test_an_empty_header_cell_is_refused(write_csv):
    path = write_csv([["Email", "", "Name"], ["a@example.com", "x", "A"]])
    assert rejected(path) == "Column 2 has no name in the header (line 1)."


@pytest.mark.django_db
def test_an_upload_over_the_limit_is_refused_and_not_kept(write_csv, settings, tmp_path):
    settings.FLOWCRM_MAX_UPLOAD_BYTES = 100
    path = write_csv([["Email"], *[[f"user{i}@example.com"] for i in range(20)]])
    assert rejected(path).startswith("The file is 0.0 MB; the limit is 0 MB")
    # a stream of unknown length is cut off while being stored, and the partial file removed
    with path.open("rb") as source, pytest.raises(ValidationFailed) as caught:
        import_upload(
            record_type="contacts", source=source, original_name="big.csv", size=None,
            user=None, actor=Actor.system("t"),
        )  # fmt: skip
    assert caught.value.errors["file"].endswith("(FLOWCRM_MAX_UPLOAD_BYTES).")
    assert list((tmp_path / "media" / "imports").iterdir()) == []
    assert ImportJob.objects.count() == 0


@pytest.mark.django_db
def test_a_row_with_the_wrong_number_of_fields_is_reported_with_its_line(write_csv, run_import):
    path = write_csv(
        [
            ["Email", "First name"],
            ["ada@example.com", "Ada"],
            ["grace@example.com", "Grace", "extra"],
            ["alan@example.com", "Alan"],
        ]
    )
    job = run_import(path)
    assert (job.created_count, job.error_count) == (2, 1)
    error = ImportRowError.objects.get()
    assert (error.line, error.message) == (3, "(row): line 3 has 3 fields, the header has 2.")
    assert error.cells == ["grace@example.com", "Grace", "extra"]


@pytest.mark.django_db
def test_formulas_in_text_cells_are_rejected_per_row(write_csv, run_import):
    path = write_csv(
        [
            ["Email", "First name", "Job title"],
            ["ada@example.com", '=HYPERLINK("http://evil")', "CEO"],
            ["grace@example.com", "Grace", "@SUM(A1)"],
            ["alan@example.com", "Alan", "-5 years"],
        ]
    )
    job = run_import(path)
    assert (job.created_count, job.error_count) == (1, 2)
    messages = list(ImportRowError.objects.order_by("line").values_list("line", "message"))
    assert messages == [
        (
            2,
            "First name: looks like a spreadsheet formula ('=HYPERLINK(\"http://evil\")');"
            " formulas are not imported. Remove the leading '=' or quote the text in the"
            " source file.",
        ),
        (
            3,
            "Job title: looks like a spreadsheet formula ('@SUM(A1)'); formulas are not"
            " imported. Remove the leading '@' or quote the text in the source file.",
        ),
    ]
    assert list(Contact.objects.values_list("email", "job_title")) == [
        ("alan@example.com", "-5 years")
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("encoding", "delimiter", "expected"),
    [
        ("utf-8-sig", ",", "utf-8-sig"),
        ("utf-8", ";", "utf-8"),
        ("cp1252", "\t", "cp1252"),
    ],
)
def test_encodings_and_delimiters_are_detected(write_csv, encoding, delimiter, expected):
    path = write_csv(
        [["E-mail", "Vorname", "Nachname"], ["jürgen@example.de", "Jürgen", "Müller-Lüdenscheidt"]]
        * 1,
        encoding=encoding,
        delimiter=delimiter,
    )
    with path.open("ab") as handle:  # more rows, so detection has something to look at
        for i in range(30):
            line = delimiter.join([f"user{i}@example.de", "Zoë", "Straße"]) + "\r\n"
            handle.write(line.encode(encoding.replace("-sig", "")))
    job = upload(path)
    assert job.file_info["encoding"] == expected
    assert job.file_info["delimiter"] == delimiter
    assert job.file_info["headers"] == ["E-mail", "Vorname", "Nachname"]
    assert job.total_rows == 31
    assert job.options["mapping"]["E-mail"]["target"] == "email"


@pytest.mark.django_db
def test_utf8_bom_is_not_part_of_the_first_column_name(tmp_path, run_import):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + "Email,Name\r\nzoë@example.com,Zoë Ünal\r\n".encode())
    job = run_import(path)
    assert job.file_info["headers"] == ["Email", "Name"]
    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.last_name) == (
        "zoë@example.com",
        "Zoë",
        "Ünal",
    )


@pytest.mark.django_db
def test_xlsx_workbooks_are_read(tmp_path, run_import):
    path = tmp_path / "contacts.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Email", "First Name", "Last Name", "Score"])
    sheet.append(["ada@example.com", "Ada", "Lovelace", 12])
    workbook.save(path)
    job = run_import(path)
    assert job.file_info["format"] == "xlsx"
    assert list(Contact.objects.values_list("email", "last_name", "score")) == [
        ("ada@example.com", "Lovelace", 12)
    ]
    assert Event.objects.filter(type="contact.created").count() == 1
