"""Static checks over stored flows: one definition before publishing, and all flows at once.

The checks themselves are pure (``flowcrm.flows.core.analysis`` and ``.crossflow``); this
module loads what they compare against: every active flow's active version, and drafts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flowcrm.flows.core.analysis import check_definition
from flowcrm.flows.core.crossflow import check_flows as check_across_flows
from flowcrm.flows.core.definition import FlowDefinition, parse_definition
from flowcrm.flows.core.errors import DefinitionInvalid
from flowcrm.flows.core.findings import Finding
from flowcrm.flows.languages import install_languages
from flowcrm.flows.models import Flow, FlowStatus

NamedDefinition = tuple[str, FlowDefinition]


@dataclass(frozen=True)
class PublishCheck:
    """Findings for a definition about to be published; any ``errors`` refuse publishing."""

    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)


def check_flows(flows: Sequence[NamedDefinition]) -> list[Finding]:
    """Every finding for ``(flow name, definition)`` pairs: each flow alone, then across them."""
    install_languages()
    findings: list[Finding] = []
    for name, definition in flows:
        findings += [replace(f, flows=[name]) for f in check_definition(definition)]
    findings += check_across_flows(flows)
    return findings


def check_publish(*, flow: Flow, definition: dict[str, Any]) -> PublishCheck:
    """Check ``definition`` as the next version of ``flow`` against every other active flow.

    Findings get unique ``path`` values prefixed with ``definition.`` so they can be raised as
    one ``ValidationFailed``.
    """
    candidate = (flow.name, parse_definition(definition))
    others = [pair for pair in active_definitions() if pair[0] != flow.name]
    findings = [f for f in check_flows([candidate, *others]) if flow.name in f.flows]
    seen: set[str] = set()
    unique: list[Finding] = []
    for finding in findings:
        path = f"definition.{finding.path}" if finding.path else "definition"
        if path in seen:
            path = f"{path}.{finding.code}"
        suffix = 2
        while path in seen:
            path, suffix = f"{path}.{suffix}", suffix + 1
        seen.add(path)
        unique.append(replace(finding, path=path))
    return PublishCheck(
        errors=[f for f in unique if f.severity == "error"],
        warnings=[f for f in unique if f.severity == "warning"],
    )


def active_definitions() -> list[NamedDefinition]:
    """``(name, definition)`` of every active flow's active version (one query)."""
    flows = Flow.objects.filter(status=FlowStatus.ACTIVE, active_version__isnull=False)
    result: list[NamedDefinition] = []
    for flow in flows.select_related("active_version").order_by("name"):
        assert flow.active_version is not None
        result.append((flow.name, parse_definition(flow.active_version.definition)))
    return result


def check_all_flows() -> list[Finding]:
    """Findings for every active flow and every draft (a flow's draft stands in for its active
    version when they differ, as if it were published). Invalid drafts are findings too."""
    install_languages()
    chosen: dict[str, FlowDefinition] = dict(active_definitions())
    invalid: list[Finding] = []
    for flow in Flow.objects.exclude(status=FlowStatus.ARCHIVED).order_by("name"):
        if not flow.draft:
            continue
        try:
            draft = parse_definition(flow.draft)
        except DefinitionInvalid as exc:
            invalid += [
                Finding("error", "invalid", str(error), flows=[flow.name]) for error in exc.errors
            ]
            continue
        chosen[flow.name] = draft
    return invalid + check_flows(sorted(chosen.items()))
