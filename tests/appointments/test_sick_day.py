"""A sick day: staff cancel the rest of one doctor's day in one go.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``). Dr. Anna Weber of the Lindenhof
clinic is ill on Monday 9 March.
"""

import datetime as dt

import pytest
from django.urls import reverse

from appointments import services
from appointments.exceptions import DayIsOver
from appointments.models import Appointment, Notification, Status
from appointments.services import cancel_doctor_day
from tests.factories import (
    book,
    local,
    log_in_staff,
    make_clinic,
    make_patient,
    make_staff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

SICK_DAY = dt.date(2026, 3, 9)
MONDAY_11_30 = dt.datetime(2026, 3, 9, 10, 30, tzinfo=dt.UTC)  # 11:30 CET


@pytest.fixture
def annas_monday(clinic, anna):
    """Petra at 10:00, Max at 14:00 and Nina at 16:00 with Dr. Weber on the sick day."""
    return [
        book(make_patient(full_name=name), anna, local(clinic, 2026, 3, 9, hour))
        for name, hour in [("Petra Pohl", 10), ("Max Meier", 14), ("Nina Neu", 16)]
    ]


def url(doctor, day=SICK_DAY):
    return reverse("staff_appointments:cancel_day", args=[doctor.pk, day.isoformat()])


def statuses(appointments):
    return [Appointment.objects.get(pk=each.pk).status for each in appointments]


# The service


def test_it_cancels_every_booked_appointment_of_the_day_for_the_clinic(anna, staff, annas_monday):
    cancelled = cancel_doctor_day(
        doctor=anna, day=SICK_DAY, reason="Dr. Weber is ill", cancelled_by=staff
    )

    assert len(cancelled) == 3
    assert statuses(annas_monday) == [Status.CANCELLED_BY_CLINIC] * 3
    for appointment in annas_monday:
        appointment.refresh_from_db()
        assert appointment.cancellation_reason == "Dr. Weber is ill"


def test_it_queues_a_cancellation_email_for_each_patient(anna, staff, annas_monday):
    cancel_doctor_day(doctor=anna, day=SICK_DAY, reason="Ill", cancelled_by=staff)

    notices = Notification.objects.filter(kind=Notification.Kind.CANCELLED_BY_CLINIC)
    assert sorted(notices.values_list("appointment__patient__full_name", flat=True)) == [
        "Max Meier",
        "Nina Neu",
        "Petra Pohl",
    ]


def test_it_records_who_cancelled_and_why_in_each_history(anna, staff, annas_monday):
    cancel_doctor_day(doctor=anna, day=SICK_DAY, reason="Dr. Weber is ill", cancelled_by=staff)

    for appointment in annas_monday:
        last = appointment.history.order_by("-history_date", "-history_id").first()
        assert (last.history_user, last.history_change_reason) == (
            staff,
            "cancelled by clinic: Dr. Weber is ill",
        )


def test_it_leaves_other_doctors_and_other_days_alone(clinic, anna, bernd, staff, annas_monday):
    bernds = book(make_patient(), bernd, local(clinic, 2026, 3, 9, 10))
    tuesday = book(make_patient(), anna, local(clinic, 2026, 3, 10, 10))
    sunday_night = book(make_patient(), anna, local(clinic, 2026, 3, 6, 16))

    cancel_doctor_day(doctor=anna, day=SICK_DAY, reason="Ill", cancelled_by=staff)

    assert statuses([bernds, tuesday, sunday_night]) == [Status.BOOKED] * 3


def test_it_leaves_the_appointments_that_have_already_started(
    frozen_now, anna, staff, annas_monday
):
    frozen_now.move_to(MONDAY_11_30)

    cancelled = cancel_doctor_day(doctor=anna, day=SICK_DAY, reason="Ill", cancelled_by=staff)

    assert [each.pk for each in cancelled] == [each.pk for each in annas_monday[1:]]
    assert statuses(annas_monday) == [Status.BOOKED] + [Status.CANCELLED_BY_CLINIC] * 2


def test_a_failure_midway_cancels_none_of_them(monkeypatch, anna, staff, annas_monday):
    real_cancel = services.cancel_appointment
    calls = []

    def fail_on_the_second(**kwargs):
        calls.append(kwargs["appointment"])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_cancel(**kwargs)

    monkeypatch.setattr(services, "cancel_appointment", fail_on_the_second)

    with pytest.raises(RuntimeError):
        cancel_doctor_day(doctor=anna, day=SICK_DAY, reason="Ill", cancelled_by=staff)

    assert len(calls) == 2
    assert statuses(annas_monday) == [Status.BOOKED] * 3
    assert not Notification.objects.filter(kind=Notification.Kind.CANCELLED_BY_CLINIC).exists()


def test_the_service_refuses_a_blank_reason(anna, staff, annas_monday):
    with pytest.raises(ValueError, match="needs a reason"):
        cancel_doctor_day(doctor=anna, day=SICK_DAY, reason="  ", cancelled_by=staff)

    assert statuses(annas_monday) == [Status.BOOKED] * 3


# The staff pages


def test_the_day_calendar_links_each_doctor_to_the_sick_day_page(client, staff, anna, bernd):
    page = client.get(reverse("staff_appointments:calendar"), {"date": "2026-03-09"}).text

    assert url(anna) in page
    assert url(bernd) in page
    assert "Cancel the rest of this day" in page


def test_the_confirm_step_shows_how_many_appointments_and_which_patients(
    client, staff, anna, annas_monday
):
    response = client.get(url(anna))

    page = response.text
    assert response.status_code == 200
    assert "3 appointments will be cancelled" in page
    for name in ["Petra Pohl", "Max Meier", "Nina Neu"]:
        assert name in page
    assert '<label for="id_reason">' in page
    assert statuses(annas_monday) == [Status.BOOKED] * 3


def test_posting_the_reason_cancels_them_and_says_so(client, staff, anna, annas_monday):
    response = client.post(url(anna), {"reason": "Dr. Weber is ill"}, follow=True)

    assert response.redirect_chain[0][1] == 303
    assert (
        "Closed the rest of the day and cancelled 3 appointments; the patients are being emailed."
        in response.text
    )
    assert statuses(annas_monday) == [Status.CANCELLED_BY_CLINIC] * 3


def test_the_page_requires_a_reason(client, staff, anna, annas_monday):
    response = client.post(url(anna), {"reason": ""})

    assert response.status_code == 400
    assert "Give the reason: the patients are told it." in response.text
    assert statuses(annas_monday) == [Status.BOOKED] * 3


def test_another_clinics_staff_get_a_404(client, anna, annas_monday):
    outsider = make_staff(clinics=(make_clinic(name="Elsewhere"),))
    log_in_staff(client, outsider)

    assert client.get(url(anna)).status_code == 404
    assert client.post(url(anna), {"reason": "Ill"}).status_code == 404
    assert statuses(annas_monday) == [Status.BOOKED] * 3


def test_a_malformed_day_is_a_404(client, staff, anna):
    bad = reverse("staff_appointments:cancel_day", args=[anna.pk, "2026-02-30"])

    assert client.get(bad).status_code == 404


def test_patients_cannot_reach_the_page(client, anna):
    response = client.get(url(anna))

    assert response.status_code in (302, 403)


# The rest of the day is closed too


def free_starts(doctor, day):
    from appointments.free_times import doctor_free_slots
    from tests.factories import consultation

    slots = doctor_free_slots(
        doctor=doctor, appointment_type=consultation(doctor), first_day=day, last_day=day
    )
    return [slot.start for slot in slots]


def test_a_sick_day_ahead_closes_the_whole_day(anna, staff, annas_monday):
    assert free_starts(anna, SICK_DAY)

    cancel_doctor_day(doctor=anna, day=SICK_DAY, reason="Ill", cancelled_by=staff)

    assert free_starts(anna, SICK_DAY) == []
    time_off = anna.time_off.get()
    assert (time_off.start_date, time_off.end_date, time_off.start_time, time_off.end_time) == (
        SICK_DAY,
        SICK_DAY,
        None,
        None,
    )
    assert time_off.reason == "Ill"
    assert time_off.history.get().history_user == staff


def test_a_sick_day_today_closes_it_from_now_on(frozen_now, clinic, anna, staff):
    frozen_now.move_to(MONDAY_11_30 + dt.timedelta(minutes=7, seconds=30))  # 11:37:30 CET
    started = book(make_patient(), anna, local(clinic, 2026, 3, 9, 14))
    assert free_starts(anna, SICK_DAY)

    cancel_doctor_day(doctor=anna, day=SICK_DAY, reason="Ill", cancelled_by=staff)

    assert free_starts(anna, SICK_DAY) == []
    assert anna.time_off.get().start_time == dt.time(11, 37)
    assert statuses([started]) == [Status.CANCELLED_BY_CLINIC]


def test_a_day_that_is_over_is_refused(frozen_now, anna, staff):
    with pytest.raises(DayIsOver):
        cancel_doctor_day(doctor=anna, day=dt.date(2026, 3, 3), reason="Ill", cancelled_by=staff)

    assert not anna.time_off.exists()


def test_the_page_of_a_day_that_is_over_says_so(client, staff, anna):
    page = client.get(url(anna, dt.date(2026, 3, 3))).text

    assert "This day is over" in page
    assert "<form" not in page.split("<main", 1)[1]


def test_a_sick_day_with_no_appointments_left_still_closes_it(client, staff, anna):
    response = client.post(url(anna), {"reason": "Ill"})

    assert response.status_code == 303
    assert free_starts(anna, SICK_DAY) == []
