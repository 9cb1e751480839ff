"""A patient's way through the site in a real browser: sign in by emailed code, find a
doctor, book, reschedule and cancel; double clicks, the keyboard, and no JavaScript.

Times are real (see conftest): the doctor works every day 8:00-20:00 in Berlin and the
tests pick times in next week, which is always bookable whatever today is.
"""

import datetime as dt
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from appointments.models import Appointment, Status
from appointments.services import book_appointment
from scheduling.models import Doctor
from scheduling.selectors import monday_of
from tests.e2e.conftest import emailed_code, screenshot
from tests.factories import consultation, make_clinic, make_doctor, make_patient

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "maria.schmidt@example.com"


@pytest.fixture
def doctor() -> Doctor:
    return make_doctor(
        make_clinic(name="Lindenhof Practice", phone="+49 30 555 0100"),
        name="Dr. Anna Weber",
        weekdays=(0, 1, 2, 3, 4, 5, 6),
        hours=(dt.time(8), dt.time(20)),
    )


@pytest.fixture
def patient():
    return make_patient(EMAIL, full_name="Maria Schmidt")


def next_monday(doctor: Doctor) -> dt.date:
    today = timezone.localdate(timezone=doctor.clinic.zone)
    return monday_of(today) + dt.timedelta(days=7)


def at(doctor: Doctor, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=doctor.clinic.zone)


def long_time(when: dt.datetime) -> str:
    """As the pages write it: 'Monday 16 March 2026, 10:00 CET'."""
    return f"{when:%A} {when.day} {when:%B %Y}, {when:%H:%M %Z}"


def day_heading(day: dt.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def slot_name(when: dt.datetime) -> re.Pattern[str]:
    """A slot's accessible name: '10:00 on Monday 16 March 2026, CET'."""
    return re.compile(rf"^{when:%H:%M} on {when:%A} {when.day} {when:%B %Y}, {when:%Z}$")


def booking_url(doctor: Doctor, when: dt.datetime) -> str:
    start = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"/appointments/new/?doctor={doctor.pk}&type={consultation(doctor).pk}&start={start}"


def main_nav(page: Page, link: str) -> Locator:
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=link)


def tab_to(page: Page, selector: str, presses: int = 40) -> None:
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"{presses} presses of Tab never reached {selector}")


def test_a_patient_signs_in_books_reschedules_and_cancels(page, doctor, smtp_inbox):
    monday = next_monday(doctor)
    first_time, new_time = at(doctor, monday, 10), at(doctor, monday, 14)

    page.goto("/login/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a code").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.get_by_label("6-digit code").fill(emailed_code(smtp_inbox, EMAIL))
    page.get_by_role("button", name="Sign in", exact=True).click()

    # A new account gives its details once, then lands on its (empty) appointments.
    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    page.get_by_label("Full name").fill("Maria Schmidt")
    page.get_by_label("Phone number").fill("+49 170 1234567")
    page.get_by_label("Date of birth").fill("1985-04-12")
    screenshot(page, "1-profile")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="My appointments")).to_be_visible()
    expect(page.get_by_text("You have no upcoming appointments.")).to_be_visible()

    page.get_by_role("link", name="Find a doctor and book a time").click()
    expect(page.get_by_role("heading", name="Find a doctor")).to_be_visible()
    screenshot(page, "2-doctors")
    page.get_by_role("link", name="Dr. Anna Weber", exact=True).click()
    expect(page.get_by_role("heading", name="Dr. Anna Weber")).to_be_visible()

    # "Next week" swaps the times in place (htmx): the address changes, the page stays.
    page.evaluate("window.pageNeverReloaded = true")
    page.get_by_role("link", name="Next week").click()
    expect(page.get_by_role("heading", name=day_heading(monday))).to_be_visible()
    expect(page).to_have_url(re.compile(rf"[?&]week={monday.isoformat()}"))
    assert page.evaluate("window.pageNeverReloaded") is True
    screenshot(page, "3-next-week")

    page.get_by_role("link", name=slot_name(first_time)).click()
    expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
    expect(page.get_by_text(long_time(first_time))).to_be_visible()
    page.get_by_label("Reason for your visit").fill("Persistent cough")
    screenshot(page, "4-confirm")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Booked: Consultation with Dr. Anna Weber on {long_time(first_time)}."
    )
    screenshot(page, "5-booked")

    main_nav(page, "My appointments").click()
    card = page.locator(".appointment-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Consultation with Dr. Anna Weber")
    expect(card).to_contain_text("Booked")

    card.get_by_role("link", name=long_time(first_time)).click()
    page.get_by_role("link", name="Choose another time").click()
    expect(page.get_by_role("heading", name="Choose another time")).to_be_visible()
    screenshot(page, "6-reschedule")
    # Choosing a time asks to confirm, on a page of its own; the POST moves it.
    page.get_by_role("link", name=slot_name(new_time)).click()
    expect(page.get_by_role("heading", name="Move your appointment?")).to_be_visible()
    assert Appointment.objects.get().starts_at == first_time
    page.get_by_role("button", name="Move appointment").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Rescheduled: Consultation with Dr. Anna Weber on {long_time(new_time)}."
    )

    # Cancelling asks to confirm, on a page of its own.
    page.get_by_role("link", name="Cancel this appointment").click()
    expect(page.get_by_role("heading", name="Cancel this appointment?")).to_be_visible()
    page.get_by_label("Reason for cancelling").fill("Feeling better")
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Cancelled: Consultation with Dr. Anna Weber on {long_time(new_time)}."
    )
    expect(page.get_by_text("Cancelled by patient")).to_be_visible()
    expect(page.get_by_text("Reason: Feeling better")).to_be_visible()
    expect(page.get_by_role("link", name="Cancel this appointment")).to_have_count(0)
    screenshot(page, "7-cancelled")

    main_nav(page, "My appointments").click()
    expect(page.get_by_text("You have no upcoming appointments.")).to_be_visible()
    past = page.get_by_role("region", name="Past and cancelled")
    expect(past.get_by_role("link", name=long_time(new_time))).to_be_visible()
    expect(past).to_contain_text("Cancelled by patient")
    screenshot(page, "8-my-appointments")

    appointment = Appointment.objects.select_related("patient__user").get()
    user = appointment.patient.user
    patient = appointment.patient
    assert (user.email, patient.full_name, patient.phone, patient.date_of_birth) == (
        EMAIL,
        "Maria Schmidt",
        "+491701234567",  # stored in E.164 (issue 12)
        dt.date(1985, 4, 12),
    )
    assert appointment.status == Status.CANCELLED_BY_PATIENT
    assert appointment.starts_at == new_time
    assert (appointment.reason, appointment.cancellation_reason) == (
        "Persistent cough",
        "Feeling better",
    )
    moved = f"{first_time:%Y-%m-%d %H:%M %Z} to {new_time:%Y-%m-%d %H:%M %Z}"
    assert list(
        appointment.history.order_by("history_id").values_list(
            "history_change_reason", "history_user"
        )
    ) == [
        ("booked", user.pk),
        (f"rescheduled from {moved}", user.pk),
        ("cancelled by patient: Feeling better", user.pk),
    ]


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_double_clicking_confirm_books_once(open_page, sign_in, doctor, patient, javascript):
    page = open_page(javascript=javascript)
    sign_in(page, patient)
    when = at(doctor, next_monday(doctor), 10)
    page.goto(booking_url(doctor, when))

    # Both clicks land before any answer. Chromium sends the plain form once, and htmx
    # sends nothing while its request is out; the next test makes a second request
    # really reach the server.
    page.get_by_role("button", name="Confirm booking").dblclick()

    expect(page.get_by_role("status")).to_have_text(
        f"Booked: Consultation with Dr. Anna Weber on {long_time(when)}."
    )
    expect(page.get_by_role("heading", name="Consultation with Dr. Anna Weber")).to_be_visible()
    assert list(Appointment.objects.values_list("patient", "starts_at", "status")) == [
        (patient.pk, when, Status.BOOKED)
    ]


@dataclass
class SlowBooking:
    """The booking view, made to hold its first answer back until ``release`` is set, as
    a slow network would: the booking is made, the patient has not seen it yet."""

    first_booked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    attempts: int = 0


@pytest.fixture
def slow_first_answer(monkeypatch) -> Iterator[SlowBooking]:
    slow = SlowBooking()

    def book_then_wait(**booking: Any) -> Appointment:
        slow.attempts += 1
        appointment = book_appointment(**booking)
        if slow.attempts == 1:
            slow.first_booked.set()
            slow.release.wait(timeout=5)
        return appointment

    # The live server is a thread of this process, so the patch reaches its requests.
    monkeypatch.setattr("appointments.views.book_appointment", book_then_wait)
    yield slow
    slow.release.set()  # never leave a server thread waiting


@pytest.mark.parametrize(
    ("javascript", "bookings_asked"),
    [(True, 1), (False, 2)],
    ids=["htmx-disables-the-button", "no-javascript-submits-twice"],
)
def test_clicking_confirm_again_while_the_booking_is_on_its_way_books_once(
    open_page, sign_in, doctor, patient, slow_first_answer, javascript, bookings_asked
):
    page = open_page(javascript=javascript)
    sign_in(page, patient)
    when = at(doctor, next_monday(doctor), 10)
    page.goto(booking_url(doctor, when))
    confirm = page.get_by_role("button", name="Confirm booking")
    box = confirm.bounding_box()
    assert box is not None

    confirm.click(no_wait_after=True)
    assert slow_first_answer.first_booked.wait(timeout=5), "the first click booked nothing"
    # The same spot again, at once: without JavaScript the browser drops the first
    # request and sends the form again; with htmx the button is disabled by now.
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(300)
    slow_first_answer.release.set()

    expect(page.get_by_role("status")).to_have_text(
        f"Booked: Consultation with Dr. Anna Weber on {long_time(when)}."
    )
    expect(page.get_by_role("heading", name="Consultation with Dr. Anna Weber")).to_be_visible()
    assert list(Appointment.objects.values_list("patient", "starts_at", "status")) == [
        (patient.pk, when, Status.BOOKED)
    ]
    # Control: the second click did (or, with htmx, did not) reach the server.
    assert slow_first_answer.attempts == bookings_asked


def test_the_slot_picker_works_with_the_keyboard(page, sign_in, doctor, patient):
    sign_in(page, patient)
    monday = next_monday(doctor)
    page.goto(f"/doctors/{doctor.pk}/")

    tab_to(page, "#next-week")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=day_heading(monday))).to_be_visible()
    # The swap leaves focus where it was, so the next Tab reaches next week's first time.
    focused = page.locator(":focus")
    expect(focused).to_have_accessible_name("Next week")
    page.keyboard.press("Tab")
    expect(focused).to_have_accessible_name(slot_name(at(doctor, monday, 8)))
    outline = focused.evaluate("(link) => getComputedStyle(link).outlineStyle")
    assert outline != "none", "the focused time has no visible focus ring"
    screenshot(page, "9-keyboard-focus")

    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
    expect(page.get_by_text(long_time(at(doctor, monday, 8)))).to_be_visible()
    assert Appointment.objects.count() == 0


def test_pages_work_without_javascript(open_page, sign_in, doctor, patient):
    page = open_page(javascript=False)
    sign_in(page, patient)
    monday = next_monday(doctor)
    when = at(doctor, monday, 11)
    page.goto(f"/doctors/{doctor.pk}/")

    page.get_by_role("link", name="Next week").click()
    expect(page).to_have_url(re.compile(rf"[?&]week={monday.isoformat()}"))
    expect(page.get_by_role("heading", name=day_heading(monday))).to_be_visible()
    page.get_by_role("link", name=slot_name(when)).click()
    page.get_by_label("Reason for your visit").fill("Check-up")
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("status")).to_have_text(
        f"Booked: Consultation with Dr. Anna Weber on {long_time(when)}."
    )
    screenshot(page, "10-no-javascript-booked")
    assert list(Appointment.objects.values_list("patient", "starts_at", "reason")) == [
        (patient.pk, when, "Check-up")
    ]


def test_moving_an_appointment_asks_to_confirm_without_javascript(
    open_page, sign_in, doctor, patient
):
    page = open_page(javascript=False)
    sign_in(page, patient)
    monday = next_monday(doctor)
    booked, new_time = at(doctor, monday, 10), at(doctor, monday, 15)
    appointment = book_appointment(
        patient=patient,
        doctor=doctor,
        appointment_type=consultation(doctor),
        starts_at=booked,
        booked_by=patient.user,
    )
    page.goto(f"/appointments/{appointment.pk}/reschedule/")

    page.get_by_role("link", name=slot_name(new_time)).click()
    expect(page.get_by_role("heading", name="Move your appointment?")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.starts_at == booked  # choosing moved nothing
    # The way back keeps the time.
    page.get_by_role("link", name="No, keep the current time").click()
    expect(page.get_by_role("heading", name="Consultation with Dr. Anna Weber")).to_be_visible()
    appointment.refresh_from_db()
    assert appointment.starts_at == booked

    page.go_back()
    page.get_by_role("button", name="Move appointment").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Rescheduled: Consultation with Dr. Anna Weber on {long_time(new_time)}."
    )
    appointment.refresh_from_db()
    assert appointment.starts_at == new_time


def test_the_booking_stays_in_view_while_a_new_patient_signs_in(page, doctor, smtp_inbox):
    when = at(doctor, next_monday(doctor), 10)

    page.goto(booking_url(doctor, when))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    booking = page.get_by_role("region", name="Your booking")
    expect(booking).to_contain_text("Dr. Anna Weber")
    expect(booking).to_contain_text(long_time(when))
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Email me a code").click()

    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_role("region", name="Your booking")).to_contain_text(long_time(when))
    page.get_by_label("6-digit code").fill(emailed_code(smtp_inbox, EMAIL))
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    expect(page.get_by_role("region", name="Your booking")).to_contain_text(long_time(when))
    page.get_by_label("Full name").fill("Maria Schmidt")
    page.get_by_label("Phone number").fill("+49 170 1234567")
    page.get_by_label("Date of birth").fill("1985-04-12")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="Confirm your booking")).to_be_visible()
    expect(page.get_by_text(long_time(when))).to_be_visible()
    assert Appointment.objects.count() == 0
