"""The .ics download: an appointment as an iCalendar event that updates in place."""

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import reverse

from appointments.calendar import appointment_calendar
from appointments.services import cancel_appointment, reschedule_appointment
from tests.factories import book, local, log_in, make_clinic, make_doctor, make_patient
from tests.itip import valid_calendar

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def patient():
    return make_patient()


@pytest.fixture
def appointment(patient):
    clinic = make_clinic(
        name="Lindenhof Practice", address="Lindenstraße 5\n10969 Berlin", phone="+49 30 555 0100"
    )
    doctor = make_doctor(clinic, name="Dr. Anna Weber")
    return book(patient, doctor, local(clinic, 2026, 3, 9, 10), reason="Private matter")


def event_of(data: bytes):
    calendar, event = valid_calendar(data, "PUBLISH")
    assert calendar["VERSION"] == "2.0"
    return event


@override_settings(SITE_URL="https://clinic.example.org")
def test_the_event_describes_the_appointment(appointment):
    event = event_of(appointment_calendar(appointment))

    assert str(event["UID"]) == f"appointment-{appointment.pk}@clinic.example.org"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
    assert event.decoded("DTEND") == dt.datetime(2026, 3, 9, 9, 30, tzinfo=dt.UTC)
    assert event.decoded("DTSTAMP") == dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)
    assert str(event["SUMMARY"]) == "Consultation with Dr. Anna Weber"
    assert str(event["LOCATION"]) == "Lindenhof Practice, Lindenstraße 5, 10969 Berlin"
    assert "+49 30 555 0100" in str(event["DESCRIPTION"])
    assert f"https://clinic.example.org/appointments/{appointment.pk}/" in str(event["DESCRIPTION"])
    assert "Private matter" not in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"
    # RFC 5546 §3.2.1: PUBLISH names its ORGANIZER; with no clinic address, our sender.
    assert str(event["ORGANIZER"]) == "mailto:no-reply@localhost"
    assert event["ORGANIZER"].params["CN"] == "Lindenhof Practice"
    assert "ATTENDEE" not in event


def test_the_times_are_written_in_utc(appointment):
    assert b"DTSTART:20260309T090000Z" in appointment_calendar(appointment)


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence(appointment, patient):
    before = event_of(appointment_calendar(appointment))

    moved = reschedule_appointment(
        appointment=appointment,
        starts_at=local(appointment.doctor.clinic, 2026, 3, 9, 14),
        rescheduled_by=patient.user,
    )
    after = event_of(appointment_calendar(moved))

    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after.decoded("DTSTART") == dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.UTC)


def test_a_cancelled_appointment_is_a_cancelled_event(appointment, patient):
    cancelled = cancel_appointment(appointment=appointment, cancelled_by=patient.user)

    event = event_of(appointment_calendar(cancelled))

    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 1


def test_the_patient_downloads_the_file(client, appointment, patient):
    log_in(client, patient)

    response = client.get(reverse("appointments:ics", args=[appointment.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8; method=PUBLISH"
    assert response["Content-Disposition"] == (
        f'attachment; filename="appointment-{appointment.pk}.ics"'
    )
    assert event_of(response.content)["SUMMARY"] == "Consultation with Dr. Anna Weber"


def test_another_patient_cannot_download_it(client, appointment):
    log_in(client, make_patient())

    assert client.get(reverse("appointments:ics", args=[appointment.pk])).status_code == 404


def test_downloading_needs_a_login(client, appointment):
    response = client.get(reverse("appointments:ics", args=[appointment.pk]))

    assert response.status_code == 302
