"""Request limits for the API, counted in the shared cache (Redis, or the database cache
table), so every gunicorn worker counts the same requests. Over the limit: 429 with
``Retry-After`` (``problems``). The rates are ``settings.API_THROTTLE_RATES``
(``"60/hour"``), read per request, so a deployment (or a test) can change them.

The counting is ``clinic.rate_limits.allow``, the sign-in pages' own: fixed windows
counted with the cache's ``add`` and ``incr``, which are atomic on Redis, so parallel
requests in several processes cannot slip past a limit by overwriting each other's
count (DRF's own throttles read, change and write back a list of times)."""

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from clinic.client_address import client_address
from clinic.rate_limits import allow, seconds_left

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView

PERIODS = {
    "second": dt.timedelta(seconds=1),
    "minute": dt.timedelta(minutes=1),
    "hour": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1),
}


def parse_rate(rate: str) -> tuple[int, dt.timedelta]:
    """``"60/hour"`` → (60, one hour); the period is second, minute, hour or day."""
    count, _slash, period = rate.partition("/")
    return int(count), PERIODS[period.strip().rstrip("s")]


class CacheThrottle(BaseThrottle):
    """A limit of ``settings.API_THROTTLE_RATES[scope]`` requests per ``identity``."""

    scope: str

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def identity(self, request: Request) -> str | None:
        """Whom to count this request for; None: not counted."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: "APIView") -> bool:
        rate = settings.API_THROTTLE_RATES.get(self.scope)
        identity = self.identity(request)
        if rate is None or identity is None:
            return True
        limit, per = parse_rate(rate)
        if allow(f"api-{self.scope}", identity, limit=limit, per=per):
            return True
        self.retry_after = seconds_left(per)
        return False

    def wait(self) -> float | None:
        return self.retry_after


class AuthAddressThrottle(CacheThrottle):
    """Sign-in requests per client address."""

    scope = "auth_address"

    def identity(self, request: Request) -> str | None:
        return client_address(request)


class UserWriteThrottle(CacheThrottle):
    """Writes (POST, PUT, PATCH, DELETE) per signed-in user. Reads are not limited."""

    scope = "writes"

    def identity(self, request: Request) -> str | None:
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.user.is_authenticated:
            return None
        return f"user:{request.user.pk}"
