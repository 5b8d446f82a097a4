"""REST endpoints of the contacts app (mounted by flowcrm.api)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["contacts"])
