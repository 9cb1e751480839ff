"""The audit trail is append-only (docs/security.md, "Audit trail").

History rows (django-simple-history's ``Historical*`` tables) are written, never changed
or deleted: on PostgreSQL a trigger on each history table refuses UPDATE and DELETE
(migration ``appointments/0007_history_append_only``), and no page, API or admin view
offers either. Three jobs must rewrite stored history, each in its own transaction inside
``rewriting_history()``, which lifts the trigger for that transaction only:

- ``rotate_encryption_keys`` re-encrypts the encrypted columns, text unchanged;
- erasing a patient (``appointments.erasure``) blanks their reasons in the history copies;
- ``seed_demo --reset`` removes demo data, and only demo data.

The same flag lets a user who appears in the audit trail be deleted (``accounts`` refuses
otherwise: deactivate them instead), which only the demo reset does.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

# A PostgreSQL setting of our own, read by the trigger; SET LOCAL, so it ends with the
# transaction (and with PgBouncer in transaction mode, never leaks to another client).
REWRITE_SETTING = "clinic.history_rewrite"

_state = threading.local()


@contextmanager
def rewriting_history() -> Iterator[None]:
    """A transaction in which history rows may be rewritten or deleted."""
    with transaction.atomic():
        _set(on=True)
        previous = getattr(_state, "rewriting", False)
        _state.rewriting = True
        try:
            yield
        finally:
            _state.rewriting = previous
            # Inside an outer transaction the setting would outlive this block.
            if not connection.needs_rollback:
                _set(on=False)


def _set(*, on: bool) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config(%s, %s, true)", [REWRITE_SETTING, "on" if on else "off"]
            )


def is_rewriting_history() -> bool:
    return bool(getattr(_state, "rewriting", False))
