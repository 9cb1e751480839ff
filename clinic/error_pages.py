"""Django's error handlers (``handler400/403/404/500`` in clinic/urls.py): the site's own
pages in its look, and ``application/problem+json`` under /api/.

A database that is down, or a query it cancelled (``statement_timeout``, ``lock_timeout``),
is not a bug: it is answered 503 with ``Retry-After``, so that a person reads "try again
in a moment" and a client or load balancer knows to retry, never a 500 or a hang. Django
calls ``handler500`` for every exception nothing else handled, from a view, a middleware
or a template, inside the ``except`` that caught it, so ``sys.exc_info()`` names it.

The 500 and 503 pages are rendered without the request: the request's context (who is
signed in, messages) would read the session, from the database that may be what failed.
They show the request id, for a person to quote (and the logs to find).
"""

import sys

import redis
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from clinic.api.problems import is_api, plain_problem
from clinic.json_logs import current_request_id

# Seconds a client is told to wait before trying again while a service is down.
RETRY_AFTER_SECONDS = 30

# What "a service is down or gave up on us" looks like: the database's operational
# errors (connection refused or lost, statement or lock timeout, SQLite busy) and a Redis
# (cache, broker) that does not answer.
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 when a service is down, else the 500 page (or problem)."""
    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        return service_unavailable(request)
    if is_api(request):
        detail = _("Something went wrong on our side. It has been logged; please try again.")
        return plain_problem(500, "server_error", detail)
    return _page_without_request("500.html", status=500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_api(request):
        detail = _(
            "The service is unavailable for a moment. Please try again in %(seconds)s seconds."
        ) % {"seconds": RETRY_AFTER_SECONDS}
        return plain_problem(503, "service_unavailable", detail, headers=headers)
    response = _page_without_request("503.html", status=503)
    response["Retry-After"] = headers["Retry-After"]
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: what Django refuses before any view runs (a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, a disallowed host) is a problem under /api/ too."""
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The request body is larger than the {limit:,} bytes allowed."
        return plain_problem(413, "request_too_large", detail)
    return plain_problem(400, "bad_request", "The request was refused as malformed.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return plain_problem(403, "forbidden", _("You may not do this."))
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return plain_problem(404, "not_found", _("There is no such API endpoint."))
    return defaults.page_not_found(request, exception)


def _page_without_request(template_name: str, *, status: int) -> HttpResponse:
    content = loader.render_to_string(template_name, {"request_id": current_request_id()})
    return HttpResponse(content, status=status)
