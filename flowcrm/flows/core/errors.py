"""Errors of the flow engine core, each naming the JSON path it is about."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PathPart = str | int
Path = tuple[PathPart, ...]


def format_path(path: Sequence[PathPart]) -> str:
    """``("nodes", 3, "config", "subject")`` -> ``"nodes[3].config.subject"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "$"


@dataclass(frozen=True)
class PathError:
    """One problem in a definition: where (a JSON path) and what."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{format_path(self.path)}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"path": format_path(self.path), "message": self.message}


class DefinitionInvalid(ValueError):
    """A flow definition (or a part of it) was refused; ``errors`` says where and why."""

    def __init__(self, errors: Iterable[PathError]) -> None:
        self.errors: list[PathError] = sorted(set(errors), key=_error_order)
        super().__init__("; ".join(str(e) for e in self.errors) or "invalid definition")

    def by_path(self) -> dict[str, str]:
        """``{"nodes[3].config.subject": "unknown field 'frist_name'", ...}`` (first per path)."""
        result: dict[str, str] = {}
        for error in self.errors:
            result.setdefault(format_path(error.path), error.message)
        return result


def _error_order(error: PathError) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in error.path)


class EngineError(RuntimeError):
    """The stepper was asked to do something the run state does not allow."""
