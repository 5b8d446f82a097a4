"""Flow definitions as files (one YAML file per flow), for keeping flows in git.

:func:`flows_export_files` writes every flow's draft (or, without a draft, its active version);
:func:`flows_apply_files` creates or updates drafts from a directory — idempotently: applying
the same files twice changes nothing the second time. Files are validated all together first;
if any is invalid nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from flowcrm.core.actors import Actor
from flowcrm.flows.core.definition import FlowDefinition, load_definition, parse_definition
from flowcrm.flows.core.errors import DefinitionInvalid
from flowcrm.flows.languages import install_languages
from flowcrm.flows.models import Flow, FlowStatus
from flowcrm.flows.services import flow_create, flow_publish, flow_update_draft

FILE_SUFFIXES = (".yaml", ".yml", ".json")


class DefinitionFilesInvalid(ValueError):
    """Some files are not valid definitions; ``problems`` are ``"<file>: <path>: <reason>"``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class ApplyReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)


def file_name_for(flow_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", flow_name.lower()).strip("-")
    return f"{slug or 'flow'}.yaml"


def flows_export_files(*, directory: Path) -> list[Path]:
    """Write one YAML file per non-archived flow into ``directory``; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    flows = Flow.objects.exclude(status=FlowStatus.ARCHIVED).select_related("active_version")
    for flow in flows.order_by("name"):
        data: dict[str, Any] = flow.draft or (
            flow.active_version.definition if flow.active_version else {}
        )
        if not data:
            continue
        path = directory / file_name_for(flow.name)
        text = yaml.safe_dump(_canonical(data), sort_keys=False, allow_unicode=True, width=100)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _canonical(data: dict[str, Any]) -> dict[str, Any]:
    """The definition's canonical form when valid (stable files), else the draft as it is."""
    try:
        return parse_definition(data).to_data()
    except DefinitionInvalid:
        return data


def read_definition_files(directory: Path) -> list[tuple[Path, FlowDefinition]]:
    """Every definition file in ``directory``, validated; raises :class:`DefinitionFilesInvalid`."""
    install_languages()
    problems: list[str] = []
    loaded: list[tuple[Path, FlowDefinition]] = []
    files = sorted(p for p in directory.iterdir() if p.suffix in FILE_SUFFIXES and p.is_file())
    for path in files:
        try:
            loaded.append((path, load_definition(path.read_text(encoding="utf-8"))))
        except DefinitionInvalid as exc:
            problems += [f"{path.name}: {error}" for error in exc.errors]
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path.name}: cannot read: {exc}")
    names: dict[str, Path] = {}
    for path, definition in loaded:
        if definition.name in names:
            other = names[definition.name].name
            problems.append(f"{path.name}: name: {definition.name!r} is also used by {other}")
        names.setdefault(definition.name, path)
    if problems:
        raise DefinitionFilesInvalid(problems)
    return loaded


def flows_apply_files(*, directory: Path, actor: Actor, publish: bool = False) -> ApplyReport:
    """Create or update flow drafts from the files in ``directory`` (matched by flow name).

    With ``publish``, every created or updated flow is published and activated too (the static
    checks may refuse it: ``ValidationFailed``). All or nothing: raises
    :class:`DefinitionFilesInvalid` before writing anything when a file is invalid, and a
    refused publication rolls back every change of the call.
    """
    report = ApplyReport()
    definitions = read_definition_files(directory)
    with transaction.atomic():
        _apply(definitions, actor, publish, report)
    return report


def _apply(
    definitions: list[tuple[Path, FlowDefinition]], actor: Actor, publish: bool, report: ApplyReport
) -> None:
    for _, definition in definitions:
        data = definition.to_data()
        flow = Flow.objects.filter(name=definition.name).first()
        if flow is None:
            flow = flow_create(
                name=definition.name, draft=data, actor=actor, description=definition.description
            )
            report.created.append(definition.name)
        elif _canonical(flow.draft or {}) == data:
            report.unchanged.append(definition.name)
            continue
        else:
            flow = flow_update_draft(flow=flow, draft=data, actor=actor)
            report.updated.append(definition.name)
        if publish:
            flow_publish(flow=flow, actor=actor, activate=True)
            report.published.append(definition.name)
