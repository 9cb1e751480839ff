"""The control's web app (tests/scale_out/test_pgbouncer.py): the app, with the
idempotency in-flight lock replaced by the mistake the real one avoids, a session-level
advisory lock released after the transaction.

Directly on PostgreSQL that works: the lock belongs to the connection, which is this
process's. Through PgBouncer in transaction pooling mode it belongs to whichever server
connection ran the transaction; the unlock, a transaction of its own, may run on another
server connection (it fails there, with a warning), so the lock stays on the first one,
and every later request with the key that lands on another server connection is told
"still in flight" although nothing runs.
"""

import hashlib

from django.db import connection, transaction

# First the app (it sets Django up), then the module to change.
from clinic.wsgi import application  # isort: skip
from clinic.api import idempotency  # isort: skip

__all__ = ["application"]


def _lock_id(user_id: int, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _unlock(lock_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])


def session_level_lock(user_id: int, key: str) -> bool:
    lock_id = _lock_id(user_id, key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_id])
        row = cursor.fetchone()
    taken = bool(row and row[0])
    if taken:
        transaction.on_commit(lambda: _unlock(lock_id))
    return taken


idempotency._lock = session_level_lock
