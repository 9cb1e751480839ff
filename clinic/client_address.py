"""Who sent a request, for the rate limits."""

from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    # The proxy in front of gunicorn must pass the client's address as REMOTE_ADDR
    # (see docs/operations.md); X-Forwarded-For is not trusted here.
    return str(request.META.get("REMOTE_ADDR", ""))
