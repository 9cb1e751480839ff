"""Reads from read replicas, with read-your-writes (docs/pooling-and-replicas.md).

Active only when ``DATABASE_REPLICA_URLS`` names replicas (``settings.DATABASE_REPLICAS``
lists their aliases); without them ``clinic.settings`` installs neither the router nor
the middleware, and every query goes to ``default`` as before.

How a read chooses its database, first rule that applies:

1. A model that must never be read stale (sessions, API tokens, the cache table, the
   task queue) reads the primary: a sign-out or a revoked token takes effect at once, a
   rate-limit count is never an old one, a task is never handed out twice.
2. Inside a transaction on the primary (``atomic()``: every booking, cancel and
   reschedule service, every ``select_for_update``) the read goes to the primary, so a
   service's checks read what its locks protect: the selectors it calls need not know.
3. A request pinned to the primary (``PrimaryPinMiddleware``) reads the primary: any
   write request (POST, PUT, PATCH, DELETE), and for ``REPLICA_PIN_SECONDS`` after one,
   every request from the same browser or client (a signed cookie says until when).
4. Otherwise: one of the replicas, at random.

Writes always go to the primary, and migrations run only there (a replica is read-only
and receives the schema through replication).
"""

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

# "app_label.model_name" of the models only the primary answers.
PRIMARY_ONLY_MODELS = frozenset(
    {
        "sessions.session",
        "accounts.apitoken",
        "django_cache.cacheentry",
        "django_q.ormq",
        "django_q.task",
        "django_q.schedule",
        "django_q.success",
        "django_q.failure",
    }
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
PIN_COOKIE = "primary_pin"
PIN_SALT = "clinic.db_router.primary_pin"

# Whether the current request (or task) reads the primary: a context variable, so that
# each thread of a threaded server and each task sees only its own.
_pinned: ContextVar[bool] = ContextVar("clinic_primary_pinned", default=False)


@contextmanager
def pinned_to_primary() -> Iterator[None]:
    """Every read inside the block goes to the primary (``PrimaryPinMiddleware`` uses it
    for pinned requests; code outside a request may use it too)."""
    token = _pinned.set(True)
    try:
        yield
    finally:
        _pinned.reset(token)


def reads_primary() -> bool:
    """Whether a read made now goes to the primary whatever the model (rules 2 and 3)."""
    return _pinned.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block


class PrimaryReplicaRouter:
    """The rules of the module docstring, for the aliases in ``settings.DATABASE_REPLICAS``."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        replicas: list[str] = settings.DATABASE_REPLICAS
        # Not _meta.label_lower: the database cache's model has a stand-in _meta with
        # only app_label and model_name.
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        if not replicas or label in PRIMARY_ONLY_MODELS or reads_primary():
            return DEFAULT_DB_ALIAS
        instance = hints.get("instance")
        if instance is not None and instance._state.db in replicas:
            # A related object of a row read from a replica: the same replica, so that
            # the two agree with each other.
            return str(instance._state.db)
        # Not a secret or a security decision: any replica will do.
        return random.choice(replicas)  # noqa: S311

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replicas hold the primary's data: one database, many copies

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


class PrimaryPinMiddleware:
    """Read-your-writes: a write request reads the primary, and so does every request of
    the same client for ``settings.REPLICA_PIN_SECONDS`` after it (longer than the
    replicas' lag is expected to be). The pin is a signed, timestamped cookie, so that
    it holds across web processes and machines with nothing stored; a client that keeps
    no cookies (a bare API script) is pinned only during its writes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        writes = request.method not in SAFE_METHODS
        if writes or self.has_pin(request):
            with pinned_to_primary():
                response = self.get_response(request)
        else:
            response = self.get_response(request)
        if writes and settings.REPLICA_PIN_SECONDS > 0:
            response.set_signed_cookie(
                PIN_COOKIE,
                "1",
                salt=PIN_SALT,
                max_age=settings.REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def has_pin(self, request: HttpRequest) -> bool:
        if settings.REPLICA_PIN_SECONDS <= 0 or PIN_COOKIE not in request.COOKIES:
            return False
        try:
            # The timestamp is signed too: an old cookie replayed past its window fails.
            request.get_signed_cookie(
                PIN_COOKIE, salt=PIN_SALT, max_age=settings.REPLICA_PIN_SECONDS
            )
        except signing.BadSignature:
            return False
        return True
