"""Failed sign-in attempts on one account, from anywhere: the growing wait that stops a
guesser without locking the account's owner out (docs/security.md, "Sign-in and limits").

Each failure makes the next attempt on the account wait longer (1, 2, 4, 8... seconds
after it, at most ``MAX_WAIT``); an attempt inside the wait is refused unseen, so it
neither counts nor can succeed. After the wait, the right code or password passes: an
attacker can slow the owner down to one try every ``MAX_WAIT`` seconds, never lock them
out. What locks is per client address (each caller's own counters), so one attacker
cannot use up another person's tries. At ``NOTIFY_AT`` failures in a window the account
is told by email, once.

The counts live in the shared cache, keyed by a hash of the email, for addresses with and
without an account alike: the answers do not tell which is which.
"""

import datetime as dt
import time
from dataclasses import dataclass

from django.core.cache import cache

from clinic import rate_limits

WINDOW = dt.timedelta(minutes=15)
MAX_WAIT = 30  # seconds
NOTIFY_AT = 10


@dataclass(frozen=True)
class Attempts:
    """The failed attempts of one kind (``scope``: "code", "password") on ``email``.

    ``free`` failures come without a wait (a typo or two)."""

    scope: str
    email: str
    free: int = 0

    @property
    def _last_key(self) -> str:
        key, _seconds = rate_limits.window_key(f"sign-in-last-{self.scope}", self.email, WINDOW)
        return key

    def wait(self) -> int:
        """Seconds until an attempt on the account is looked at again (0: now)."""
        failures = rate_limits.counted(f"sign-in-failures-{self.scope}", self.email, per=WINDOW)
        if failures <= self.free:
            return 0
        last: float | None = cache.get(self._last_key)
        if last is None:
            return 0
        wait = min(2 ** (failures - self.free - 1), MAX_WAIT)
        return max(0, int(last + wait - time.time() + 0.999))

    def failed(self) -> int:
        """Record a failure; return how many there were in the window (this one too)."""
        failures = rate_limits.count(f"sign-in-failures-{self.scope}", self.email, per=WINDOW)
        cache.set(self._last_key, time.time(), timeout=int(WINDOW.total_seconds()))
        return failures

    def succeeded(self) -> None:
        rate_limits.reset(f"sign-in-failures-{self.scope}", self.email, per=WINDOW)
        cache.delete(self._last_key)

    def should_notify(self, failures: int) -> bool:
        """Whether this failure is the one at which the account is told (once a window)."""
        if failures < NOTIFY_AT:
            return False
        return bool(cache.add(f"{self._last_key}:notified", 1, timeout=int(WINDOW.total_seconds())))
