from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from flowcrm.web.htmx import render_page
from flowcrm.web.navigation import home_summary


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render_page(request, "web/home.html", {"summary": home_summary(request.user)})  # type: ignore[arg-type]  # login_required guarantees a User
