"""Fixed-window rate limits kept in the shared cache (Redis or the database cache),
so that every web process counts the same requests."""

import datetime as dt
import hashlib
import time

from django.core.cache import cache


def allow(scope: str, identifier: str, *, limit: int, per: dt.timedelta) -> bool:
    """Count one attempt for ``identifier`` in ``scope``; False once ``limit`` attempts
    were made in the current window of length ``per``."""
    seconds = int(per.total_seconds())
    window = int(time.time()) // seconds
    # Hash the identifier: keys must not hold email addresses (PII) in the cache.
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    key = f"rate:{scope}:{digest}:{window}"
    if cache.add(key, 1, timeout=seconds):
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=seconds)
        return True
    return count <= limit


def seconds_left(per: dt.timedelta) -> int:
    """Seconds until the current window of length ``per`` ends: when ``allow`` says yes
    again (a Retry-After)."""
    seconds = int(per.total_seconds())
    return seconds - int(time.time()) % seconds
