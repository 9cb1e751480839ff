"""The signed-in user of a session, and the device that verified it, from the shared cache.

With sessions in Redis (``SESSION_ENGINE`` ``cached_db``), what a signed-in page still read
from the database was its user (Django's ``AuthenticationMiddleware``: one query) and, on
the pages that ask whether the session is verified, the OTP device (accounts/otp.py). Once
a request has checked a session against those rows, the facts the checks read are kept in
the shared cache for ``SESSION_USER_CACHE_SECONDS``, as the API keeps a token's
(accounts/api_tokens.py), through the same machinery (accounts/kept_copies.py):

- the user's: its id, ``is_active``, ``is_staff``, ``is_superuser`` and its session auth
  hash (an HMAC of the password hash and the sign-out epoch under SECRET_KEY), under a key
  made from the user's id; never an email or a name. The next request's
  ``request.user`` is built from them with every other field deferred (read from the
  database if a page asks for it).
- the device's: its id, user and ``confirmed``, under its table and id.

Django's session verification still holds: the session's ``HASH_SESSION_KEY`` must equal
the kept auth hash, else the request goes Django's own way (``auth.get_user``: the row,
the current hash, the fallback keys, a flush). Every change that ends what a copy says
writes a marker over it before it commits and after: the user's password, sign-out epoch
or flags changed, the user deleted (the signals below, and ``ending_sign_ins_of`` around
the services' queryset updates); a device saved or deleted. The next request then reads
the rows. Without Redis the setting is 0 and nothing is kept: the database cache would
only move the query to another table.
"""

import time
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.db import DEFAULT_DB_ALIAS, transaction
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from django_otp.models import Device

from accounts import api_tokens
from accounts.kept_copies import KeptCopies, ending, may_end_sign_ins, user_facts, user_from_facts
from accounts.models import User

SESSION_USERS = KeptCopies(
    prefix="session-user:",
    salt="accounts.session_users.user",
    seconds_setting="SESSION_USER_CACHE_SECONDS",
)
VERIFIED_DEVICES = KeptCopies(
    prefix="session-device:",
    salt="accounts.session_users.device",
    seconds_setting="SESSION_USER_CACHE_SECONDS",
)
CACHED_DEVICE_FIELDS = ("id", "user_id", "confirmed")


class SessionUserMiddleware(AuthenticationMiddleware):
    """Django's ``AuthenticationMiddleware`` with ``request.user`` from the kept copy
    when there is one (``session_user``); ``request.auser`` stays Django's."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: session_user(request))  # type: ignore[assignment]


def session_user(request: HttpRequest) -> User | AnonymousUser:
    """The session's user: from the copy when it verifies the session (its auth hash is
    the session's), else as Django reads it, keeping a copy of what verified it."""
    session = request.session
    user_id = session.get(SESSION_KEY)
    if user_id is None or SESSION_USERS.seconds <= 0:
        return auth.get_user(request)
    facts = SESSION_USERS.get(str(user_id))
    session_hash = session.get(HASH_SESSION_KEY)
    if (
        facts is not None
        and session.get(BACKEND_SESSION_KEY) in settings.AUTHENTICATION_BACKENDS
        and session_hash
        and constant_time_compare(session_hash, facts["auth_hash"])
    ):
        return user_from_facts(facts["user"])
    read_at = time.monotonic()
    user = auth.get_user(request)
    if isinstance(user, User) and user.is_active:
        auth_hash = user.get_session_auth_hash()
        # get_user renewed a hash made under a fallback key; a session it refused is
        # anonymous, and a copy is only of a hash the session holds.
        if constant_time_compare(session.get(HASH_SESSION_KEY) or "", auth_hash):
            SESSION_USERS.keep(
                str(user.pk),
                {"user": user_facts(user), "auth_hash": auth_hash},
                read_at=read_at,
            )
    return user


# --- The verified device (accounts/otp.py asks) ------------------------------------------


def _device_model_and_identity(persistent_id: str) -> tuple[type[Device], str] | None:
    """The model a persistent id (``app.model/id``) names and the identity of its copy:
    the concrete table and the id, the same for a proxy (SignInCode) and its model."""
    try:
        label, device_id = persistent_id.rsplit("/", 1)
        model = apps.get_model(label)
        number = int(device_id)
    except (ValueError, LookupError):
        return None
    if not issubclass(model, Device):
        return None
    return model, f"{model._meta.concrete_model._meta.label_lower}/{number}"


def _device_identity(device: Device) -> str:
    return f"{device._meta.concrete_model._meta.label_lower}/{device.pk}"


def kept_device(persistent_id: str) -> Device | None:
    """The device of the copy kept for ``persistent_id``, holding only
    ``CACHED_DEVICE_FIELDS``, or None: then the row decides."""
    found = _device_model_and_identity(persistent_id)
    if found is None:
        return None
    model, identity = found
    facts = VERIFIED_DEVICES.get(identity)
    if facts is None:
        return None
    device: Device = model.from_db(
        DEFAULT_DB_ALIAS, CACHED_DEVICE_FIELDS, [facts[name] for name in CACHED_DEVICE_FIELDS]
    )
    return device


def keep_device(device: Device, *, read_at: float) -> None:
    """Keep the facts of ``device``, which has just verified a session."""
    facts = {name: getattr(device, name) for name in CACHED_DEVICE_FIELDS}
    VERIFIED_DEVICES.keep(_device_identity(device), facts, read_at=read_at)


# --- Ending the copies -------------------------------------------------------------------


def end_session_users(user_ids: Iterable[int]) -> None:
    """Replace the copies of these users with markers: their next request reads the row."""
    SESSION_USERS.end(str(user_id) for user_id in user_ids)


def end_verified_devices(devices: Iterable[Device]) -> None:
    VERIFIED_DEVICES.end(_device_identity(device) for device in devices)


def end_sign_ins_of(user_id: int) -> None:
    """Markers over every copy that says ``user_id`` is signed in: its sessions' and its
    tokens' (accounts/api_tokens.py)."""
    end_session_users([user_id])
    api_tokens.end_cached_tokens(api_tokens.digests_of(user_id))


def ending_sign_ins_of(user_id: int) -> ending:
    """Around a change of ``user_id`` that no signal announces (a queryset ``update()``):
    the markers before it and after its commit (``accounts.kept_copies.ending``)."""
    return ending(lambda: end_sign_ins_of(user_id))


# --- Signal receivers (accounts/apps.py): changes made anywhere (the admin, a form) ------


def end_before_user_change(
    sender: type[User], instance: User, update_fields: Iterable[str] | None = None, **_: Any
) -> None:
    if instance.pk is not None and may_end_sign_ins(update_fields):
        end_sign_ins_of(instance.pk)


def end_after_user_change(
    sender: type[User],
    instance: User,
    created: bool = False,
    update_fields: Iterable[str] | None = None,
    **_: Any,
) -> None:
    if not created and may_end_sign_ins(update_fields):
        user_id = instance.pk
        transaction.on_commit(lambda: end_sign_ins_of(user_id))


def end_before_user_delete(sender: type[User], instance: User, **_: Any) -> None:
    end_session_users([instance.pk])


def end_after_user_delete(sender: type[User], instance: User, **_: Any) -> None:
    user_id = instance.pk
    transaction.on_commit(lambda: end_session_users([user_id]))


def end_before_device_change(sender: type[Device], instance: Device, **_: Any) -> None:
    # Any save: a code checked or sent saves the device too, which is rare enough.
    if instance.pk is not None:
        end_verified_devices([instance])


def end_after_device_change(sender: type[Device], instance: Device, **_: Any) -> None:
    identity = _device_identity(instance)
    transaction.on_commit(lambda: VERIFIED_DEVICES.end([identity]))
