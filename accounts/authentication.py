"""``Authorization: Bearer <token>`` for the JSON API."""

import time

from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.api_tokens import cached_token, keep_token, token_digest
from accounts.models import ApiToken, User


class BearerTokenAuthentication(BaseAuthentication):
    """Accepts a token issued by ``accounts.api_tokens.issue_token`` that has neither
    expired nor been revoked, of an active user. No header means anonymous; a bad
    token is a 401, never silently anonymous."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as `Authorization: Bearer <token>`."
            )
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed("The token is not valid.") from error
        digest = token_digest(token)
        found = cached_token(digest)
        if found is None:
            user, record = self._checked_against_the_rows(digest)
        else:
            user, record = found
        # Checked again on a kept copy: the copy ends when the token does, but a token
        # must not outlive its expiry by a second either.
        if record.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("The token has expired. Sign in again.")
        # A patient token for an account made staff since gives no staff powers, and
        # a staff token for an account no longer staff gives none either.
        if (record.kind == ApiToken.Kind.STAFF) != user.is_staff:
            raise exceptions.AuthenticationFailed("The token is not valid for this account.")
        return user, record

    def _checked_against_the_rows(self, digest: str) -> tuple[User, ApiToken]:
        """The token's row and its user's, checked; a valid one is kept in the shared
        cache for the next requests (``accounts.api_tokens.keep_token``)."""
        read_at = time.monotonic()
        record = (
            ApiToken.objects.select_related("user")
            .filter(digest=digest, revoked_at__isnull=True)
            .first()
        )
        if record is None or not record.user.is_active:
            raise exceptions.AuthenticationFailed("The token is not valid or was revoked.")
        if record.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed("The token has expired. Sign in again.")
        if not _auth_hash_is_current(record):
            raise exceptions.AuthenticationFailed(
                "The token no longer works: the password (or the server's secret key) "
                "changed since it was issued. Sign in again."
            )
        if (record.kind == ApiToken.Kind.STAFF) == record.user.is_staff:
            keep_token(record, read_at=read_at)
        return record.user, record

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


def _auth_hash_is_current(record: ApiToken) -> bool:
    """The token's auth hash is the user's, under the secret key or (as Django does for
    sessions, during a key rotation) one of ``SECRET_KEY_FALLBACKS``; a token that matched
    a fallback is brought onto the current key, so it outlives the rotation."""
    user = record.user
    current = user.get_session_auth_hash()
    if constant_time_compare(record.auth_hash, current):
        return True
    if any(
        constant_time_compare(record.auth_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    ):
        ApiToken.objects.filter(pk=record.pk).update(auth_hash=current)
        record.auth_hash = current  # and so in the copy kept for the next requests
        return True
    return False
