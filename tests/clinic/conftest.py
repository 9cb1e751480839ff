"""A database that stops answering, for the tests of what the site says then."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

from tests.conftest import free_port


@contextmanager
def database_unreachable() -> Iterator[None]:
    """Inside, every connection to the database is refused, as when its server is down:
    PostgreSQL's address becomes a port nobody listens on, SQLite's file one that cannot
    be opened. Needs a transactional test, so that no test transaction holds the
    connection; afterwards the next use reconnects with the real settings."""
    settings = connection.settings_dict
    saved = {key: settings[key] for key in ("HOST", "PORT", "NAME")}
    connection.close()
    if connection.vendor == "postgresql":
        settings.update(HOST="127.0.0.1", PORT=str(free_port()))
    else:
        settings["NAME"] = "/nonexistent/clinic.sqlite3"
    try:
        yield
    finally:
        connection.close()
        settings.update(saved)


@pytest.fixture
def database_down(transactional_db) -> Iterator[None]:
    with database_unreachable():
        yield
