import datetime as dt
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.db import connection

# A Wednesday well inside the clinic's hours; tests that book freeze time here so that
# "next Monday 10:00" is always bookable (past the notice, within the horizon).
FROZEN_NOW = dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Hashing the factories' staff passwords with PBKDF2's full cost took seconds per
    # test on two cores; what is tested is who may sign in, not the hash's strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture(autouse=True)
def no_language_left_active() -> Iterator[None]:
    """Each test starts in the default language. A request in German leaves German active
    in the thread (LocaleMiddleware activates a language and never deactivates it), and
    a later test's code outside a request (a command, an email, a feed) would speak it."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def no_shell_left_from_another_test() -> None:
    """What each process keeps of the page shell (clinic/templatetags/memo.py) and the
    catalogue (scheduling/selectors.py) is made again for each test: a test's clinics
    and doctors are rolled back without the signals that would drop them."""
    from django.core.cache import caches

    from clinic.templatetags.memo import forget_all
    from scheduling.selectors import forget_catalogue, forget_listing_counts

    forget_all()
    forget_catalogue()
    forget_listing_counts()
    caches["process"].clear()


@pytest.fixture
def frozen_now():
    with time_machine.travel(FROZEN_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def fresh_rate_limits() -> None:
    """No rate-limit counts: they live in the shared cache (Redis, or the database cache
    table), which outlives a test and its transaction. For tests that sign in."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def redis_url() -> str:
    """A Redis database of the tests' own (``TEST_REDIS_URL``, default number 13 on the
    local server), so that a test's queue meets no other. A test that needs Redis fails,
    never skips, when there is none: ``make test`` and CI check for it first."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        pytest.fail(f"This test needs Redis, and it is not reachable at {url}: {error}")
    return url


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass
class Inbox:
    """An aiosmtpd handler that keeps every envelope it accepts."""

    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1, in a thread of this process."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(host=controller.hostname, port=controller.port, inbox=inbox)
    finally:
        controller.stop()


@pytest.fixture
def sms_gateway(settings) -> Iterator[Any]:
    """A local SMS gateway (tests/sms_gateway.py) that the settings send text messages to."""
    from tests.sms_gateway import running_gateway

    with running_gateway() as gateway:
        settings.SMS_BACKEND = "http"
        settings.SMS_GATEWAY_URL = gateway.url
        settings.SMS_GATEWAY_TOKEN = "test-token"
        settings.SMS_GATEWAY_TIMEOUT_SECONDS = 2
        yield gateway
