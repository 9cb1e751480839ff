"""Copies of checked rows' facts in the shared cache, ended by markers.

Who a request is (a bearer token's facts, accounts/api_tokens.py; a session's user and
the device that verified it, accounts/session_users.py) is checked against rows on a
request, and the facts those checks read are kept here for at most a setting's number of
seconds, so that the next requests read no row. Only facts that name nobody: ids, flags,
hashes; never an email or a name.

Ending a copy must take effect on the very next request, so every change that ends one
writes an "ended" marker over its entry with ``cache.set``, before the change commits and
again after (``ending``), and a copy is only ever written with ``cache.add``, which never
replaces what is there: a request that read the rows before the change cannot put back a
copy that the marker replaced. A marker lives twice as long as a copy may, and a copy of
rows read longer ago than a copy lives is not written (``KeptCopies.keep``). A request
that finds a marker checks the rows, as it would without the copies.
"""

import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.crypto import salted_hmac

from accounts.models import User

# What stands in an entry once a change has ended its copy.
ENDED = "ended"

# The user's fields that the requests read from ``request.user`` (permissions, throttles,
# the selectors' "patient or staff", the session's lifetime); any other is read from the
# database when asked for.
CACHED_USER_FIELDS = ("id", "is_superuser", "is_staff", "is_active")
# The user's fields whose change ends the copies (``User._get_session_auth_hash`` reads
# the password and the sign-out epoch; the sign-in checks read the flags).
FIELDS_THAT_END_SIGN_INS = frozenset(
    {"password", "sign_out_epoch", "is_active", "is_staff", "is_superuser"}
)


class KeptCopies:
    """One kind of copy: its entries' prefix, the salt of their keys and the setting that
    says how many seconds a copy lives (0: none is kept or read)."""

    def __init__(self, *, prefix: str, salt: str, seconds_setting: str) -> None:
        self.prefix = prefix
        self.salt = salt
        self.seconds_setting = seconds_setting

    @property
    def seconds(self) -> int:
        seconds: int = getattr(settings, self.seconds_setting)
        return seconds

    def key(self, identity: str) -> str:
        # Keyed under SECRET_KEY: after a key change no copy made under the old key is
        # found, and the rows are checked again (and, matching a fallback, renewed).
        return self.prefix + salted_hmac(self.salt, identity, algorithm="sha256").hexdigest()

    def get(self, identity: str) -> dict[str, Any] | None:
        """The facts kept for ``identity``, or None (off, no copy, or a change ended it)."""
        if self.seconds <= 0:
            return None
        facts = cache.get(self.key(identity))
        return facts if isinstance(facts, dict) else None

    def keep(
        self, identity: str, facts: dict[str, Any], *, read_at: float, at_most: float | None = None
    ) -> None:
        """Keep ``facts`` for the next requests unless an entry is there already (a copy,
        or a change's marker). ``read_at``: when the rows were read (``time.monotonic()``);
        ``at_most``: seconds after which the facts stop being true (an expiry)."""
        seconds = self.seconds
        timeout = int(seconds if at_most is None else min(seconds, at_most))
        # A marker outlives a copy by ``seconds``: a copy of rows read before a change is
        # only written while the marker that change wrote is surely still there.
        if timeout < 1 or time.monotonic() - read_at >= seconds:
            return
        cache.add(self.key(identity), facts, timeout)

    def end(self, identities: Iterable[str]) -> None:
        """Replace these copies with markers: their next request reads the rows."""
        keys = [self.key(identity) for identity in identities]
        if keys:
            cache.set_many(dict.fromkeys(keys, ENDED), 2 * max(self.seconds, 1))


class ending:
    """Around a change that ends copies: ``end()`` before the change, and again once it
    commits (at once outside a transaction). The markers before cover the time until the
    commit; those after, any copy written from rows read before it. ``end`` is called
    each time anew, so that what it reads (a user's tokens) includes what the change
    itself added."""

    def __init__(self, end: Callable[[], None]) -> None:
        self.end = end

    def __enter__(self) -> None:
        self.end()

    def __exit__(self, *_exc: object) -> None:
        transaction.on_commit(self.end)


def may_end_sign_ins(update_fields: Iterable[str] | None) -> bool:
    """Whether a save of a user with these ``update_fields`` may end what a copy says."""
    # A save of named fields (the last sign-in, the language) keeps the copies.
    return update_fields is None or not FIELDS_THAT_END_SIGN_INS.isdisjoint(update_fields)


def user_facts(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in CACHED_USER_FIELDS}


def user_from_facts(facts: dict[str, Any]) -> User:
    """A user with ``CACHED_USER_FIELDS`` only; reading another loads it from the database."""
    return User.from_db(
        DEFAULT_DB_ALIAS, CACHED_USER_FIELDS, [facts[name] for name in CACHED_USER_FIELDS]
    )
