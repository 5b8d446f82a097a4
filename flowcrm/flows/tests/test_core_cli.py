"""``flowcrm flows validate|check|export|apply`` and the publish-time checks over stored flows."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from flowcrm.core.actors import Actor
from flowcrm.core.errors import ValidationFailed
from flowcrm.flows.checks import check_all_flows
from flowcrm.flows.models import Flow, FlowVersion
from flowcrm.flows.services import flow_create, flow_publish


def setter(name: str, trigger: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    return {
        "name": name,
        "trigger": trigger,
        "nodes": [
            {
                "id": "set_field",
                "kind": "action",
                "action": "update_record",
                "config": {"fields": {field: value}},
            },
            {"id": "done", "kind": "end"},
        ],
        "edges": [{"from": "set_field", "to": "done"}],
    }


CREATED = {"type": "record_event", "event": "contact.created"}


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("flows", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_validate_reports_each_bad_file_with_its_json_paths(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(setter("Qualify", CREATED, "lead_status", "qualified")))
    bad = tmp_path / "bad.json"
    broken = setter("Broken", CREATED, "lead_status", "x")
    broken["nodes"][0]["config"]["colour"] = "red"
    broken["edges"].append({"from": "done", "to": "nowhere"})
    bad.write_text(json.dumps(broken))

    with pytest.raises(CommandError, match="1 of 2 file"):
        call_command(
            "flows", "validate", str(good), str(bad), stdout=StringIO(), stderr=(err := StringIO())
        )

    assert err.getvalue().splitlines() == [
        f"{bad}: edges[1].label: end node 'done' has no outgoing edges",
        f"{bad}: edges[1].to: unknown node 'nowhere'",
        f"{bad}: nodes[0].config: unknown field 'colour'",
    ]


@pytest.mark.django_db
def test_publishing_a_flow_that_fights_an_active_flow_over_a_field_is_refused(
    system_actor: Actor,
) -> None:
    first = flow_create(
        name="Qualify",
        draft=setter("Qualify", CREATED, "lead_status", "qualified"),
        actor=system_actor,
    )
    flow_publish(flow=first, actor=system_actor, activate=True)
    second = flow_create(
        name="Disqualify",
        draft=setter("Disqualify", CREATED, "lead_status", "unqualified"),
        actor=system_actor,
    )

    with pytest.raises(ValidationFailed) as refused:
        flow_publish(flow=second, actor=system_actor, activate=True)

    assert refused.value.errors == {
        "definition": "flows 'Disqualify', 'Qualify' all write contact.lead_status on the same "
        "trigger (Disqualify.set_field, Qualify.set_field)"
    }
    assert not FlowVersion.objects.filter(flow=second).exists()


@pytest.mark.django_db
def test_check_names_a_cascade_between_an_active_flow_and_a_draft(system_actor: Actor) -> None:
    rescore = setter(
        "Rescore", {**CREATED, "event": "contact.updated", "field": "lead_status"}, "score", 10
    )
    requalify = setter(
        "Requalify", {**CREATED, "event": "contact.updated", "field": "score"}, "lead_status", "new"
    )
    flow_publish(
        flow=flow_create(name="Rescore", draft=rescore, actor=system_actor),
        actor=system_actor,
        activate=True,
    )
    flow_create(name="Requalify", draft=requalify, actor=system_actor)

    findings = check_all_flows()

    assert [(f.code, f.flows, f.nodes) for f in findings] == [
        ("cascade", ["Requalify", "Rescore"], ["Requalify.set_field", "Rescore.set_field"])
    ]
    with pytest.raises(CommandError, match="1 error"):
        run("check")


@pytest.mark.django_db
def test_export_then_apply_round_trips_and_reports_what_changed(
    tmp_path: Path, system_actor: Actor
) -> None:
    flow_create(
        name="Qualify",
        draft=setter("Qualify", CREATED, "lead_status", "qualified"),
        actor=system_actor,
    )
    run("export", str(tmp_path))
    exported = tmp_path / "qualify.yaml"
    assert yaml.safe_load(exported.read_text())["name"] == "Qualify"

    out, _ = run("apply", str(tmp_path))
    assert out.splitlines()[-1] == "0 created, 0 updated, 1 unchanged"

    changed = yaml.safe_load(exported.read_text())
    changed["nodes"][0]["config"]["fields"]["lead_status"] = "nurture"
    exported.write_text(yaml.safe_dump(changed))
    (tmp_path / "tagger.yaml").write_text(
        yaml.safe_dump(setter("Tagger", CREATED, "source", "web"))
    )

    out, _ = run("apply", str(tmp_path), "--publish")

    assert out.splitlines() == [
        "created: Tagger",
        "updated: Qualify",
        "published: Qualify",
        "published: Tagger",
        "1 created, 1 updated, 0 unchanged",
    ]
    assert Flow.objects.get(name="Qualify").draft["nodes"][0]["config"]["fields"] == {
        "lead_status": "nurture"
    }
    assert run("apply", str(tmp_path))[0].splitlines()[-1] == "0 created, 0 updated, 2 unchanged"


@pytest.mark.django_db
def test_apply_writes_nothing_when_any_file_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(setter("Alpha", CREATED, "source", "x")))
    (tmp_path / "b.yaml").write_text("name: Beta\ntrigger: {type: record_event}\nnodes: []\n")

    with pytest.raises(CommandError, match="nothing was applied"):
        call_command("flows", "apply", str(tmp_path), stdout=StringIO(), stderr=(err := StringIO()))

    assert err.getvalue().splitlines() == [
        "b.yaml: nodes: List should have at least 1 item after validation, not 0",
        "b.yaml: trigger.event: required",
    ]
    assert not Flow.objects.exists()
