"""A doctor's private calendar feed: valid iCalendar (parsed with ``icalendar``), the
patient's initials and the type only, ended by revoking it."""

import datetime as dt

import pytest
from django.urls import reverse
from icalendar import Calendar

from appointments import feeds
from appointments.models import CalendarFeed
from appointments.services import cancel_appointment
from tests.factories import book, local, log_in_staff, make_clinic, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def page(anna):
    return reverse("staff_appointments:calendar_feed", args=[anna.pk])


def new_feed(client, anna):
    response = client.post(page(anna), {"action": "new"})
    assert response.status_code == 200
    url = response.context["feed_url"]
    assert url in response.text
    return url.split("://", 1)[1].split("/", 1)[1]


def test_a_feed_lists_the_doctors_appointments_with_initials_and_type_only(
    client, staff, clinic, anna
):
    petra = book(
        make_patient(full_name="Petra Pohl"),
        anna,
        local(clinic, 2026, 3, 9, 10),
        reason="Sore throat",
    )
    gone = book(make_patient(full_name="Max Meier"), anna, local(clinic, 2026, 3, 9, 11))
    cancel_appointment(appointment=gone, cancelled_by=staff, reason="Ill", by_clinic=True)
    path = "/" + new_feed(client, anna)
    client.logout()  # calendar apps do not sign in

    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "P. P. · Consultation"
    assert event["UID"]
    assert event["DTSTAMP"]
    assert event.decoded("DTSTART") == dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
    assert event.decoded("DTEND") == dt.datetime(2026, 3, 9, 9, 30, tzinfo=dt.UTC)
    text = response.content.decode()
    assert "Petra" not in text
    assert "Pohl" not in text
    assert "Sore throat" not in text
    assert petra.patient.user.email not in text


def test_only_the_tokens_digest_is_stored(client, staff, anna):
    path = new_feed(client, anna)
    token = path.rsplit("/", 1)[1].removesuffix(".ics")

    feed = CalendarFeed.objects.get()
    assert feed.digest == feeds.feed_digest(token)
    assert token not in feed.digest


def test_revoking_ends_the_feed(client, staff, anna):
    path = "/" + new_feed(client, anna)

    client.post(page(anna), {"action": "revoke"})

    assert client.get(path).status_code == 404
    assert "No subscription address is live" in client.get(page(anna)).text


def test_a_new_address_ends_the_old_one(client, staff, anna):
    old = "/" + new_feed(client, anna)
    new = "/" + new_feed(client, anna)

    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_an_unknown_token_is_a_404(client):
    assert client.get(reverse("appointments:feed", args=["nope"])).status_code == 404


def test_another_clinics_staff_cannot_make_one(client, anna):
    log_in_staff(client, make_staff(clinics=(make_clinic(name="Elsewhere"),)))

    assert client.post(page(anna), {"action": "new"}).status_code == 404
    assert not CalendarFeed.objects.exists()
