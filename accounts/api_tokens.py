"""Issuing and revoking bearer tokens, and the shared cache's copy of a verified token.

The copy (``API_TOKEN_CACHE_SECONDS``, docs/performance.md "The API token kept"): once a
request has checked a token against its row and its user's, the facts those checks read
go to the shared cache for at most that long, so the next requests with the same token
read neither row. Only facts that name nobody: the token's id, kind, expiry, device and
auth hash, its user's id and flags; never an email or a name.

Ending a token must take effect on the very next request, so every change that ends
one (revoking, deleting it or its authenticator or its user, a password change, an
account made staff or no longer staff or inactive, "sign out everywhere") writes an
"ended" marker over the token's entry with ``cache.set``, before its change commits and
again after, and a copy is only ever written with ``cache.add``, which never replaces
what is there: a request that read the rows before the change cannot put back a copy
that the marker replaced. A marker lives twice as long as a copy may, and a copy whose
rows were read longer ago than that is not written. A request that finds a marker
checks the rows, as every request did before.
"""

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import ApiToken, Authenticator, User

# What stands in a token's cache entry once a change has ended its copy.
ENDED = "ended"

# The user's fields the API reads from ``request.user`` (permissions, throttles, the
# selectors' "patient or staff"); any other is read from the database when asked for.
CACHED_USER_FIELDS = ("id", "is_superuser", "is_staff", "is_active")
CACHED_TOKEN_FIELDS = ("id", "user_id", "kind", "digest", "auth_hash", "device_id", "expires_at")
# The user's fields whose change can end a token (``User._get_session_auth_hash`` reads
# the password and the sign-out epoch; the authentication checks the flags).
FIELDS_THAT_END_TOKENS = frozenset(
    {"password", "sign_out_epoch", "is_active", "is_staff", "is_superuser"}
)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    *, user: User, kind: ApiToken.Kind, device: Authenticator | None = None
) -> tuple[str, ApiToken]:
    """A new token for ``user`` and its row; the token is returned only here.

    A staff token needs the authenticator ``device`` whose code the caller showed."""
    token = secrets.token_urlsafe(32)
    record = ApiToken.objects.create(
        user=user,
        kind=kind,
        device=device,
        digest=token_digest(token),
        prefix=token[:8],
        auth_hash=user.get_session_auth_hash(),
        expires_at=timezone.now() + dt.timedelta(days=settings.API_TOKEN_LIFETIME_DAYS),
    )
    return token, record


def revoke_token(token: ApiToken) -> None:
    """End ``token`` now. Revoking a revoked token changes nothing."""
    with ending_cached_tokens([token.digest]):
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


# --- The shared cache's copy -----------------------------------------------------------


def _cache_key(digest: str) -> str:
    # Keyed under SECRET_KEY: after a key change no copy made under the old key is found,
    # and the token's auth hash is checked again (and, matching a fallback, renewed).
    return (
        "api-token:"
        + salted_hmac("accounts.api_tokens.cache", digest, algorithm="sha256").hexdigest()
    )


def cached_token(digest: str) -> tuple[User, ApiToken] | None:
    """The user and token of the copy kept for the token of ``digest``, or None (no copy,
    or a change ended it): then the rows decide. The user holds only
    ``CACHED_USER_FIELDS``; reading another field loads it from the database."""
    if settings.API_TOKEN_CACHE_SECONDS <= 0:
        return None
    facts = cache.get(_cache_key(digest))
    if not isinstance(facts, dict):
        return None
    user = User.from_db(
        DEFAULT_DB_ALIAS, CACHED_USER_FIELDS, [facts["user"][name] for name in CACHED_USER_FIELDS]
    )
    token = ApiToken.from_db(
        DEFAULT_DB_ALIAS,
        (*CACHED_TOKEN_FIELDS, "revoked_at"),
        [*(facts["token"][name] for name in CACHED_TOKEN_FIELDS), None],
    )
    token.user = user
    return user, token


def keep_token(record: ApiToken, *, read_at: float) -> None:
    """Keep the facts of ``record`` (just checked, with its user) for the next requests,
    unless an entry is there already (a copy, or a change's marker). ``read_at``: when
    the rows were read (``time.monotonic()``)."""
    seconds = settings.API_TOKEN_CACHE_SECONDS
    until_expiry = (record.expires_at - timezone.now()).total_seconds()
    timeout = int(min(seconds, until_expiry))
    # A marker outlives a copy by ``seconds``: a copy of rows read before a change is
    # only written while the marker that change wrote is surely still there.
    if timeout < 1 or time.monotonic() - read_at >= seconds:
        return
    user = record.user
    facts: dict[str, Any] = {
        "token": {name: getattr(record, name) for name in CACHED_TOKEN_FIELDS},
        "user": {name: getattr(user, name) for name in CACHED_USER_FIELDS},
    }
    cache.add(_cache_key(record.digest), facts, timeout)


def end_cached_tokens(digests: Iterable[str]) -> None:
    """Replace the copies of these tokens with markers: their next request reads the rows."""
    keys = [_cache_key(digest) for digest in digests]
    if keys:
        cache.set_many(dict.fromkeys(keys, ENDED), 2 * max(settings.API_TOKEN_CACHE_SECONDS, 1))


def digests_of(user_id: int) -> list[str]:
    return list(ApiToken.objects.filter(user_id=user_id).values_list("digest", flat=True))


class ending_cached_tokens:
    """Around a change that ends tokens: markers for ``digests`` (or for every token of
    ``user_id``, read again after the commit, so that a token issued meanwhile is
    included) before the change, and again once it commits (at once outside a
    transaction). The markers before cover the time until the commit; those after, any
    copy written from rows read before it."""

    def __init__(self, digests: Iterable[str] = (), *, user_id: int | None = None) -> None:
        self.digests = list(digests)
        self.user_id = user_id

    def _all(self) -> list[str]:
        return self.digests + (digests_of(self.user_id) if self.user_id is not None else [])

    def __enter__(self) -> None:
        end_cached_tokens(self._all())

    def __exit__(self, *_exc: object) -> None:
        transaction.on_commit(lambda: end_cached_tokens(self._all()))


# --- Signal receivers (accounts/apps.py): changes made anywhere (the admin, a form) ------


def end_tokens_before_user_change(
    sender: type[User], instance: User, update_fields: Iterable[str] | None = None, **_: Any
) -> None:
    if instance.pk is not None and _may_end_tokens(update_fields):
        end_cached_tokens(digests_of(instance.pk))


def end_tokens_after_user_change(
    sender: type[User],
    instance: User,
    created: bool = False,
    update_fields: Iterable[str] | None = None,
    **_: Any,
) -> None:
    if not created and _may_end_tokens(update_fields):
        user_id = instance.pk
        transaction.on_commit(lambda: end_cached_tokens(digests_of(user_id)))


def _may_end_tokens(update_fields: Iterable[str] | None) -> bool:
    # A save of named fields (the last sign-in, the language) keeps the tokens' copies.
    return update_fields is None or not FIELDS_THAT_END_TOKENS.isdisjoint(update_fields)


def end_token_before_delete(sender: type[ApiToken], instance: ApiToken, **_: Any) -> None:
    end_cached_tokens([instance.digest])


def end_token_after_delete(sender: type[ApiToken], instance: ApiToken, **_: Any) -> None:
    digest = instance.digest
    transaction.on_commit(lambda: end_cached_tokens([digest]))
