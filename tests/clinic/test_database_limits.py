"""Every PostgreSQL connection starts with a statement, lock and idle-transaction
timeout (clinic/settings.py; tests/clinic/test_settings.py checks how the environment
sets them)."""

import pytest
from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return str(cursor.fetchone()[0])


def test_the_connection_has_the_configured_timeouts():
    assert setting("statement_timeout") == "30s"
    assert setting("lock_timeout") == "10s"
    assert setting("idle_in_transaction_session_timeout") == "1min"
