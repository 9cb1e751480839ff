"""Middleware of the kernel."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
