"""The accounts app's part of the worker's daily purge (schedule in migration 0010)."""

import datetime as dt
import logging

from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import purge_pending_accounts

logger = logging.getLogger(__name__)

# An expired or revoked token is kept this long for the admin's view, then deleted.
ENDED_TOKENS_KEPT = dt.timedelta(days=30)


def purge_expired() -> dict[str, int]:
    """Delete what has ended: expired sessions, API tokens ended a month ago, and the
    pending accounts of addresses that never signed in. Safe to run any number of times."""
    now = timezone.now()
    sessions, _by_model = Session.objects.filter(expire_date__lt=now).delete()
    cutoff = now - ENDED_TOKENS_KEPT
    tokens, _by_model = (
        ApiToken.objects.filter(expires_at__lt=cutoff)
        | ApiToken.objects.filter(revoked_at__lt=cutoff)
    ).delete()
    accounts = purge_pending_accounts(now)
    purged = {"sessions": sessions, "api_tokens": tokens, "pending_accounts": accounts}
    logger.info("Purged %s", purged)
    return purged
