"""Pages that say where the patient stands: days already past, the exact deadline for
changing an appointment online.

Time is frozen at Wednesday 4 March 2026, 08:00 UTC (09:00 in Berlin)."""

import re

import pytest

from tests.factories import book, local, log_in, make_doctor, make_patient

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
    assert "You can change or cancel it here until Mon 9 Mar, 08:00." in page
    assert "(CET)" in page


def test_cancelling_asks_to_confirm_on_a_page_of_its_own_and_only_the_post_cancels(
    frozen_now, client
):
    patient = make_patient()
    doctor = make_doctor()
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    log_in(client, patient)

    detail = client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert f'href="/appointments/{appointment.pk}/cancel/"' in detail
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
