"""Conflicts staff can act on, time off that cancels what it covers, and staff moving an
appointment (the same service as the patient's, without the patients' cutoff).

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``). Dr. Anna Weber of the Lindenhof
clinic works Monday to Friday 9:00-17:00; Petra is booked on Monday 9 March at 10:00 CET.
"""

import datetime as dt

import pytest
from django.urls import reverse

from appointments.models import Appointment, Notification, Status
from appointments.tasks import send_due_notifications
from tests.factories import book, local, log_in_staff, make_clinic, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

SUMMER_MONDAY = dt.date(2026, 3, 30)


@pytest.fixture
def petra(anna):
    return book(make_patient(full_name="Petra Pohl"), anna, local(anna.clinic, 2026, 3, 9, 10))


def hours_page(anna):
    return reverse("staff_appointments:availability", args=[anna.pk])


def time_off(client, anna, **extra):
    data = {"start_date": "2026-03-09", "end_date": "2026-03-09", "reason": "Dr. Weber is ill"}
    return client.post(reverse("staff_appointments:time-off-add", args=[anna.pk]), data | extra)


def reschedule(appointment, **query):
    url = reverse("staff_appointments:reschedule", args=[appointment.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def status_of(appointment):
    return Appointment.objects.get(pk=appointment.pk).status


# Conflicts


def test_conflicts_are_shown_in_the_clinics_zone_with_move_and_cancel(client, staff, anna):
    summer = book(make_patient(full_name="Sommer Sara"), anna, local(anna.clinic, 2026, 3, 30, 9))
    anna.weekly_rules.filter(weekday=0).delete()

    page = client.get(hours_page(anna)).text

    assert "Monday 30 March 2026, 09:00 CEST" in page  # not 07:00, the UTC time
    assert reschedule(summer, next=hours_page(anna)) in page
    assert reverse("staff_appointments:cancel", args=[summer.pk]) in page
    assert "Cancel with notice" in page
    assert "/admin/" not in page


def test_cancel_with_notice_from_the_conflicts_comes_back_to_the_hours(client, staff, anna, petra):
    response = client.post(
        reverse("staff_appointments:cancel", args=[petra.pk]),
        {"reason": "Dr. Weber is away", "next": hours_page(anna)},
    )

    assert response.status_code == 303
    assert response["Location"] == hours_page(anna)
    assert status_of(petra) == Status.CANCELLED_BY_CLINIC


def test_a_next_address_elsewhere_is_ignored(client, staff, petra):
    response = client.post(
        reverse("staff_appointments:cancel", args=[petra.pk]),
        {"reason": "Away", "next": "https://evil.example.com/"},
    )

    assert response["Location"] == reverse("staff_appointments:detail", args=[petra.pk])


# Time off that covers booked appointments


def test_adding_time_off_over_bookings_asks_first_and_adds_nothing(client, staff, anna, petra):
    response = time_off(client, anna)

    assert response.status_code == 200
    assert "1 booked appointment falls in this time off" in response.text
    assert "Petra Pohl" in response.text
    assert "Add it, cancel the booked appointment and tell the patient" in response.text
    assert not anna.time_off.exists()
    assert status_of(petra) == Status.BOOKED


def test_cancelling_the_booked_appointments_with_the_time_off(client, staff, anna, petra):
    response = time_off(client, anna, booked="cancel")

    assert response.status_code == 302
    assert anna.time_off.count() == 1
    cancelled = Appointment.objects.get(pk=petra.pk)
    assert (cancelled.status, cancelled.cancellation_reason) == (
        Status.CANCELLED_BY_CLINIC,
        "Dr. Weber is ill",
    )
    assert Notification.objects.filter(
        appointment=petra, kind=Notification.Kind.CANCELLED_BY_CLINIC
    ).exists()
    assert "1 appointment cancelled" in client.get(hours_page(anna)).text


def test_cancelling_needs_a_reason_and_then_adds_nothing(client, staff, anna, petra):
    response = time_off(client, anna, booked="cancel", reason="")

    assert response.status_code == 422
    assert "Give the reason" in response.text
    assert "1 booked appointment falls in this time off" in response.text
    assert not anna.time_off.exists()
    assert status_of(petra) == Status.BOOKED


def test_keeping_them_adds_the_time_off_and_lists_the_conflict(client, staff, anna, petra):
    time_off(client, anna, booked="keep")

    page = client.get(hours_page(anna)).text
    assert anna.time_off.count() == 1
    assert status_of(petra) == Status.BOOKED
    assert "Conflicts to resolve" in page
    assert "Monday 9 March 2026, 10:00 CET" in page


def test_time_off_over_no_bookings_is_added_at_once(client, staff, anna):
    response = time_off(client, anna)

    assert response.status_code == 302
    assert anna.time_off.count() == 1


# Staff reschedule


def test_the_reschedule_page_shows_the_doctors_free_times_of_that_type(client, staff, petra):
    page = client.get(reschedule(petra)).text

    assert "Free times with Dr. Anna Weber" in page
    assert "its time now" in page
    assert reschedule(petra, start="2026-03-09T10:00:00Z") in page  # 11:00 CET
    assert "Next week" in page


def test_the_chosen_time_asks_why(client, staff, petra):
    page = client.get(reschedule(petra, start="2026-03-09T10:00:00Z")).text

    assert "Monday 9 March 2026, 11:00 CET" in page
    assert "Why is it moved?" in page


def test_staff_move_it_the_patient_is_emailed_and_the_history_says_who_and_why(
    client, staff, petra, mailoutbox
):
    response = client.post(
        reschedule(petra, start="2026-03-09T10:00:00Z"), {"reason": "Patient asked by phone"}
    )

    assert response.status_code == 303
    moved = Appointment.objects.get(pk=petra.pk)
    assert moved.starts_at == dt.datetime(2026, 3, 9, 10, tzinfo=dt.UTC)
    last = moved.history.order_by("-history_date", "-history_id").first()
    assert last.history_user == staff
    assert last.history_change_reason == (
        "rescheduled by clinic from 2026-03-09 10:00 CET to 2026-03-09 11:00 CET: "
        "Patient asked by phone"
    )
    send_due_notifications()
    (email,) = [m for m in mailoutbox if m.subject.startswith("Rescheduled")]
    _, text, _ = email.attachments[0]  # invite.ics
    text = text.decode()
    assert f"UID:appointment-{petra.pk}@" in text
    assert f"SEQUENCE:{petra.sequence + 1}" in text


def test_the_reason_is_required(client, staff, petra):
    response = client.post(reschedule(petra, start="2026-03-09T10:00:00Z"), {"reason": " "})

    assert response.status_code == 400
    assert status_of(petra) == Status.BOOKED
    assert Appointment.objects.get(pk=petra.pk).starts_at == petra.starts_at


def test_staff_are_not_bound_by_the_patients_cutoff(client, staff, petra, frozen_now):
    frozen_now.move_to(dt.datetime(2026, 3, 9, 8, 30, tzinfo=dt.UTC))  # 09:30, 30 min before
    log_in_staff(client, staff)

    response = client.post(
        reschedule(petra, start="2026-03-09T14:00:00Z"), {"reason": "Doctor running late"}
    )

    assert response.status_code == 303
    assert Appointment.objects.get(pk=petra.pk).starts_at.hour == 14


def test_a_taken_time_is_refused_with_the_errors_status(client, staff, anna, petra):
    book(make_patient(), anna, local(anna.clinic, 2026, 3, 9, 11))

    response = client.post(reschedule(petra, start="2026-03-09T10:00:00Z"), {"reason": "Asked"})

    assert response.status_code == 409
    assert "Choose another time" in response.text


def test_a_cancelled_appointment_cannot_be_moved(client, staff, petra):
    from appointments.services import cancel_appointment

    cancel_appointment(appointment=petra, cancelled_by=staff, reason="Ill", by_clinic=True)

    assert client.get(reschedule(petra)).status_code == 409


def test_another_clinics_appointment_cannot_be_moved(client, petra):
    log_in_staff(client, make_staff(clinics=(make_clinic(name="Elsewhere"),)))

    assert client.get(reschedule(petra)).status_code == 404


def test_the_detail_page_offers_the_move(client, staff, petra):
    page = client.get(reverse("staff_appointments:detail", args=[petra.pk])).text

    assert reschedule(petra) in page
