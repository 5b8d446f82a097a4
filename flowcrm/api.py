"""The REST API at /api/v1: authentication, one error format, and every app's router.

Errors are RFC 9457 problem documents (``application/problem+json``)::

    {"type": "about:blank", "title": "Validation failed", "status": 422,
     "detail": "email: Enter a valid e-mail address.",
     "errors": [{"field": "email", "message": "Enter a valid e-mail address."}]}
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from flowcrm.accounts.models import User
from flowcrm.accounts.services import token_authenticate
from flowcrm.core.actors import Actor
from flowcrm.core.errors import DomainError, NotFound, ValidationFailed


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        try:
            api_token = token_authenticate(token)
        except NotFound:
            return None
        request.api_token = api_token  # type: ignore[attr-defined]  # read by request_actor
        return api_token.user


api = NinjaAPI(
    title="FlowCRM API",
    version="1",
    description="Records, pipelines, activities, the event log and flows of FlowCRM.",
    auth=[BearerTokenAuth(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def request_user(request: HttpRequest) -> User:
    """The authenticated user of an API request (ninja has already refused anonymous ones)."""
    user = request.auth  # type: ignore[attr-defined]  # set by ninja's auth
    assert isinstance(user, User)
    return user


def request_actor(request: HttpRequest) -> Actor:
    token = getattr(request, "api_token", None)
    if token is not None:
        return Actor.for_token(token)
    return Actor.for_user(request_user(request))


def problem(
    request: HttpRequest,
    *,
    status: int,
    title: str,
    detail: str = "",
    errors: list[dict[str, str]] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


def _field_of(location: list[Any]) -> str:
    # ninja locations look like ["body", "payload", "email"] or ["query", "limit"].
    parts = [str(p) for p in location]
    while parts and parts[0] in {"body", "query", "path", "form", "header", "cookie"}:
        parts = parts[1:]
        if parts and parts[0] in {"payload", "data", "filters"}:
            parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def _on_schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _field_of(list(e.get("loc", []))), "message": str(e.get("msg", "Invalid value"))}
        for e in exc.errors
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(request, status=422, title="Validation failed", detail=detail, errors=errors)


@api.exception_handler(ValidationFailed)
def _on_validation_failed(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    errors = [{"field": field, "message": message} for field, message in exc.errors.items()]
    return problem(request, status=422, title=exc.title, detail=str(exc), errors=errors)


@api.exception_handler(DomainError)
def _on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem(request, status=exc.status, title=exc.title, detail=str(exc))


@api.exception_handler(AuthenticationError)
def _on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        request,
        status=401,
        title="Unauthorized",
        detail="Send 'Authorization: Bearer <token>' or log in.",
    )


@api.exception_handler(RequestDataTooBig)
def _on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem(
        request,
        status=413,
        title="Payload too large",
        detail="The request body is larger than the configured limit.",
        errors=[{"field": "body", "message": "Request body too large."}],
    )


@api.exception_handler(HttpError)
def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    title = "Bad request" if exc.status_code == 400 else "Error"
    errors = [{"field": "body", "message": str(exc)}] if exc.status_code == 400 else None
    return problem(request, status=exc.status_code, title=title, detail=str(exc), errors=errors)


def _register_routers() -> None:
    from flowcrm.activities.api import router as activities_router
    from flowcrm.contacts.api import router as contacts_router
    from flowcrm.contacts.merge_api import router as merge_router
    from flowcrm.core.api import router as core_router
    from flowcrm.flows.api import router as flows_router
    from flowcrm.forecasts.api import router as forecasts_router
    from flowcrm.imports.api import router as imports_router
    from flowcrm.insights.api import router as insights_router
    from flowcrm.reports.api import router as reports_router
    from flowcrm.sales.api import router as sales_router

    api.add_router("/", core_router)
    api.add_router("/", merge_router)  # before contacts: /contacts/duplicates is not an id
    api.add_router("/", contacts_router)
    api.add_router("/", sales_router)
    api.add_router("/", activities_router)
    api.add_router("/flows", flows_router)
    api.add_router("/insights", insights_router)
    api.add_router("/imports", imports_router)
    api.add_router("/", forecasts_router)
    api.add_router("/", reports_router)


_register_routers()
