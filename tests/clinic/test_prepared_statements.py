"""On PostgreSQL without a pooler, a query a connection runs again and again is prepared
on it, so that PostgreSQL plans it once (clinic/settings.py, DB_PREPARED_STATEMENTS;
docs/performance.md, "Prepared statements")."""

import pytest
from django.db import connection

from scheduling.models import Doctor

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def prepared_here() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        row = cursor.fetchone()
    return int(row[0])


def test_a_query_run_five_times_is_prepared_on_its_connection():
    before = prepared_here()

    for _ in range(6):
        Doctor.objects.filter(pk=1, is_active=True).exists()

    assert prepared_here() > before
