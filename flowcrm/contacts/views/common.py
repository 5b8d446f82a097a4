"""What the contact and company pages share: error mapping, list parameters, users to pick."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict

from flowcrm.accounts.models import User
from flowcrm.core.errors import NotFound, PermissionDenied, ValidationFailed

LIST_LIMIT = 50


def domain_errors[View: Callable[..., HttpResponse]](view: View) -> View:
    """NotFound → 404 and PermissionDenied → 403, as Django's own exceptions."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(str(error)) from error
        except PermissionDenied as error:
            raise DjangoPermissionDenied(str(error)) from error

    return cast(View, wrapper)


def page_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the views are login_required
    return user


def int_param(data: QueryDict, name: str) -> int | None:
    text = data.get(name, "").strip()
    return int(text) if text.isdigit() else None


def date_param(data: QueryDict, name: str) -> dt.datetime | None:
    text = data.get(name, "").strip()
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def active_users() -> list[User]:
    return list(User.objects.filter(is_active=True).order_by("name", "email"))


def error_text(failure: ValidationFailed) -> str:
    return "; ".join(f"{field}: {message}" for field, message in failure.errors.items())


def query_without(data: QueryDict, *names: str) -> str:
    """The query string minus ``names`` (to build "Next" links and sort links)."""
    copy = data.copy()
    for name in names:
        copy.pop(name, None)
    return copy.urlencode()
