import datetime as dt

import pytest
import time_machine
from django.db import connection

# A Wednesday well inside the clinic's hours; tests that book freeze time here so that
# "next Monday 10:00" is always bookable (past the notice, within the horizon).
FROZEN_NOW = dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` need real row locks and exclusion constraints. On SQLite
    they are deselected (not skipped) and the summary says so; .ci/run and ``make test``
    run the whole suite on PostgreSQL too."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    postgres_only = [item for item in items if item.get_closest_marker("postgres")]
    if postgres_only:
        config.hook.pytest_deselected(items=postgres_only)
        items[:] = [item for item in items if not item.get_closest_marker("postgres")]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    # Under xdist the deselection happens in the workers, so say it without a count.
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        terminalreporter.write_line(
            "Tests marked `postgres` (races, row locks) do not run on SQLite; "
            "`make test-postgres` (or DATABASE_URL=postgres://...) runs them.",
            yellow=True,
        )


@pytest.fixture
def frozen_now():
    with time_machine.travel(FROZEN_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"
