"""Issuing and revoking bearer tokens."""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.utils import timezone

from accounts.models import ApiToken, Authenticator, User


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
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
