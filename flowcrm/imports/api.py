"""REST endpoints of the imports app (mounted by flowcrm.api)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["imports"])
