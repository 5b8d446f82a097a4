"""REST endpoints of the insights app (mounted by flowcrm.api)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["insights"])
