"""Issuing and revoking bearer tokens, and the shared cache's copy of a verified token.

The copy (``API_TOKEN_CACHE_SECONDS``, docs/performance.md "The API token kept"): once a
request has checked a token against its row and its user's, the facts those checks read
go to the shared cache for at most that long, so the next requests with the same token
read neither row. Only facts that name nobody: the token's id, kind, expiry, device and
auth hash, its user's id and flags; never an email or a name.

Ending a token must take effect on the very next request, so every change that ends
one (revoking, deleting it or its authenticator or its user, a password change, an
account made staff or no longer staff or inactive, "sign out everywhere") writes an
"ended" marker over the token's entry: accounts/kept_copies.py, which the session's
copies (accounts/session_users.py) share, says how.
"""

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

# ENDED under this module's name too: what stands in a token's entry once it has ended.
from accounts.kept_copies import ENDED as ENDED
from accounts.kept_copies import KeptCopies, ending, user_facts, user_from_facts
from accounts.models import ApiToken, Authenticator, User

CACHED_TOKEN_FIELDS = ("id", "user_id", "kind", "digest", "auth_hash", "device_id", "expires_at")
TOKEN_COPIES = KeptCopies(
    prefix="api-token:", salt="accounts.api_tokens.cache", seconds_setting="API_TOKEN_CACHE_SECONDS"
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
    return TOKEN_COPIES.key(digest)


def cached_token(digest: str) -> tuple[User, ApiToken] | None:
    """The user and token of the copy kept for the token of ``digest``, or None (no copy,
    or a change ended it): then the rows decide. The user holds only the kept fields
    (``accounts.kept_copies.CACHED_USER_FIELDS``); reading another loads it."""
    facts = TOKEN_COPIES.get(digest)
    if facts is None:
        return None
    user = user_from_facts(facts["user"])
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
    facts: dict[str, Any] = {
        "token": {name: getattr(record, name) for name in CACHED_TOKEN_FIELDS},
        "user": user_facts(record.user),
    }
    until_expiry = (record.expires_at - timezone.now()).total_seconds()
    TOKEN_COPIES.keep(record.digest, facts, read_at=read_at, at_most=until_expiry)


def end_cached_tokens(digests: Iterable[str]) -> None:
    """Replace the copies of these tokens with markers: their next request reads the rows."""
    TOKEN_COPIES.end(digests)


def digests_of(user_id: int) -> list[str]:
    return list(ApiToken.objects.filter(user_id=user_id).values_list("digest", flat=True))


def ending_cached_tokens(digests: Iterable[str]) -> ending:
    """Around a change that ends these tokens: their markers before it and after its
    commit (``accounts.kept_copies.ending``)."""
    digests = list(digests)
    return ending(lambda: end_cached_tokens(digests))


# --- Signal receivers (accounts/apps.py): changes made anywhere (the admin, a form) ------
# The user's own changes end its tokens with its sessions' copies: accounts/session_users.py.


def end_token_before_delete(sender: type[ApiToken], instance: ApiToken, **_: Any) -> None:
    end_cached_tokens([instance.digest])


def end_token_after_delete(sender: type[ApiToken], instance: ApiToken, **_: Any) -> None:
    digest = instance.digest
    transaction.on_commit(lambda: end_cached_tokens([digest]))
