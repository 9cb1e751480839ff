"""What the views need to know about htmx requests (django-htmx sets ``request.htmx``)."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (for the type checker)."""

    htmx: HtmxDetails


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """Whether to answer with the page's fragment rather than the whole page: an htmx
    request, except a history restore (going back to a URL htmx pushed, with its history
    cache missed), which needs the whole page though htmx sends it."""
    return bool(request.htmx) and not request.htmx.history_restore_request
