"""How long a web session lasts (docs/security.md, "Sessions").

A session ends after a time without requests (``STAFF_SESSION_IDLE_SECONDS``, 30 minutes,
for staff; ``PATIENT_SESSION_IDLE_SECONDS`` for patients) and, whatever the activity,
``SESSION_ABSOLUTE_SECONDS`` after the sign-in. The next request finds its user signed
out and is treated as anonymous: a page that needs a sign-in asks for it again, with a
message saying why.
"""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

SIGNED_IN_AT = "signed_in_at"
LAST_SEEN = "last_seen"
# The last-seen time is written at most this often: a session write on every request
# would cost every page a database write.
LAST_SEEN_RESOLUTION = 60


def stamp_sign_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: the session's lifetime starts now."""
    now = time.time()
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now


class SessionTimeoutMiddleware:
    """Signs out a session idle too long or older than the absolute lifetime. After the
    authentication (and OTP) middleware, so that ``request.user`` is known."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            session = request.session
            signed_in_at = session.get(SIGNED_IN_AT, now)
            last_seen = session.get(LAST_SEEN, now)
            idle = (
                settings.STAFF_SESSION_IDLE_SECONDS
                if user.is_staff
                else settings.PATIENT_SESSION_IDLE_SECONDS
            )
            if now - last_seen > idle or now - signed_in_at > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after a while without activity. Please sign in again."),
                )
            elif now - last_seen > LAST_SEEN_RESOLUTION or SIGNED_IN_AT not in session:
                session[LAST_SEEN] = now
                session.setdefault(SIGNED_IN_AT, now)
        return self.get_response(request)
