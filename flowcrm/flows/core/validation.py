"""Turning pydantic's errors into JSON-path-precise :class:`PathError` values."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from flowcrm.flows.core.errors import Path, PathError


def pydantic_errors(error: ValidationError, prefix: Path = ()) -> list[PathError]:
    """One :class:`PathError` per pydantic error, its location appended to ``prefix``.

    An unknown key is reported on its parent (``nodes[3].config: unknown field 'frist_name'``);
    everything else on its own location with pydantic's message.
    """
    result: list[PathError] = []
    for item in error.errors(include_url=False):
        location: Path = tuple(p for p in item["loc"] if isinstance(p, str | int))
        kind = item["type"]
        if kind == "extra_forbidden" and location:
            result.append(PathError(prefix + location[:-1], f"unknown field {location[-1]!r}"))
        elif kind == "missing":
            result.append(PathError(prefix + location, "required"))
        else:
            message = item["msg"]
            message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
            result.append(PathError(prefix + location, message))
    return result


def validate_model[ModelT: BaseModel](
    model: type[ModelT], data: Any, prefix: Path, errors: list[PathError]
) -> ModelT | None:
    """``model.model_validate(data)``; on failure append path errors and return ``None``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors.extend(pydantic_errors(exc, prefix))
        return None
