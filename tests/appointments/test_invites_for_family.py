"""Invites name the person the visit is for (issue 13): for one of the people a patient
books for, the emailed invite, the .ics download and the email's subject and text say
whom, in the patient's language; every invite valid for its method (tests/itip.py).
And the doctor's calendar feed names the clinic as ORGANIZER, as RFC 5546 §3.2.1 asks
of METHOD:PUBLISH."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation
from icalendar import Calendar

from accounts.models import User
from appointments.calendar import appointment_calendar, doctor_feed
from appointments.services import cancel_appointment, reschedule_appointment
from tests.appointments.test_emails import (
    html_of,
    inbox,  # noqa: F401
    invite_of,
    sent_now,
    subject_of,
    text_of,
)
from tests.factories import (
    book,
    local,
    log_in,
    log_in_staff,
    make_clinic,
    make_dependant,
    make_doctor,
    make_patient,
    make_staff,
)
from tests.itip import REQUIRED_BY_METHOD, valid_calendar

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def clinic():
    return make_clinic(
        name="Lindenhof Practice",
        address="Lindenstraße 5\n10969 Berlin",
        email="praxis@lindenhof.example",
    )


@pytest.fixture
def doctor(clinic):
    return make_doctor(clinic, name="Dr. Anna Weber")


@pytest.fixture
def parent():
    return make_patient("grace@example.com", full_name="Grace Muster")


@pytest.fixture
def for_mia(parent, doctor, clinic):
    return book(
        parent,
        doctor,
        local(clinic, 2026, 3, 9, 10),
        dependant=make_dependant(parent, "Mia Muster"),
    )


# --- The emailed invite ------------------------------------------------------------------


def test_the_booking_invite_and_email_name_the_child(inbox, for_mia):  # noqa: F811
    message = sent_now(inbox)

    _calendar, event = invite_of(message)
    assert str(event["SUMMARY"]) == "Consultation for Mia Muster with Dr. Anna Weber"
    assert "For Mia Muster." in str(event["DESCRIPTION"])
    # Sent to the account holder, who is the invite's attendee.
    assert str(event["ATTENDEE"]) == "mailto:grace@example.com"
    assert subject_of(message).startswith(
        "Booked: Consultation for Mia Muster with Dr. Anna Weber on Mon 9 Mar, 10:00 CET"
    )
    assert "For:         Mia Muster" in text_of(message)
    assert "Mia Muster" in html_of(message)


def test_the_reschedule_and_cancel_invites_name_the_child_too(inbox, for_mia, clinic):  # noqa: F811
    sent_now(inbox)
    moved = reschedule_appointment(
        appointment=for_mia, starts_at=local(clinic, 2026, 3, 9, 14), rescheduled_by=None
    )
    _calendar, rescheduled = invite_of(sent_now(inbox))
    cancel_appointment(appointment=moved, cancelled_by=None)
    _calendar, cancelled = invite_of(sent_now(inbox))

    assert str(rescheduled["SUMMARY"]) == "Consultation for Mia Muster with Dr. Anna Weber"
    assert str(cancelled["SUMMARY"]) == "Consultation for Mia Muster with Dr. Anna Weber"


def test_the_invite_is_german_for_a_german_speaking_parent(inbox, for_mia, parent):  # noqa: F811
    User.objects.filter(pk=parent.user.pk).update(language="de")

    message = sent_now(inbox)

    _calendar, event = invite_of(message)
    assert str(event["SUMMARY"]) == "Consultation für Mia Muster bei Dr. Anna Weber"
    assert "Für Mia Muster." in str(event["DESCRIPTION"])
    assert "für Mia Muster bei Dr. Anna Weber" in subject_of(message)


def test_an_invite_for_oneself_names_no_one_else(inbox, parent, doctor, clinic):  # noqa: F811
    book(parent, doctor, local(clinic, 2026, 3, 9, 10))

    message = sent_now(inbox)

    _calendar, event = invite_of(message)
    assert str(event["SUMMARY"]) == "Consultation with Dr. Anna Weber"
    assert " for " not in subject_of(message)
    assert "For " not in str(event["DESCRIPTION"])


# --- The .ics download ---------------------------------------------------------------------


def test_the_download_names_the_child(client, parent, for_mia):
    log_in(client, parent)

    response = client.get(reverse("appointments:ics", args=[for_mia.pk]))

    assert response.status_code == 200
    _calendar, event = valid_calendar(response.content, "PUBLISH")
    assert str(event["SUMMARY"]) == "Consultation for Mia Muster with Dr. Anna Weber"
    assert "For Mia Muster." in str(event["DESCRIPTION"])


def test_the_download_is_german_in_german(for_mia):
    with translation.override("de"):
        _calendar, event = valid_calendar(appointment_calendar(for_mia), "PUBLISH")

    assert str(event["SUMMARY"]) == "Consultation für Mia Muster bei Dr. Anna Weber"


# --- The doctor's feed -------------------------------------------------------------------


def valid_feed(data: bytes) -> list[Any]:
    """Each of a feed's events checked as tests/itip.py checks an invite's one event."""
    calendar = Calendar.from_ical(data)
    calendar.validate()
    assert str(calendar["METHOD"]) == "PUBLISH"
    events = calendar.walk("VEVENT")
    for event in events:
        one = Calendar()
        for name in ("PRODID", "VERSION", "CALSCALE", "METHOD"):
            one.add(name, calendar[name])
        one.add_component(event)
        valid_calendar(one.to_ical(), "PUBLISH")
        assert REQUIRED_BY_METHOD["PUBLISH"] <= set(event)
    return events


def test_every_event_of_the_doctors_feed_names_the_clinic_as_organizer(doctor, clinic):
    first = book(make_patient(full_name="Petra Pohl"), doctor, local(clinic, 2026, 3, 9, 10))
    second = book(make_patient(full_name="Max Meier"), doctor, local(clinic, 2026, 3, 9, 11))

    events = valid_feed(doctor_feed(doctor, [first, second]))

    assert len(events) == 2
    for event in events:
        assert str(event["ORGANIZER"]) == "mailto:praxis@lindenhof.example"
        assert event["ORGANIZER"].params["CN"] == "Lindenhof Practice"


def test_a_clinic_without_an_address_organizes_from_the_sites_sender(settings):
    settings.DEFAULT_FROM_EMAIL = "Clinic <no-reply@clinic.example.org>"
    doctor = make_doctor(make_clinic(name="Westend", email=""))
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))

    [event] = valid_feed(doctor_feed(doctor, [appointment]))

    assert str(event["ORGANIZER"]) == "mailto:no-reply@clinic.example.org"
    assert event["ORGANIZER"].params["CN"] == "Westend"


def test_the_feed_served_to_calendar_apps_is_valid_with_its_organizer(client, doctor, clinic):
    book(make_patient(full_name="Petra Pohl"), doctor, local(clinic, 2026, 3, 9, 10))
    log_in_staff(client, make_staff(clinics=(clinic,)))
    made = client.post(
        reverse("staff_appointments:calendar_feed", args=[doctor.pk]), {"action": "new"}
    )
    path = "/" + made.context["feed_url"].split("://", 1)[1].split("/", 1)[1]
    client.logout()

    response = client.get(path)

    [event] = valid_feed(response.content)
    assert str(event["ORGANIZER"]) == "mailto:praxis@lindenhof.example"
