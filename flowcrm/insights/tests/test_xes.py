"""XES export, streaming import (plain and gzipped) and the `insights xes` command."""

# ruff: noqa: E501  # the literal XES fixture reads best with one event per line

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from flowcrm.core.models import Event
from flowcrm.insights.models import ImportedEvent, ImportedLog
from flowcrm.insights.process import analysis
from flowcrm.insights.process.filters import ProcessFilter
from flowcrm.insights.process.notions import get_case_notion, load_log
from flowcrm.insights.tests.process_logs import handmade_cases, write_cases
from flowcrm.insights.xes import XesError, log_to_xes, xes_to_log

SMALL_XES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xmlns="http://www.xes-standard.org/">
  <trace>
    <string key="concept:name" value="c1"/>
    <event><string key="concept:name" value="A"/><date key="time:timestamp" value="2026-01-01T00:00:00+00:00"/></event>
    <event><string key="concept:name" value="B"/><date key="time:timestamp" value="2026-01-01T01:00:00+00:00"/></event>
    <event><string key="concept:name" value="C"/><date key="time:timestamp" value="2026-01-01T04:00:00+00:00"/></event>
  </trace>
  <trace>
    <string key="concept:name" value="c2"/>
    <event><string key="concept:name" value="A"/><date key="time:timestamp" value="2026-01-02T00:00:00Z"/></event>
    <event><string key="concept:name" value="B"/><date key="time:timestamp" value="2026-01-02T03:00:00Z"/></event>
  </trace>
  <trace>
    <string key="concept:name" value="c3"/>
    <event><string key="concept:name" value="A"/><date key="time:timestamp" value="2026-01-03T00:00:00Z"/></event>
    <event><string key="concept:name" value="B"/><date key="time:timestamp" value="2026-01-03T02:00:00Z"/></event>
  </trace>
</log>
"""

EXPECTED_CLI = {
    "dfg": [
        {
            "source": "A",
            "target": "B",
            "count": 3,
            "mean_seconds": 7200.0,
            "median_seconds": 7200.0,
        },
        {
            "source": "B",
            "target": "C",
            "count": 1,
            "mean_seconds": 10800.0,
            "median_seconds": 10800.0,
        },
    ],
    "variants": [
        {"activities": ["A", "B"], "count": 2},
        {"activities": ["A", "B", "C"], "count": 1},
    ],
    "sojourn": {
        "A": {"mean_seconds": 7200.0, "median_seconds": 7200.0},
        "B": {"mean_seconds": 10800.0, "median_seconds": 10800.0},
    },
    "cases": 3,
    "events": 7,
}


@pytest.mark.parametrize("compressed", [False, True])
def test_cli_prints_the_analysis_of_a_file(tmp_path: Path, capsys: Any, compressed: bool) -> None:
    # given a plain or gzipped XES file
    path = tmp_path / ("log.xes.gz" if compressed else "log.xes")
    raw = SMALL_XES.encode()
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    # when
    call_command("insights", "xes", str(path), "--json")
    # then
    assert json.loads(capsys.readouterr().out) == EXPECTED_CLI


def test_cli_names_the_line_of_a_malformed_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.xes"
    path.write_text(SMALL_XES.replace("</trace>\n  <trace>", "</trace>\n  <trace", 1))
    with pytest.raises(CommandError, match=r"broken.xes: line 10: malformed XML"):
        call_command("insights", "xes", str(path), "--json")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("<html><body>hi</body></html>", 1, "not an XES document"),
        ("", 1, "malformed XML"),
        (
            SMALL_XES.replace('<date key="time:timestamp" value="2026-01-02T03:00:00Z"/>', ""),
            12,
            "no time:timestamp",
        ),
        (SMALL_XES.replace("2026-01-03T02:00:00Z", "soon"), 17, "is not a date"),
    ],
)
def test_reader_reports_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(XesError, match=message) as raised:
        xes_to_log(io.BytesIO(text.encode()))
    assert raised.value.line == line


@pytest.mark.django_db
def test_export_then_read_back_gives_the_same_analysis(admin_api: Any) -> None:
    # given a deal log in the database
    write_cases(handmade_cases())
    log = load_log(get_case_notion("deals"), ProcessFilter(), None)
    # when it is exported over the API and read back
    response = admin_api.get("insights/export/xes/deals")
    document = b"".join(response.streaming_content)
    back = xes_to_log(io.BytesIO(document))
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert [e.as_dict() for e in analysis.directly_follows(back)] == [
        e.as_dict() for e in analysis.directly_follows(log)
    ]
    assert analysis.variants(back).as_dict() == analysis.variants(log).as_dict()


def test_export_escapes_names() -> None:
    from flowcrm.insights.process.log import build_log

    log = build_log(["a&b"], ['say "hi" <now>'], [0.0])
    text = "".join(log_to_xes(log, "x"))
    assert 'value="a&amp;b"' in text
    back = xes_to_log(io.BytesIO(text.encode()))
    assert (back.case_labels, back.activity_names) == (("a&b",), ('say "hi" <now>',))


@pytest.mark.django_db
def test_upload_imports_the_log_and_it_is_analysed_the_same_way(admin_api: Any) -> None:
    # given a gzipped upload
    upload = SimpleUploadedFile("small.xes.gz", gzip.compress(SMALL_XES.encode()))
    # when
    response = admin_api.client.post("/api/v1/insights/logs", {"file": upload, "name": "Small"})
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["cases"], body["events"]) == ("Small", 3, 7)
    assert Event.objects.filter(type="imported_log.created", subject_id=body["id"]).count() == 1
    view = admin_api.get("insights/process/imported", {"log": body["id"]}).json()
    assert [(e["source"], e["target"], e["count"]) for e in view["dfg"]] == [
        ("A", "B", 3),
        ("B", "C", 1),
    ]


@pytest.mark.django_db
def test_a_malformed_upload_imports_nothing(admin_api: Any) -> None:
    broken = SMALL_XES.replace("2026-01-03T02:00:00Z", "soon")
    upload = SimpleUploadedFile("broken.xes", broken.encode())
    response = admin_api.client.post("/api/v1/insights/logs", {"file": upload})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "file", "message": "line 17: time:timestamp 'soon' is not a date"}
    ]
    assert ImportedLog.objects.count() == 0
    assert ImportedEvent.objects.count() == 0
    assert not Event.objects.filter(type="imported_log.created").exists()


@pytest.mark.django_db
def test_imported_log_page_and_list(admin_user: Any, django_assert_num_queries: Any) -> None:
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    upload = SimpleUploadedFile("small.xes", SMALL_XES.encode())
    response = client.post("/insights/logs/", {"file": upload, "name": "Small"})
    assert response.status_code == 302
    with django_assert_num_queries(3):
        listing = client.get("/insights/logs/")
    assert "Small" in listing.content.decode()
    page = client.get(response["Location"]).content.decode()
    assert "A → B" in page and "3 cases, 7 events." in page
