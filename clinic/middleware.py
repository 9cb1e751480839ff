"""Middleware of the kernel."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

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
                body = {
                    "type": "about:blank",
                    "title": "Bad Request",
                    "status": 400,
                    "detail": message,
                    "code": "malformed_request",
                }
                return JsonResponse(body, status=400, content_type="application/problem+json")
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
