"""Domain errors raised by services and selectors; the API and pages map them to responses."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base class: a request that cannot be carried out as asked."""

    status = 400
    title = "Bad request"


class ValidationFailed(DomainError):
    """Input is invalid. ``errors`` maps a field path (``email``, ``custom.region``) to a reason.

    Raised before anything is written, or inside the service's transaction so nothing is kept.
    """

    status = 422
    title = "Validation failed"

    def __init__(self, errors: Mapping[str, str] | str, *, field: str | None = None) -> None:
        if isinstance(errors, str):
            errors = {field or "__all__": errors}
        self.errors: dict[str, str] = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class NotFound(DomainError):
    status = 404
    title = "Not found"


class PermissionDenied(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
