"""Activity pages: "My tasks" (complete with one click) and the timeline fragment of a record."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from flowcrm.accounts.models import User
from flowcrm.activities import selectors, services
from flowcrm.core.actors import Actor
from flowcrm.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from flowcrm.core.permissions import ensure_can_write
from flowcrm.web.htmx import render_page


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required ran first
    return request.user


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    """The signed-in user's open tasks: overdue, today, upcoming, undated."""
    tasks = selectors.my_tasks(_user(request))
    groups = [
        ("overdue", "Overdue", tasks.overdue),
        ("today", "Today", tasks.today),
        ("upcoming", "Upcoming", tasks.upcoming),
        ("undated", "No due date", tasks.undated),
    ]
    return render_page(
        request, "activities/my_tasks.html", {"groups": groups, "now": timezone.now()}
    )


@login_required
@require_POST
def task_complete(request: HttpRequest, task_id: int) -> HttpResponse:
    """Complete a task (htmx); answers with the task's row, now done."""
    user = _user(request)
    try:
        task = selectors.task_get(user, task_id)
    except NotFound as error:
        raise Http404(str(error)) from error
    try:
        ensure_can_write(user)
        task = services.task_complete(task=task, actor=Actor.for_user(user))
    except (Conflict, PermissionDenied) as error:
        return HttpResponse(str(error), status=error.status, content_type="text/plain")
    return render(request, "activities/_task_row.html", {"task": task, "now": timezone.now()})


@login_required
def timeline(request: HttpRequest, subject_type: str, subject_id: int) -> HttpResponse:
    """A record's timeline as an HTML fragment, with a "load more" button (``?cursor=``).

    The first page is a ``<ul class="timeline">``; later pages are its next ``<li>`` items, so
    other apps' detail pages can ``hx-get`` this URL into any container.
    """
    cursor = request.GET.get("cursor") or None
    try:
        page = selectors.record_timeline(subject_type, subject_id, _user(request), cursor=cursor)
    except (NotFound, ValidationFailed) as error:
        raise Http404(str(error)) from error
    context = {
        "entries": page.entries,
        "next_cursor": page.next_cursor,
        "subject_type": subject_type,
        "subject_id": subject_id,
    }
    template = "activities/_timeline_items.html" if cursor else "activities/_timeline.html"
    return render(request, template, context)
