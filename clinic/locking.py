"""Row locks with bounded waits: the one place the services take their locks.

pretix keeps its locking in one module (``base/services/locking.py``) so that every lock
is taken the same way; so do we. The rules:

- A service that locks rows runs in ``locking.atomic()`` and takes each lock with
  ``locking.lock(queryset)``, in the order its docstring states (patient, then doctor,
  then appointment: see ``appointments.services``).
- No lock wait is endless. On PostgreSQL ``lock`` sets ``lock_timeout`` for the rest of the
  transaction (``settings.DB_LOCK_TIMEOUT_MS``, 3 s by default) before it waits; a lock not
  granted by then, or a deadlock PostgreSQL broke by cancelling us, ends the transaction
  and ``atomic`` raises ``Busy``: "busy, try again", a 409 with ``Retry-After`` in the API
  and a message on the page, never a hang or a 500. On SQLite there are no row locks: the
  IMMEDIATE transaction mode takes the database's write lock at BEGIN, waiting up to the
  connection's ``timeout``, and a wait that runs out is ``Busy`` too.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext_lazy as _

from clinic.errors import DomainError

# SQLSTATEs of a lock wait PostgreSQL gave up: lock_not_available (lock_timeout) and
# deadlock_detected.
LOCK_WAIT_SQLSTATES = frozenset({"55P03", "40P01"})


class Busy(DomainError):
    """A lock was not granted in time: someone else is changing the same thing."""

    code = "busy"
    http_status = 409
    default_message = _(
        "Someone else is changing this at the same moment. Please try again in a few seconds."
    )

    def __init__(self, message: str | None = None, *, retry_after: int | None = 1) -> None:
        super().__init__(message, retry_after=retry_after)


@contextmanager
def atomic() -> Iterator[None]:
    """``transaction.atomic()``, in which a lock wait that ran out becomes ``Busy``."""
    try:
        with transaction.atomic():
            yield
    except DatabaseError as error:
        if is_lock_wait_error(error):
            raise Busy() from error
        raise


def lock_one[M: Model](rows: QuerySet[M, Any]) -> M:
    """Lock the one row of ``rows`` (``SELECT ... FOR UPDATE OF`` the model's own table,
    never the rows of joined tables) for the rest of the transaction, waiting at most the
    lock timeout, and return it (``DoesNotExist`` when there is none). Call inside
    ``atomic()``."""
    set_lock_timeout()
    return _locked(rows)


def lock_in_order(*row_sets: QuerySet[Any, Any]) -> list[Any]:
    """``lock_one`` for each of ``row_sets``, in the order given, with the lock timeout
    set once for all of them (one statement less for each lock after the first)."""
    set_lock_timeout()
    return [_locked(rows) for rows in row_sets]


def _locked[M: Model](rows: QuerySet[M, Any]) -> M:
    row: M = rows.select_for_update(of=("self",)).get()
    return row


def set_lock_timeout() -> None:
    """Bound every lock wait of the current transaction (PostgreSQL; SQLite's wait is
    bounded by the connection's ``timeout``). ``SET LOCAL``: it ends with the transaction,
    so a pooled connection (PgBouncer in transaction mode) carries nothing over."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", [f"{settings.DB_LOCK_TIMEOUT_MS}ms"]
        )


def is_lock_wait_error(error: BaseException) -> bool:
    """Whether ``error`` is a database's "I stopped waiting for a lock"."""
    cause = getattr(error, "__cause__", None)
    sqlstate = getattr(cause, "sqlstate", None) or getattr(error, "sqlstate", None)
    if sqlstate in LOCK_WAIT_SQLSTATES:
        return True
    # SQLite's busy timeout ran out (sqlite3.OperationalError, wrapped by Django).
    return connection.vendor == "sqlite" and "database is locked" in str(error)
