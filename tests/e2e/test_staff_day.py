"""A receptionist runs the day in a real browser: the 50-doctor day grid fits three
screens at 1366x900; a free time on the grid starts a phone booking; a sick day closes the
hours (the patient page offers nothing that day); a move reaches the patient by email.

The clock is real (see conftest): the day used is tomorrow in Berlin, and every doctor
works every day 9:00-17:00.
"""

import datetime as dt
import email
import email.policy

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from playwright.sync_api import Page, expect

from appointments.models import Appointment, Status
from appointments.tasks import send_due_notifications
from tests.conftest import SmtpServer
from tests.e2e.conftest import PageFactory, screenshot
from tests.factories import (
    authenticator_of,
    book,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)
SCREEN = {"width": 1366, "height": 900}


def staff_page(open_page: PageFactory, live_server, user) -> Page:
    """A page whose browser holds the session of ``user`` after password and code."""
    device = authenticator_of(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    page = open_page()
    page.set_viewport_size(SCREEN)  # type: ignore[arg-type]
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": str(session.session_key),
                "url": live_server.url,
            }
        ]
    )
    return page


@pytest.fixture
def clinic():
    return make_clinic(name="Lindenhof Practice")


@pytest.fixture
def tomorrow(clinic) -> dt.date:
    return timezone.localdate(timezone=clinic.zone) + dt.timedelta(days=1)


def at(clinic, day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clinic.zone)


def test_the_whole_clinics_day_for_fifty_doctors_fits_three_screens(
    open_page, live_server, clinic, tomorrow
):
    doctors = [
        make_doctor(clinic, name=f"Dr. Doctor {n:02}", weekdays=EVERY_DAY) for n in range(50)
    ]
    for n, doctor in enumerate(doctors):
        for hour in (9, 11, 14):
            book(make_patient(full_name=f"Patient {n} {hour}"), doctor, at(clinic, tomorrow, hour))
    page = staff_page(open_page, live_server, make_staff(clinics=(clinic,)))

    page.goto(f"/staff/calendar/?date={tomorrow:%Y-%m-%d}")

    expect(page.locator(".time-grid__column")).to_have_count(50)
    # The page's own height plus what the grid's scroll box hides vertically: the height
    # the whole day takes, every doctor side by side (horizontal scrolling is fine).
    height = page.evaluate(
        "document.documentElement.scrollHeight"
        " + (g => g.scrollHeight - g.clientHeight)(document.querySelector('.grid-scroll'))"
    )
    screenshot(page, "staff-day-50-doctors")
    print(f"50-doctor day: {height} px tall at 1366x900")
    assert height <= 3 * SCREEN["height"], height


def test_a_receptionist_books_from_the_grid_closes_a_sick_day_and_moves_an_appointment(
    open_page, live_server, clinic, tomorrow, smtp_inbox: SmtpServer
):
    weber = make_doctor(clinic, name="Dr. Anna Weber", weekdays=EVERY_DAY)
    roth = make_doctor(clinic, name="Dr. Bernd Roth", weekdays=EVERY_DAY)
    leon = make_patient("leon.wolf@example.com", full_name="Leon Wolf", phone="+49 155 75151122")
    petra = make_patient("petra@example.com", full_name="Petra Pohl")
    maria = make_patient("maria@example.com", full_name="Maria Schmidt")
    sick = book(petra, weber, at(clinic, tomorrow, 10))
    to_move = book(maria, roth, at(clinic, tomorrow, 9))
    page = staff_page(open_page, live_server, make_staff(clinics=(clinic,)))

    # The grid: a free time is a button named in full; it starts a phone booking.
    page.goto(f"/staff/calendar/?date={tomorrow:%Y-%m-%d}")
    when = f"{tomorrow:%a} {tomorrow.day} {tomorrow:%b} 15:00"
    page.get_by_role("button", name=f"Book Dr. Bernd Roth, {when}").click()
    expect(page.get_by_text("Booking Consultation with Dr. Bernd Roth on")).to_be_visible()
    page.get_by_label("Name, email or phone").fill("0155 75151122")  # however it is spelled
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Book for Leon Wolf").click()
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("status")).to_contain_text("Booked for Leon Wolf")
    booked = Appointment.objects.get(patient=leon)
    assert booked.starts_at == at(clinic, tomorrow, 15)
    screenshot(page, "staff-booked-from-grid")

    # A sick day: Dr. Weber's day is closed and Petra's appointment cancelled.
    page.goto(f"/staff/calendar/?date={tomorrow:%Y-%m-%d}")
    page.get_by_role(
        "link",
        name="Cancel the rest of this day for Dr. Anna Weber, "
        f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B}",
    ).click()
    page.get_by_label("Reason for cancelling").fill("Dr. Weber is ill")
    page.get_by_role("button", name="Close the day and cancel 1 appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Closed the rest of the day")
    assert Appointment.objects.get(pk=sick.pk).status == Status.CANCELLED_BY_CLINIC

    patient_page = open_page()
    patient_page.goto(f"/doctors/{weber.pk}/?week={tomorrow:%Y-%m-%d}")
    day = patient_page.locator(".day").filter(
        has_text=f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B}"
    )
    expect(day.get_by_text("No free times")).to_be_visible()
    screenshot(patient_page, "patient-sees-the-sick-day-closed")

    # Moving Maria's appointment: the patient's email arrives.
    page.goto(f"/staff/appointments/{to_move.pk}/")
    page.get_by_role("link", name="Move to another time").click()
    page.locator(".slot").filter(has_text="11:00").first.click()
    page.get_by_label("Why is it moved?").fill("Maria asked on the phone")
    page.get_by_role("button", name="Move the appointment").click()
    expect(page.get_by_role("status")).to_contain_text("Moved:")
    send_due_notifications()
    received = [
        email.message_from_bytes(envelope.content, policy=email.policy.default)
        for envelope in smtp_inbox.inbox.envelopes
        if "maria@example.com" in envelope.rcpt_tos
    ]
    assert [str(m["Subject"]) for m in received if "Rescheduled:" in str(m["Subject"])], [
        str(m["Subject"]) for m in received
    ]
