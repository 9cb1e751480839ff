"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's
live server, with sign-in codes delivered to a real SMTP server on 127.0.0.1.

The clock is real here: Chromium cannot be given a frozen one. Tests build their data
relative to the real now (a doctor who works every day; times picked in next week).
"""

import email
import email.policy
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_email.models import EmailDevice
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from accounts.models import Patient
from clinic.mailers import mailers_from_url
from tests.conftest import SmtpServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Short, so that a broken page fails in seconds instead of Playwright's default 30.
TIMEOUT_MS = 10_000
SCREENSHOTS = Path("/tmp")  # noqa: S108 (screenshots for people to look at, not secrets)

PageFactory = Callable[..., Page]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = (
            f"BROWSER TESTS NOT RUN: {CHROMIUM} is missing; "
            "install chromium: apt-get install -y chromium"
        )
        if os.environ.get("CI"):
            # CI installs Chromium (.ci/run); a skip there would hide a gap in the run.
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    # Playwright's sync API runs an asyncio loop of its own in this thread, so Django
    # believes the test's own ORM calls (factories, assertions) come from async code and
    # refuses them. They are plain synchronous calls; this is the usual pytest-django +
    # Playwright workaround. Set only while Playwright runs, i.e. for this package's tests.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def every_test_with_fresh_rate_limits(transactional_db: None, fresh_rate_limits: None) -> None:
    """Every sign-in comes from 127.0.0.1, so each test starts with no counts."""


@pytest.fixture(autouse=True)
def smtp_inbox(smtp_server: SmtpServer, settings) -> SmtpServer:
    """Mail from the live server goes to a real SMTP server (the test environment's
    default, locmem, would keep it in the server thread's process-wide outbox)."""
    settings.MAILERS = mailers_from_url(f"smtp://{smtp_server.host}:{smtp_server.port}")
    return smtp_server


@pytest.fixture
def open_page(browser: Browser, live_server) -> Iterator[PageFactory]:
    """Opens a page in a fresh browser context (its own cookies) on the live server."""
    contexts: list[BrowserContext] = []

    def open_page(*, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            java_script_enabled=javascript,
            viewport={"width": 1200, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_page: PageFactory) -> Page:
    return open_page()


@pytest.fixture
def sign_in(live_server) -> Callable[[Page, Patient], None]:
    """Gives a page's browser the session a patient has after entering their emailed
    code, without the email round trip (the journey test does that one for real)."""

    def sign_in(page: Page, patient: Patient) -> None:
        device, _created = EmailDevice.objects.get_or_create(
            user=patient.user, name="email", defaults={"confirmed": True}
        )
        client = Client()
        client.force_login(patient.user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        cookie = {
            "name": django_settings.SESSION_COOKIE_NAME,
            "value": str(session.session_key),
            "url": live_server.url,
        }
        page.context.add_cookies([cookie])  # type: ignore[list-item]

    return sign_in


def emailed_code(server: SmtpServer, to: str) -> str:
    """The 6-digit code in the newest message the SMTP server accepted for ``to``."""
    for envelope in reversed(server.inbox.envelopes):
        if to in envelope.rcpt_tos:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            body = message.get_body(preferencelist=("plain",))
            assert body is not None, f"the email to {to} has no text part"
            match = re.search(r"\b(\d{6})\b", body.get_content())
            assert match, f"no 6-digit code in the email to {to}: {body.get_content()!r}"
            return match.group(1)
    raise AssertionError(f"the SMTP server received no email for {to}")


def screenshot(page: Page, name: str) -> None:
    page.screenshot(path=SCREENSHOTS / f"e2e-{name}.png", full_page=True)
