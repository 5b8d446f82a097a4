from __future__ import annotations

from django.http import HttpRequest

from flowcrm.web.navigation import NAVIGATION


def navigation(request: HttpRequest) -> dict[str, object]:
    path = request.path
    current = ""
    for item in NAVIGATION:
        if item.url != "/" and path.startswith(item.url) and len(item.url) > len(current):
            current = item.url
    return {"navigation": NAVIGATION, "current_nav_url": current or ("/" if path == "/" else "")}
