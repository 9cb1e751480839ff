"""Middleware of the kernel."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from clinic import json_logs
from clinic.api.problems import plain_problem
from clinic.errors import DomainError


class DomainErrorMiddleware:
    """A refusal that no view turned into its page (``Busy`` from a plain action button,
    say) is answered with its own status and message, never a 500. Views that show a
    refusal on their own page (a form with its error) catch it first; the API answers
    its own problems (``clinic.api.problems``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        response = render(
            request, "refused.html", {"error": exception}, status=exception.http_status
        )
        if exception.retry_after is not None:
            response["Retry-After"] = str(exception.retry_after)
        return response


class EnglishApiMiddleware:
    """The JSON API (``/api/``) answers in English whatever ``Accept-Language`` asks for
    (docs/api.md, "Errors"): its ``detail`` texts are for the developers of its clients,
    its ``code`` for their programs, and half-translated problems (a German field message
    in an English sentence) would help neither. After ``LocaleMiddleware``, which then
    leaves this ``Content-Language`` as it is. What the API sends to a person (a sign-in
    code by email) is still in their language: ``accounts.languages.of_request``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        with translation.override(settings.LANGUAGE_CODE):
            response = self.get_response(request)
        response.headers["Content-Language"] = settings.LANGUAGE_CODE
        return response


class RequestIdMiddleware:
    """First of all: gives the request its id, the incoming ``X-Request-ID`` when it is a
    sane token (``clinic.json_logs.request_id_from``) or a new one, which every log line
    written while the request runs carries and the response echoes, so that a proxy's
    log, ours and a person quoting an error page meet on one id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = json_logs.request_id_from(request.headers.get("X-Request-ID"))
        with json_logs.request_context(request, request_id):
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RefuseTraceMiddleware:
    """``TRACE`` is refused (405) on every path, whatever a view would do with it: it
    echoes the request, cookies and all, back to whoever sent it (cross-site tracing),
    and nothing here needs it. Function views without a method decorator answered it
    with their page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "TRACE":
            return method_not_allowed(request)
        return self.get_response(request)


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = plain_problem(
            405, "method_not_allowed", f'Method "{request.method}" not allowed.'
        )
    else:
        response = HttpResponse(status=405)
    response["Allow"] = ", ".join(SITE_METHODS)
    return response


# The methods some path of the site answers (Allow of a refused TRACE).
SITE_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")

# Paths whose every answer is about someone: the API, staff pages, the admin, a
# patient's appointments and details, sign-in.
PRIVATE_PATH_PREFIXES = (
    "/api/",
    "/staff/",
    "/admin/",
    "/appointments/",
    "/account/",
    "/login/",
    "/logout/",
)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` (with Django's other never-cache directives) on every
    answer that may carry patient data, so that no browser history, shared computer or
    proxy keeps a copy: the private paths above, and any request with credentials (an
    ``Authorization`` header, or a session cookie: a signed-in browser's every page shows
    who is signed in).

    It decides by path and credentials, not by ``request.user``, so that it never loads
    a session (a database query, and the database may be what failed). Public pages for
    anonymous visitors (the home page, the doctors) keep their default caching; static
    files never reach this middleware (WhiteNoise answers them first, with a year's
    caching for the hashed names)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if carries_personal_data(request):
            add_never_cache_headers(response)
        return response


def carries_personal_data(request: HttpRequest) -> bool:
    return (
        request.path.startswith(PRIVATE_PATH_PREFIXES)
        or "authorization" in request.headers
        or settings.SESSION_COOKIE_NAME in request.COOKIES
    )


class RejectNulMiddleware:
    """A NUL character in a query string or a form is refused with a 400 before any view
    runs: no text column of PostgreSQL can hold one, so it could only ever fail later,
    as a 500. (JSON bodies are checked by the API's parser, clinic.api.parsers.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = _("The request contained a character that is not allowed (NUL).")
            if request.path.startswith("/api/"):
                return plain_problem(400, "malformed_request", message)
            return render(request, "refused.html", {"error": {"message": message}}, status=400)
        return self.get_response(request)


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    sources = [request.GET]
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.POST)
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for source in sources
        for key, values in source.lists()
    )
