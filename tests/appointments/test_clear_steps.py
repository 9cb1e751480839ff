"""Pages that say where the patient stands: days already past, the exact deadline for
changing an appointment online.

Time is frozen at Wednesday 4 March 2026, 08:00 UTC (09:00 in Berlin)."""

import datetime as dt
import re

import pytest

from appointments.models import Appointment
from tests.factories import book, consultation, local, log_in, make_doctor, make_patient

pytestmark = pytest.mark.django_db


def test_past_days_of_this_week_say_past(frozen_now, client):
    doctor = make_doctor()

    page = client.get(f"/doctors/{doctor.pk}/").content.decode()

    days = re.findall(r'<div class="day( day--past)?">\s*<h3 class="day__name">(\w+)', page)
    assert days[:3] == [(" day--past", "Monday"), (" day--past", "Tuesday"), ("", "Wednesday")]
    monday = page.split('class="day__name">Monday')[1].split("</div>")[0]
    assert "Past" in monday
    assert "No free times" not in monday


def test_the_appointment_page_says_until_when_it_can_be_changed(frozen_now, client):
    patient = make_patient()
    doctor = make_doctor()
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    log_in(client, patient)

    page = client.get(f"/appointments/{appointment.pk}/").content.decode()

    # The clinic's two-hour cutoff, on its wall clock.
    assert "You can change or cancel it here until Mon 9 Mar, 08:00 CET." in page


def test_cancelling_asks_to_confirm_on_a_page_of_its_own_and_only_the_post_cancels(
    frozen_now, client
):
    patient = make_patient()
    doctor = make_doctor()
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    log_in(client, patient)

    detail = client.get(f"/appointments/{appointment.pk}/").content.decode()
    # To the question itself: on a phone it is below the appointment's details.
    assert f'href="/appointments/{appointment.pk}/cancel/#confirm-cancel"' in detail
    assert 'name="reason"' not in detail

    confirm = client.get(f"/appointments/{appointment.pk}/cancel/")
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Cancel this appointment?" in page
    assert f'<form method="post" action="/appointments/{appointment.pk}/cancel/"' in page
    assert "No, keep it" in page
    appointment.refresh_from_db()
    assert appointment.status == "booked"

    response = client.post(f"/appointments/{appointment.pk}/cancel/", {"reason": "Better"})
    assert response.status_code == 303
    appointment.refresh_from_db()
    assert appointment.status == "cancelled_by_patient"


# The patient's own booking is recognised on Back or in a second tab, not reported as taken.


@pytest.fixture
def weber():
    return make_doctor(name="Dr. Anna Weber")


@pytest.fixture
def signed_in(client):
    patient = make_patient()
    log_in(client, patient)
    return patient


def booking_page(doctor, starts_at) -> str:
    utc = starts_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"/appointments/new/?doctor={doctor.pk}&type={consultation(doctor).pk}&start={utc}"


def test_back_to_the_booking_page_says_you_have_booked_this_time(
    frozen_now, client, weber, signed_in
):
    appointment = book(signed_in, weber, local(weber.clinic, 2026, 3, 5, 10))

    response = client.get(booking_page(weber, appointment.starts_at))

    assert response.status_code == 200
    page = response.content.decode()
    assert "You have booked this time." in page
    assert f'href="/appointments/{appointment.pk}/"' in page
    assert "no longer available" not in page
    assert "<textarea" not in page  # nothing more to send


def test_a_second_tabs_booking_of_the_same_time_leads_to_the_booking_made(
    frozen_now, client, weber, signed_in
):
    url = booking_page(weber, local(weber.clinic, 2026, 3, 5, 10))
    first = client.post(url, {"reason": "", "booking_key": "a" * 32})
    assert first.status_code == 303

    second = client.post(url, {"reason": "", "booking_key": "b" * 32})

    assert second.status_code == 200
    assert "You have booked this time." in second.content.decode()
    assert Appointment.objects.filter(patient=signed_in).count() == 1


def test_a_time_someone_else_booked_is_still_reported_as_taken(
    frozen_now, client, weber, signed_in
):
    other = book(make_patient(), weber, local(weber.clinic, 2026, 3, 5, 10))

    response = client.get(booking_page(weber, other.starts_at))

    assert response.status_code == 409
    assert "You have booked this time." not in response.content.decode()
