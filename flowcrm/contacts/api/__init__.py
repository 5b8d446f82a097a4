"""REST endpoints of the contacts app (mounted by flowcrm.api at /api/v1/).

``/contacts``, ``/companies``, ``/tags`` and ``/custom-fields``: lists answer
``{items, next_cursor}`` (keyset pages), updates are PATCHes, every bad field is a 422 naming it.
"""

from __future__ import annotations

from ninja import Router

router = Router(tags=["contacts"])

from flowcrm.contacts.api import companies, configuration, contacts  # noqa: E402, F401  # registers the endpoints on router

__all__ = ["router"]
