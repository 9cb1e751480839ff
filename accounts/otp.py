"""Which device verified the session, loaded only when something asks (docs/performance.md).

django-otp's ``OTPMiddleware`` loads the device named in the session (a query) as soon as
anything touches ``request.user``, on every signed-in request, although only the pages
behind ``patient_required`` or ``staff_required``, the admin and the staff header ask
whether the session is verified. The doctor list, a doctor's week and the search, the
most frequent pages, never do. Here the device is loaded on the first
``user.is_verified()`` or ``verified_device(user)`` and kept for the rest of the request:
the same check against the same row, made when it is needed, and never skipped when it
is. Until it is made, ``user.otp_device`` is None, which means "not verified": code that
read the attribute without asking would refuse, never let in.

With ``SESSION_USER_CACHE_SECONDS`` the device that verified a session is kept in the
shared cache (its id, user and ``confirmed``: accounts/session_users.py), so the next
requests make the same checks against the copy; saving or deleting the device ends it.
"""

import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware as DjangoOTPMiddleware
from django_otp.models import Device

from accounts.session_users import keep_device, kept_device

# Where the loader waits on the user object until the first question.
_LOADER = "_otp_device_loader"


class OTPMiddleware(DjangoOTPMiddleware):  # type: ignore[misc]  # django-otp is untyped
    """django-otp's middleware with the device loaded on demand (see the module)."""

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        self._init_user_fields(user)
        if user.is_authenticated and request.session.get(DEVICE_ID_SESSION_KEY):

            def load() -> Device | None:
                # The session's id when asked: a sign-in in this request (django_otp.login)
                # has put its own device there and on the user already.
                persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
                if not persistent_id:
                    return self._finalize_device(request, user, None)
                device = kept_device(self._normalize_persistent_id(persistent_id))
                if device is not None:
                    return self._finalize_device(request, user, device)
                read_at = time.monotonic()
                device = self._finalize_device(
                    request, user, self._device_from_persistent_id(persistent_id)
                )
                if device is not None:
                    keep_device(device, read_at=read_at)
                return device

            setattr(user, _LOADER, load)
            user.is_verified = lambda: verified_device(user) is not None
        return user


def verified_device(user: Any) -> Device | None:
    """The device that verified ``user``'s session (None: not verified), loading it on
    the first question of the request."""
    # getattr and delattr, not __dict__: ``user`` may be a lazy object standing for it.
    load: Callable[[], Device | None] | None = getattr(user, _LOADER, None)
    if load is not None:
        delattr(user, _LOADER)
        user.otp_device = load()
    device: Device | None = getattr(user, "otp_device", None)
    return device
