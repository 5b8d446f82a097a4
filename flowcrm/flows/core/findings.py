"""Findings of the static checks: what is wrong (or suspicious) and which nodes and flows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One result of a static check. Publishing refuses a definition with any ``error``."""

    severity: Severity
    code: str
    message: str
    nodes: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)
    #: Where in the definition, as a JSON path (``nodes[2]``, ``nodes[1].config.subject``).
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "nodes": list(self.nodes),
            "flows": list(self.flows),
            "path": self.path,
        }


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(finding.severity == "error" for finding in findings)
