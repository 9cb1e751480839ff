"""axe-core over the main patient pages, in English and in German (issue 13): every page
a patient passes on the way to a booking and back, with its forms' error states, shows
no violation of WCAG 2.1 A and AA that axe can find. A control proves that the harness
reports one where there is one.

axe-core is the npm package pinned in tests/e2e/package.json (and its lock), which make
installs before the tests run (`npm ci` in tests/e2e). Like Chromium, a missing axe-core
fails the run under CI and skips these tests elsewhere, saying why.
"""

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page

from accounts.models import Dependant, Patient
from appointments.models import Appointment
from scheduling.models import Doctor, LegalDocument
from scheduling.selectors import monday_of
from tests.e2e.conftest import TIMEOUT_MS, emailed_code
from tests.factories import (
    book,
    consultation,
    make_clinic,
    make_dependant,
    make_doctor,
    make_patient,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE_SOURCE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# The success criteria of WCAG 2.0 and 2.1, levels A and AA, as axe-core tags its rules.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Accept-Language for each language's browser (Playwright's locale sets it).
LOCALES = {"en": "en-GB", "de": "de-DE"}

# Runs axe on the whole document and gives back its violations. The page keeps its
# Content-Security-Policy: axe is evaluated through the DevTools protocol (page.evaluate),
# which the CSP does not govern, instead of a <script> tag (add_script_tag), which it
# would refuse, or bypass_csp, which would test a page patients never get (inline
# styles and scripts allowed).
RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    helpUrl: violation.helpUrl,
    nodes: violation.nodes.map((node) => ({
      target: node.target.join(" "),
      summary: node.failureSummary,
    })),
  }));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_SOURCE.exists():
        reason = (
            f"ACCESSIBILITY TESTS NOT RUN: {AXE_SOURCE} is missing; "
            "install it with `make test-sqlite` (or `cd tests/e2e && npm ci`)"
        )
        if os.environ.get("CI"):
            # CI installs it through make; a skip there would hide a gap in the run.
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return AXE_SOURCE.read_text()


@dataclass
class Axe:
    """Runs axe-core on the pages one browser page opens and keeps what it finds, one
    readable line per rule and page."""

    page: Page
    source: str
    language: str
    found: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def visit(self, path: str, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response is not None
        assert response.status == status, f"{path}: {response.status}, expected {status}"
        self.check()

    def check(self) -> None:
        """axe over the page as it is now (after a form was sent, say)."""
        page = self.page
        page.wait_for_load_state("load")
        # No htmx request on its way, nothing being swapped or settling: while one is,
        # the times are dimmed (site.css) and axe would measure a contrast nobody reads.
        # (A function, not an expression: Playwright would eval() an expression in the
        # page, which the CSP refuses.)
        page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
        )
        lang = page.locator("html").get_attribute("lang")
        assert lang == self.language, f"{page.url} is in {lang!r}, not {self.language!r}"
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.source)
        self.checked.append(path_of(page.url))
        for violation in page.evaluate(RUN_AXE, WCAG_21_AA):
            self.found.append(readable(self.language, page.url, violation))

    def report(self) -> str:
        return f"{len(self.found)} accessibility violations:\n" + "\n".join(self.found)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def readable(language: str, url: str, violation: dict[str, Any], shown: int = 5) -> str:
    """'[de] /login/ label (critical): Form elements must have labels; 1 element: #id_email.
    Fix any of the following: ... (https://dequeuniversity.com/rules/axe/...)': one line
    per rule and page, with the first few elements and what is wrong with the first."""
    nodes = violation["nodes"]
    targets = ", ".join(node["target"] for node in nodes[:shown])
    if len(nodes) > shown:
        targets += f" and {len(nodes) - shown} more"
    elements = "1 element" if len(nodes) == 1 else f"{len(nodes)} elements"
    summary = " ".join(nodes[0]["summary"].split())
    return (
        f"[{language}] {path_of(url)} {violation['id']} ({violation['impact']}): "
        f"{violation['help']}; {elements}: {targets}. {summary} ({violation['helpUrl']})"
    )


@pytest.fixture
def open_in(browser: Browser, live_server, axe_source: str) -> Iterator[Any]:
    """A browser whose language is ``language`` (Accept-Language, as a German or an
    English browser sends it), with an axe harness on its page."""
    contexts = []

    def open_in(language: str) -> Axe:
        context = browser.new_context(
            base_url=live_server.url,
            locale=LOCALES[language],
            viewport={"width": 1200, "height": 900},
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        contexts.append(context)
        return Axe(page=context.new_page(), source=axe_source, language=language)

    yield open_in
    for context in contexts:
        context.close()


@dataclass
class Practice:
    doctor: Doctor
    patient: Patient
    child: Dependant
    appointment: Appointment
    free_start: dt.datetime


@pytest.fixture
def practice() -> Practice:
    clinic = make_clinic(name="Lindenhof Practice", phone="+49 30 555 0100")
    # Every day, all day: next week has free times whatever today is (the clock is real).
    doctor = make_doctor(
        clinic,
        name="Dr. Anna Weber",
        specialty="Dermatology",
        weekdays=(0, 1, 2, 3, 4, 5, 6),
        hours=(dt.time(8), dt.time(20)),
    )
    make_doctor(clinic, name="Dr. Jonas Becker", specialty="General practice")
    for kind in LegalDocument.Kind.values:
        LegalDocument.objects.create(
            clinic=clinic, kind=kind, body=f"{kind} of the practice.\n\nA second paragraph."
        )
    patient = make_patient("maria.schmidt@example.com", full_name="Maria Schmidt")
    child = make_dependant(patient, full_name="Lena Schmidt")
    monday = monday_of(timezone.localdate(timezone=clinic.zone)) + dt.timedelta(days=7)
    appointment = book(
        patient, doctor, dt.datetime.combine(monday, dt.time(10), tzinfo=clinic.zone)
    )
    book(
        patient,
        doctor,
        dt.datetime.combine(monday, dt.time(11), tzinfo=clinic.zone),
        dependant=child,
    )
    # Someone else's booking: the confirm page refuses that time and offers others.
    book(
        make_patient("jan.kowalski@example.com"),
        doctor,
        dt.datetime.combine(monday, dt.time(12), tzinfo=clinic.zone),
    )
    return Practice(
        doctor=doctor,
        patient=patient,
        child=child,
        appointment=appointment,
        free_start=dt.datetime.combine(monday, dt.time(15), tzinfo=clinic.zone),
    )


def booking_path(practice: Practice, when: dt.datetime | None = None) -> str:
    start = (when or practice.free_start).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doctor = practice.doctor
    return f"/appointments/new/?doctor={doctor.pk}&type={consultation(doctor).pk}&start={start}"


def test_the_harness_reports_a_violation(open_in, practice):
    axe = open_in("en")
    axe.visit("/")
    # An image without a text alternative and a button without a name (WCAG 1.1.1, 4.1.2).
    axe.page.evaluate(
        """document.querySelector("main").insertAdjacentHTML(
          "beforeend", '<img src="/static/favicon.svg" id="no-alt"><button id="no-name"></button>'
        )"""
    )
    axe.check()

    report = axe.report()
    assert len(axe.found) == 2, report
    assert re.search(
        r"\[en\] / image-alt \(critical\): Images must have alternative text; 1 element: #no-alt",
        report,
    ), report
    assert re.search(r"\[en\] / button-name \(critical\): .*; 1 element: #no-name", report), report
    assert "https://dequeuniversity.com/rules/axe/" in report


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_patient_pages_have_no_accessibility_violations(
    open_in, practice, sign_in, smtp_inbox, language
):
    axe = open_in(language)
    page = axe.page
    doctor, appointment = practice.doctor, practice.appointment

    # Anyone: finding a time.
    axe.visit("/")
    axe.visit("/search/")
    axe.visit("/search/?specialty=Dermatology")
    axe.visit("/search/?date=not-a-date", status=400)
    axe.visit("/doctors/")
    axe.visit("/doctors/?specialty=Dermatology")
    axe.visit(f"/doctors/{doctor.pk}/")
    page.locator("#next-week").click()  # htmx swaps in next week's times
    page.wait_for_url("**week=**")
    axe.check()
    for legal in ("/privacy/", "/imprint/", "/terms/", "/privacy/" + doctor.clinic.slug + "/"):
        axe.visit(legal)
    axe.visit("/no-such-page/", status=404)

    # Signing in as someone new, halfway through a booking: the email (and it refused),
    # the code, the profile step (and it refusing an empty form), each showing what is
    # being booked.
    axe.visit("/login/")
    page.locator("input[name=email]").fill("not an address")
    page.locator("main button[type=submit]").click()
    axe.check()
    axe.visit(booking_path(practice))
    assert path_of(page.url).startswith("/login/?next="), page.url
    sign_in_form = page.locator("main form").first
    page.locator("input[name=email]").fill("new.patient@example.com")
    sign_in_form.locator("button[type=submit]").click()
    page.wait_for_url("**/login/verify/")
    axe.check()
    code_form = page.locator("main form").first
    page.locator("input[name=code]").fill(emailed_code(smtp_inbox, "new.patient@example.com"))
    code_form.locator("button[type=submit]").click()
    page.wait_for_url("**/account/**")
    axe.check()
    page.locator("main form button[type=submit]").first.click()
    axe.check()
    # A wrong code, and the wait it imposes before the next try (429).
    page.context.clear_cookies()
    axe.visit("/login/")
    page.locator("input[name=email]").fill("maria.schmidt@example.com")
    sign_in_form.locator("button[type=submit]").click()
    page.wait_for_url("**/login/verify/")
    for _try in range(2):
        page.locator("input[name=code]").fill("000000")
        code_form.locator("button[type=submit]").click()
        axe.check()

    # A patient with appointments and a child they book for.
    page.context.clear_cookies()
    sign_in(page, practice.patient)
    axe.visit(booking_path(practice))
    axe.visit(booking_path(practice, appointment.starts_at))  # "You have booked this time"
    axe.visit(booking_path(practice, appointment.starts_at.replace(hour=12)), status=409)
    axe.visit("/appointments/")
    axe.visit(f"/appointments/{appointment.pk}/")
    axe.visit(f"/appointments/{appointment.pk}/cancel/")
    axe.visit(f"/appointments/{appointment.pk}/reschedule/")
    # The reschedule confirm step, and a time taken by then (409).
    free = practice.free_start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    axe.visit(f"/appointments/{appointment.pk}/reschedule/?start={free}")
    taken = appointment.starts_at.replace(hour=12).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    axe.visit(f"/appointments/{appointment.pk}/reschedule/?start={taken}", status=409)
    axe.visit("/account/")
    axe.visit("/account/people/new/")
    page.locator("main form button[type=submit]").first.click()  # empty: the errors
    axe.check()
    axe.visit(f"/account/people/{practice.child.pk}/")

    assert axe.found == [], axe.report()
    assert len(axe.checked) == 35, axe.checked
