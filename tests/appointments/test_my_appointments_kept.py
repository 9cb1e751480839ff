"""My appointments: the rendered list is kept in each process's memory under every value
it shows (appointments.views.appointment_list, CACHES["process"]), never in the shared
cache, and every change the patient could notice shows on their very next request.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``)."""

import re
from typing import Any

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import caches
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from accounts import services as account_services
from appointments import services, views
from appointments.models import Status
from clinic import answers
from scheduling.models import AppointmentType, Doctor
from tests.factories import (
    book,
    consultation,
    local,
    log_in,
    make_dependant,
    make_doctor,
    make_patient,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def page(client: Client) -> str:
    response = client.get("/appointments/")
    assert response.status_code == 200
    return response.text


@pytest.fixture
def signed_in() -> tuple[Client, Any, Doctor]:
    client, patient = Client(), make_patient()
    log_in(client, patient)
    doctor = make_doctor(name="Dr. Ada Lovelace")
    return client, patient, doctor


def kept_entries(alias: str) -> list[str]:
    store: Any = caches[alias]
    return [str(value) for value in getattr(store, "_cache", {}).values()]


def test_the_list_is_kept_in_this_process_and_not_in_the_shared_cache(signed_in):
    client, patient, doctor = signed_in
    child = make_dependant(patient, "Mia Wolf")
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10), dependant=child)

    assert "Mia Wolf" in page(client)

    assert any("Mia Wolf" in entry for entry in kept_entries("process"))
    assert not any("Mia Wolf" in entry for entry in kept_entries("fragments"))
    assert caches["default"].get("my-appointments") is None


CSRF_VALUE = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[A-Za-z0-9]+')


def kept(response: Any) -> bool:
    return bool(getattr(response, "kept_answer", False))


def test_the_page_is_kept_whole_and_is_the_fresh_one_but_for_the_csrf_token(signed_in):
    client, patient, doctor = signed_in
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    made = client.get("/appointments/")
    again = client.get("/appointments/")
    caches["process"].clear()
    fresh = client.get("/appointments/")

    assert (kept(made), kept(again), kept(fresh)) == (False, True, False)
    assert CSRF_VALUE.sub("", again.text) == CSRF_VALUE.sub("", fresh.text)
    assert answers.CSRF_PLACEHOLDER not in again.text
    assert again["Content-Type"] == fresh["Content-Type"]
    assert again["Cache-Control"] == fresh["Cache-Control"]


def test_the_csrf_token_in_a_kept_page_is_the_visitors_own(signed_in):
    client, patient, doctor = signed_in
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    page(client)  # kept, for the patient's other session
    other = Client(enforce_csrf_checks=True)
    log_in(other, patient)

    response = other.get("/appointments/")
    token = re.search(r'csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', response.text).group(1)  # type: ignore[union-attr]
    switched = other.post(
        reverse("accounts:set-language"), {"language": "de", "csrfmiddlewaretoken": token}
    )

    assert kept(response)
    assert switched.status_code == 302  # not 403: the token is this visitor's


def test_a_page_with_messages_to_show_is_rendered_for_its_visitor_alone(signed_in):
    client, _patient, _doctor = signed_in
    page(client)  # kept
    storage = CookieStorage(RequestFactory().get("/"))
    storage.add(constants.SUCCESS, "Cancelled, Erika.")
    carrier = HttpResponse()
    storage.update(carrier)
    client.cookies["messages"] = carrier.cookies["messages"].value

    own = client.get("/appointments/")
    again = client.get("/appointments/")

    assert not kept(own)
    assert "Cancelled, Erika." in own.text
    assert kept(again)
    assert "Cancelled, Erika." not in again.text


def test_a_new_booking_shows_on_the_next_request(signed_in):
    client, patient, doctor = signed_in
    assert "You have no upcoming appointments" in page(client)

    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))

    text = page(client)
    assert "You have no upcoming appointments" not in text
    assert "Dr. Ada Lovelace" in text


def test_a_cancellation_shows_on_the_next_request(signed_in):
    client, patient, doctor = signed_in
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    assert "You have no upcoming appointments" not in page(client)

    services.cancel_appointment(appointment=appointment, cancelled_by=patient.user)

    text = page(client)
    assert "You have no upcoming appointments" in text
    assert str(Status.CANCELLED_BY_PATIENT.label) in text


def test_a_move_shows_on_the_next_request(signed_in):
    client, patient, doctor = signed_in
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    assert "2026, 10:00 CET" in page(client)

    services.reschedule_appointment(
        appointment=appointment,
        starts_at=local(doctor.clinic, 2026, 3, 9, 11),
        rescheduled_by=None,
        by_clinic=True,
    )

    text = page(client)
    assert "2026, 11:00 CET" in text
    assert "2026, 10:00 CET" not in text


def test_a_family_members_new_name_shows_on_the_next_request(signed_in):
    client, patient, doctor = signed_in
    child = make_dependant(patient, "Mia Wolf")
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10), dependant=child)
    assert "Mia Wolf" in page(client)

    account_services.update_dependant(
        dependant=child,
        full_name="Mia Sommer",
        date_of_birth=child.date_of_birth,
        relationship=child.relationship,
    )

    text = page(client)
    assert "Mia Sommer" in text
    assert "Mia Wolf" not in text


def test_a_doctors_new_name_shows_on_the_next_request(signed_in):
    client, patient, doctor = signed_in
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    assert "Dr. Ada Lovelace" in page(client)

    Doctor.objects.filter(pk=doctor.pk).update(name="Dr. Ada King")

    assert "Dr. Ada King" in page(client)


def test_a_types_new_name_shows_on_the_next_request(signed_in):
    client, patient, doctor = signed_in
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    assert "Consultation with Dr. Ada Lovelace" in page(client)

    AppointmentType.objects.filter(pk=consultation(doctor).pk).update(name="Check-up")

    assert "Check-up with Dr. Ada Lovelace" in page(client)


def test_an_attendance_mark_shows_on_the_next_request(frozen_now, signed_in):
    client, patient, doctor = signed_in
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 4, 11, 30))
    frozen_now.move_to(local(doctor.clinic, 2026, 3, 4, 11, 45))  # it has started
    log_in(client, patient)  # the earlier sign-in has timed out
    assert str(Status.BOOKED.label) in page(client)

    services.mark_attendance(appointment=appointment, status=Status.NO_SHOW, marked_by=None)

    assert str(Status.NO_SHOW.label) in page(client)


def test_the_list_in_another_language_is_another_entry(signed_in):
    client, patient, doctor = signed_in
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    assert "Upcoming" in page(client)

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    text = page(client)

    with translation.override("de"):
        german = translation.gettext("Upcoming")
    assert german != "Upcoming"
    assert german in text


def test_control_a_key_that_ignores_the_rows_shows_a_stale_list(monkeypatch, signed_in):
    """The harness sees a stale page when the key leaves out what changed: the tests
    above would fail if the key did not name the rows."""
    client, patient, doctor = signed_in
    monkeypatch.setattr(views, "fingerprint", lambda *parts: "always-the-same")
    assert "You have no upcoming appointments" in page(client)

    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))

    assert "You have no upcoming appointments" in page(client)
