"""The Content-Security-Policy holds in a real browser: Chromium opens the main pages of
patients, staff, the admin and the API docs and reports no violation, neither in the
console nor as a securitypolicyviolation event. A control proves the harness sees one."""

import datetime as dt
from collections.abc import Callable

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from scheduling.selectors import monday_of
from tests.factories import (
    book,
    log_in_staff,
    make_authenticator,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
    make_user,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# "Nothing more loads" can take longer than a step's 10 s when the whole suite shares
# two cores (the admin's pages load a dozen scripts each): a page that never goes quiet
# still fails, after this.
IDLE_TIMEOUT_MS = 30_000

# Runs in every page before its own scripts (Playwright injects it, past the CSP).
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


class Violations:
    """What the browser refused on the pages a page object opened."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.found: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.found.append(f"{self.page.url}: {message.text}")

    def visit(self, path: str, ready: Callable[[Page], None] | None = None) -> None:
        response = self.page.goto(path)
        assert response is not None
        assert response.status < 400, f"{path}: {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        if ready:
            ready(self.page)
        self.page.wait_for_load_state("networkidle", timeout=IDLE_TIMEOUT_MS)
        self.collect()

    def collect(self) -> None:
        for violation in self.page.evaluate("window.cspViolations || []"):
            self.found.append(f"{self.page.url}: {violation}")
        self.page.evaluate("window.cspViolations = []")


def use_session(page: Page, client: Client, live_server) -> None:
    """Gives the browser the session a Django test client signed in with."""
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


@pytest.fixture
def practice():
    clinic = make_clinic(name="Lindenhof Practice", phone="+49 30 555 0100")
    doctor = make_doctor(clinic, name="Dr. Anna Weber")
    patient = make_patient("maria.schmidt@example.com", full_name="Maria Schmidt")
    monday = monday_of(timezone.localdate(timezone=clinic.zone)) + dt.timedelta(days=7)
    appointment = book(
        patient, doctor, dt.datetime.combine(monday, dt.time(10), tzinfo=clinic.zone)
    )
    return clinic, doctor, patient, appointment


def test_the_harness_sees_a_violation(page: Page):
    violations = Violations(page)
    violations.visit("/")

    page.evaluate(
        """document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>')"""
    )
    page.wait_for_timeout(300)
    violations.collect()

    assert violations.found, "an inline style attribute must be reported"


def test_public_and_patient_pages_have_no_csp_violation(page: Page, practice, sign_in):
    _clinic, doctor, patient, appointment = practice
    violations = Violations(page)

    violations.visit("/")
    violations.visit("/doctors/")
    violations.visit("/login/")
    violations.visit("/staff/login/")
    sign_in(page, patient)
    violations.visit(f"/doctors/{doctor.pk}/")
    # An htmx swap: the next week's times.
    page.get_by_role("link", name="Next week").first.click()
    page.wait_for_load_state("networkidle", timeout=IDLE_TIMEOUT_MS)
    violations.collect()
    violations.visit("/appointments/")
    violations.visit(f"/appointments/{appointment.pk}/")
    violations.visit(f"/appointments/{appointment.pk}/reschedule/")
    violations.visit("/account/")

    assert violations.found == []


def test_the_api_docs_have_no_csp_violation(page: Page):
    violations = Violations(page)

    violations.visit(
        "/api/v1/docs/",
        ready=lambda page: expect(page.locator(".swagger-ui .info .title")).to_be_visible(),
    )
    page.locator(".opblock-summary").first.click()
    page.wait_for_timeout(300)
    violations.collect()

    assert violations.found == []


def test_staff_pages_and_the_first_sign_in_have_no_csp_violation(page: Page, practice, live_server):
    clinic, doctor, _patient, appointment = practice
    violations = Violations(page)
    staff = make_staff("nurse.jansen@example.com", clinics=(clinic,))
    client = Client()
    log_in_staff(client, staff)
    use_session(page, client, live_server)

    violations.visit("/staff/")
    violations.visit(f"/staff/calendar/?clinic={clinic.pk}&view=week")
    violations.visit(f"/staff/calendar/?clinic={clinic.pk}&view=day&date=2026-03-09")
    violations.visit(f"/staff/patients/{appointment.patient_id}/")
    violations.visit(f"/staff/appointments/{appointment.pk}/reschedule/")
    violations.visit(f"/staff/appointments/{appointment.pk}/")
    violations.visit(f"/staff/doctors/{doctor.pk}/availability/")
    violations.visit("/staff/patients/?q=Schmidt")
    violations.visit("/staff/doctors/")

    # A first sign-in shows the authenticator's QR code (inline SVG).
    page.context.clear_cookies()
    make_staff("new.colleague@example.com", clinics=(clinic,))
    violations.visit("/staff/login/")
    page.get_by_label("Email address").fill("new.colleague@example.com")
    page.get_by_label("Password").fill("staff-password")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    page.wait_for_load_state("networkidle", timeout=IDLE_TIMEOUT_MS)
    violations.collect()

    assert violations.found == []


def test_the_admin_has_no_csp_violation(page: Page, practice, live_server):
    _clinic, _doctor, patient, appointment = practice
    violations = Violations(page)
    admin = make_user("admin@example.com", is_staff=True, is_superuser=True)
    make_authenticator(admin)
    client = Client()
    log_in_staff(client, admin)
    use_session(page, client, live_server)

    violations.visit("/admin/")
    violations.visit("/admin/appointments/appointment/")
    violations.visit(f"/admin/appointments/appointment/{appointment.pk}/change/")
    violations.visit(f"/admin/appointments/appointment/{appointment.pk}/history/")
    violations.visit(f"/admin/accounts/patient/{patient.pk}/change/")
    violations.visit("/admin/accounts/user/")
    violations.visit("/admin/django_q/schedule/")

    assert violations.found == []
