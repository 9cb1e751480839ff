"""Fixed-window counters and rate limits kept in the shared cache (Redis or the database
cache), so that every web process counts the same requests.

Counting is atomic: ``cache.add`` and ``cache.incr`` are atomic on Redis and on our
database cache (clinic/cache.py), so parallel requests in several processes each get a
count of their own and none slips past a limit. Identifiers are hashed in the keys: keys
must not hold email addresses (PII).
"""

import datetime as dt
import hashlib
import time

from django.core.cache import cache


def window_key(scope: str, identifier: str, per: dt.timedelta) -> tuple[str, int]:
    """The cache key of ``identifier``'s count in the current window, and its length."""
    seconds = int(per.total_seconds())
    window = int(time.time()) // seconds
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:32]
    return f"rate:{scope}:{digest}:{window}", seconds


def count(scope: str, identifier: str, *, per: dt.timedelta) -> int:
    """Count one more for ``identifier`` in ``scope`` in the current window of length
    ``per``, and return the count so far, this one included (1, 2, 3...)."""
    key, seconds = window_key(scope, identifier, per)
    if cache.add(key, 1, timeout=seconds):
        return 1
    try:
        counted: int = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=seconds)
        return 1
    return counted


def counted(scope: str, identifier: str, *, per: dt.timedelta) -> int:
    """The count so far in the current window, without counting."""
    key, _seconds = window_key(scope, identifier, per)
    value: int = cache.get(key, 0)
    return value


def reset(scope: str, identifier: str, *, per: dt.timedelta) -> None:
    """Forget the current window's count (after a success, say)."""
    key, _seconds = window_key(scope, identifier, per)
    cache.delete(key)


def allow(scope: str, identifier: str, *, limit: int, per: dt.timedelta) -> bool:
    """Count one attempt for ``identifier`` in ``scope``; False once ``limit`` attempts
    were made in the current window of length ``per``."""
    return count(scope, identifier, per=per) <= limit


def seconds_left(per: dt.timedelta) -> int:
    """Seconds until the current window of length ``per`` ends: when ``allow`` says yes
    again (a Retry-After)."""
    seconds = int(per.total_seconds())
    return seconds - int(time.time()) % seconds
