"""One view, two renderings: the full page, or only its fragment for an htmx request."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``template`` (a full page) or, for htmx requests, ``fragment`` when given.

    A boosted navigation (``hx-boost``) still gets the full page, like a normal request.
    """
    htmx = getattr(request, "htmx", None)
    if fragment is not None and htmx and not htmx.boosted:
        return render(request, fragment, context, status=status)
    return render(request, template, context, status=status)
