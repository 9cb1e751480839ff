"""Run callables at the same moment, each in its own thread with its own connection.

Every race test goes through :func:`run_together`. Each thread opens its database
connection *before* the start barrier, so the race itself measures the application and
not the server's connection limit: when a shared PostgreSQL is briefly full ("too many
clients"), a thread waits for a free connection instead of failing the test, and the race
starts only once every racer is connected.
"""

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from django.db import OperationalError, connection, connections

CONNECT_PATIENCE = 90.0  # seconds a racer waits for a free database connection
START_PATIENCE = CONNECT_PATIENCE + 30.0


def connect_patiently(patience: float = CONNECT_PATIENCE) -> None:
    """Open this thread's connection, waiting while the server has no free slot."""
    deadline = time.monotonic() + patience
    while True:
        try:
            connection.ensure_connection()
            return
        except OperationalError as error:
            if not _server_full(error) or time.monotonic() > deadline:
                raise
            connection.close()
            time.sleep(0.2)


def _server_full(error: OperationalError) -> bool:
    # "too many clients already"; a role that is not a superuser meets the slots kept
    # for superusers first: "remaining connection slots are reserved ...".
    message = str(error)
    return "too many clients" in message or "connection slots are reserved" in message


def run_together[T](attempts: Sequence[Callable[[], T]]) -> list[T]:
    """Run every attempt at once and return their results in order.

    An exception in an attempt propagates, so callers turn expected refusals into
    outcomes themselves.
    """
    barrier = threading.Barrier(len(attempts))

    def run(attempt: Callable[[], T]) -> T:
        try:
            try:
                connect_patiently()
            except BaseException:
                barrier.abort()  # the others stop waiting for this racer at once
                raise
            barrier.wait(timeout=START_PATIENCE)
            return attempt()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(run, attempts))
