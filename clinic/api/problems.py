"""Every API error as ``application/problem+json`` (RFC 9457), in one place.

A problem has the RFC's ``type`` (``about:blank``: the status says what kind),
``title`` (the status phrase), ``status`` and ``detail`` (a sentence for the person
who tried), and two members of ours: ``code``, stable and machine-readable (the domain
errors' codes: ``slot_unavailable``, ``too_soon``, ...), and, for invalid input,
``errors``: one ``{"field", "code", "message"}`` per problem, ``field`` being a dotted
path into the JSON body or a query parameter's name (null for the request as a whole).
"""

import math
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from clinic.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"

# DRF's exceptions: our code for each (default_code where it is already good).
DRF_CODES: Mapping[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "invalid_request",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "invalid_token",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


class ApiProblem(exceptions.APIException):
    """An API-level refusal with its own status and code (an Idempotency-Key's, say)."""

    def __init__(
        self, status: int, code: str, detail: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(detail, code)
        self.status_code = status
        self.problem_code = code
        self.retry_after = retry_after


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    return Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: the problem for ``exc``, or None (a bug: a 500)."""
    response = problem_for(exc)
    if response is not None:
        set_rollback()
    return response


def problem_for(exc: Exception) -> Response | None:
    if isinstance(exc, DomainError):
        return _domain_problem(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers: dict[str, str] = {}
    if auth_header := getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = auth_header
    if isinstance(exc, ApiProblem):
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return problem_response(exc.status_code, exc.problem_code, str(exc.detail), headers=headers)
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, math.ceil(getattr(exc, "wait", None) or 1))
        headers["Retry-After"] = str(wait)
        detail = f"Too many requests. Try again in {wait} seconds."
        return problem_response(429, "throttled", detail, headers=headers)
    code = next(
        (code for kind, code in DRF_CODES.items() if type(exc) is kind),
        str(exc.default_code),
    )
    # A code of our own, such as a permission's ("staff_only"), wins over the default.
    own_code = getattr(exc.detail, "code", None)
    if own_code and own_code != exc.default_code:
        code = str(own_code)
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_field_errors(exc.detail, path=None))
        detail = "The request is not valid: " + "; ".join(
            f"{error['field']}: {error['message']}" if error["field"] else error["message"]
            for error in errors
        )
        return problem_response(400, code, detail, errors=errors, headers=headers)
    return problem_response(exc.status_code, code, str(exc.detail), headers=headers)


def _domain_problem(exc: DomainError) -> Response:
    """The error's own status and code (``DomainError.http_status``, ``.code``), with
    ``Retry-After`` for a refusal that passes with time."""
    headers = {}
    if exc.retry_after is not None or exc.http_status == 429:
        headers["Retry-After"] = str(max(1, exc.retry_after or 60))
    return problem_response(exc.http_status, exc.code, exc.message, headers=headers)


def _field_errors(detail: Any, path: str | None) -> Iterator[dict[str, Any]]:
    """DRF's nested error detail flattened to ``{"field", "code", "message"}`` items."""
    if isinstance(detail, Mapping):
        for name, value in detail.items():
            field = None if name in ("non_field_errors", "detail") else str(name)
            yield from _field_errors(value, _join(path, field))
    elif isinstance(detail, list):
        # A list of errors for one field, or (for a list field) one entry per item.
        if any(isinstance(item, Mapping | list) for item in detail):
            for index, item in enumerate(detail):
                if item:
                    yield from _field_errors(item, _join(path, str(index)))
        else:
            for item in detail:
                yield _error(path, item)
    else:
        yield _error(path, detail)


def _error(path: str | None, item: Any) -> dict[str, Any]:
    return {"field": path, "code": str(getattr(item, "code", "invalid")), "message": str(item)}


def _join(path: str | None, name: str | None) -> str | None:
    if name is None:
        return path
    return f"{path}.{name}" if path else name


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def plain_problem(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None
) -> HttpResponse:
    """A problem outside DRF (Django's own error handlers, clinic/error_pages.py)."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)
