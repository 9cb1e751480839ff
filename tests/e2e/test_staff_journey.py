"""A staff member's working day in a real browser: first sign-in with an authenticator
app, a doctor's weekly hours changed, a patient's booking found on the calendar and
cancelled for the clinic, and the patient's email arriving at a real SMTP server.

Times are real (see conftest): the booking is next Monday at 10:00 in Berlin, inside the
factory doctor's Monday-to-Friday hours, which is bookable whatever today is.
"""

import datetime as dt
import email
import email.policy
import re
from email.message import EmailMessage

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from appointments.models import Appointment, Status
from appointments.tasks import send_due_notifications
from scheduling.models import Weekday, WeeklyAvailability
from scheduling.selectors import monday_of
from tests.conftest import SmtpServer
from tests.e2e.conftest import screenshot
from tests.e2e.test_staff_login import authenticator_code
from tests.factories import book, make_clinic, make_doctor, make_patient, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STAFF_EMAIL = "nurse.jansen@example.com"
PASSWORD = "staff-password"  # make_staff's
PATIENT_EMAIL = "maria.schmidt@example.com"
REASON = "Dr. Weber is ill today"


def messages_to(server: SmtpServer, to: str) -> list[EmailMessage]:
    return [
        email.message_from_bytes(envelope.content, policy=email.policy.default)
        for envelope in server.inbox.envelopes
        if to in envelope.rcpt_tos
    ]


def test_a_staff_member_edits_hours_and_cancels_a_booking_for_the_clinic(
    page: Page, smtp_inbox: SmtpServer
):
    clinic = make_clinic(name="Lindenhof Practice", phone="+49 30 555 0100")
    doctor = make_doctor(clinic, name="Dr. Anna Weber")  # Monday to Friday, 9:00-17:00
    staff = make_staff(STAFF_EMAIL, clinics=(clinic,))
    patient = make_patient(PATIENT_EMAIL, full_name="Maria Schmidt")
    monday = monday_of(timezone.localdate(timezone=clinic.zone)) + dt.timedelta(days=7)
    starts_at = dt.datetime.combine(monday, dt.time(10), tzinfo=clinic.zone)
    appointment = book(patient, doctor, starts_at)

    # First sign-in: password, then the authenticator app set up from the key shown.
    page.goto("/staff/login/")
    page.get_by_label("Email address").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    code = authenticator_code(page.locator("#manual-key").inner_text())
    page.get_by_label("6-digit code from your authenticator app").fill(code)
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()

    # Straight to the hours page: the list of doctors that links to it has its own tests.
    page.goto(f"/staff/doctors/{doctor.pk}/availability/")
    expect(page.get_by_role("heading", name="Hours of Dr. Anna Weber")).to_be_visible()
    saturday = page.locator(f"#weekday-{Weekday.SATURDAY}")
    expect(saturday.get_by_text("Not working.")).to_be_visible()
    page.evaluate("window.pageNeverReloaded = true")
    saturday.get_by_label("From").fill("09:00")
    saturday.get_by_label("To").fill("12:00")
    saturday.get_by_role("button", name="Add hours on Saturday").click()

    # htmx swaps Saturday in place: a row that can be changed or removed, no reload.
    saturday = page.locator(f"#weekday-{Weekday.SATURDAY}")
    expect(saturday.get_by_text("Not working.")).to_have_count(0)
    rule = WeeklyAvailability.objects.get(doctor=doctor, weekday=Weekday.SATURDAY)
    row = saturday.locator(".hours-row")
    expect(row).to_have_count(1)
    expect(row.locator(f"#rule-{rule.pk}-start_time")).to_have_value("09:00")
    expect(row.locator(f"#rule-{rule.pk}-end_time")).to_have_value("12:00")
    expect(row.get_by_role("button", name=re.compile(r"^Remove"))).to_be_visible()
    assert page.evaluate("window.pageNeverReloaded") is True
    screenshot(page, "staff-saturday-added")
    assert (rule.start_time, rule.end_time) == (dt.time(9), dt.time(12))
    assert list(rule.history.values_list("history_change_reason", "history_user")) == [
        ("added Sat 09:00-12:00", staff.pk)
    ]

    # The calendar: this week, then next week, where the booking is.
    page.goto("/staff/")
    page.get_by_role("link", name="Today's appointments calendar").click()
    expect(page.get_by_role("heading", name="Appointments at Lindenhof Practice")).to_be_visible()
    page.get_by_label("Show").select_option("week")
    page.get_by_role("button", name="Show", exact=True).click()
    expect(
        page.get_by_role("heading", name=re.compile(r"^Dr. Anna Weber, week of "))
    ).to_be_visible()
    page.get_by_role("link", name="Next week").click()
    week_of = f"Dr. Anna Weber, week of {monday:%A} {monday.day} {monday:%B %Y}"
    expect(page.get_by_role("heading", name=week_of)).to_be_visible()
    monday_column = page.get_by_role("group", name=f"{monday:%a} {monday.day} {monday:%b}")
    entry = monday_column.locator(".block")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("10:00\N{EN DASH}10:30")
    expect(entry).to_contain_text("Maria Schmidt")
    expect(entry).to_contain_text("Booked")
    screenshot(page, "staff-calendar-next-week")

    entry.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Consultation with Dr. Anna Weber")).to_be_visible()
    expect(page.get_by_role("link", name=PATIENT_EMAIL)).to_be_visible()
    page.get_by_label("Reason for cancelling").fill(REASON)
    page.get_by_role("button", name="Cancel for the clinic").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Cancelled: Consultation with Dr. Anna Weber"
    )
    expect(page.get_by_text(f"Reason: {REASON}")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel for the clinic")).to_have_count(0)
    screenshot(page, "staff-cancelled")
    appointment = Appointment.objects.get(pk=appointment.pk)
    assert (appointment.status, appointment.cancellation_reason) == (
        Status.CANCELLED_BY_CLINIC,
        REASON,
    )

    # The worker's part, played here: it sends the outbox to the SMTP server.
    send_due_notifications()

    received = messages_to(smtp_inbox, PATIENT_EMAIL)
    subjects = [str(message["Subject"]) for message in received]
    cancellations = [m for m in received if "Cancelled by the clinic" in str(m["Subject"])]
    assert len(cancellations) == 1, subjects
    body = cancellations[0].get_body(preferencelist=("plain",))
    assert body is not None
    assert f"Reason: {REASON}" in body.get_content()
