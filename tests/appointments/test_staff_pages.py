"""The staff calendar and the staff page of one appointment.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``). The Lindenhof clinic (Berlin) has
Dr. Anna Weber and Dr. Bernd Roth; another clinic's staff must never see its appointments.
"""

import datetime as dt

import pytest
from django.urls import reverse

from appointments.models import Appointment, Notification, Status
from appointments.services import cancel_appointment
from tests.factories import (
    book,
    local,
    log_in,
    log_in_staff,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

CALENDAR = reverse("staff_appointments:calendar")
HTMX = {"HTTP_HX_REQUEST": "true"}
DASH = "\N{EN DASH}"  # between the start and the end of an appointment
MONDAY_AFTER_THE_START = dt.datetime(2026, 3, 9, 9, 30, tzinfo=dt.UTC)  # 10:30 CET


@pytest.fixture
def petra():
    return make_patient(full_name="Petra Pohl", phone="+49 170 1234567")


@pytest.fixture
def appointment(anna, petra):
    """Petra with Dr. Weber on Monday 9 March, 10:00 CET."""
    return book(petra, anna, local(anna.clinic, 2026, 3, 9, 10), reason="Sore throat")


@pytest.fixture
def other_clinics_appointment():
    doctor = make_doctor(make_clinic(name="Elsewhere"), name="Dr. Otto Other")
    return book(
        make_patient(full_name="Olga Outsider"), doctor, local(doctor.clinic, 2026, 3, 9, 10)
    )


def go_to_after_the_start(frozen_now, client, user):
    """Monday 10:30 CET; signed in again, as a staff session lasts 12 hours."""
    frozen_now.move_to(MONDAY_AFTER_THE_START)
    log_in_staff(client, user)


def detail_url(appointment):
    return reverse("staff_appointments:detail", args=[appointment.pk])


def cancel_url(appointment):
    return reverse("staff_appointments:cancel", args=[appointment.pk])


def attendance_url(appointment):
    return reverse("staff_appointments:attendance", args=[appointment.pk])


def status_of(appointment):
    return Appointment.objects.get(pk=appointment.pk).status


# The calendar


def test_the_calendar_shows_today_by_default_in_local_time(client, staff, anna, petra):
    book(petra, anna, local(anna.clinic, 2026, 3, 4, 15))

    response = client.get(CALENDAR)

    page = response.text
    assert response.status_code == 200
    assert "Wednesday 4 March 2026" in page
    assert f"15:00{DASH}15:30 CET" in page
    assert "Petra Pohl" in page
    assert "Consultation" in page


def test_the_day_view_shows_that_days_appointments_of_every_doctor(
    client, staff, clinic, anna, bernd, petra, appointment
):
    book(make_patient(full_name="Max Meier"), bernd, local(clinic, 2026, 3, 9, 14))
    book(make_patient(full_name="Tuesday Tom"), anna, local(clinic, 2026, 3, 10, 11))

    page = client.get(CALENDAR, {"date": "2026-03-09"}).text

    assert "Dr. Anna Weber" in page
    assert "Dr. Bernd Roth" in page
    assert f"10:00{DASH}10:30 CET" in page
    assert "Petra Pohl" in page
    assert f"14:00{DASH}14:30 CET" in page
    assert "Max Meier" in page
    assert "Tuesday Tom" not in page
    assert detail_url(appointment) in page


def test_times_after_the_clocks_change_are_shown_in_summer_time(client, staff, anna, petra):
    book(petra, anna, local(anna.clinic, 2026, 4, 6, 10))

    page = client.get(CALENDAR, {"date": "2026-04-06"}).text

    assert f"10:00{DASH}10:30 CEST" in page


def test_the_week_view_shows_monday_to_sunday(client, staff, clinic, anna, appointment):
    book(make_patient(full_name="Tuesday Tom"), anna, local(clinic, 2026, 3, 10, 11))
    book(make_patient(full_name="Next Week Nina"), anna, local(clinic, 2026, 3, 16, 11))

    page = client.get(CALENDAR, {"date": "2026-03-11", "view": "week"}).text

    # The week is one doctor's (the first, without a choice): seven columns (issue 12).
    assert "Dr. Anna Weber, week of Monday 9 March 2026" in page
    assert "Sun 15 Mar" in page
    assert "Petra Pohl" in page
    assert "Tuesday Tom" in page
    assert "Next Week Nina" not in page


def test_the_doctor_view_shows_one_doctors_appointments(
    client, staff, clinic, anna, bernd, appointment
):
    book(make_patient(full_name="Max Meier"), bernd, local(clinic, 2026, 3, 9, 14))

    page = client.get(CALENDAR, {"date": "2026-03-09", "doctor": anna.pk}).text

    assert "Petra Pohl" in page
    assert "Max Meier" not in page


def test_cancelled_appointments_are_shown_struck_through(client, staff, appointment):
    cancel_appointment(appointment=appointment, cancelled_by=staff, reason="Ill", by_clinic=True)

    page = client.get(CALENDAR, {"date": "2026-03-09"}).text

    assert "calendar-entry--cancelled" in page
    assert "Cancelled by clinic" in page


def test_it_links_to_the_previous_and_next_day_and_back_to_today(client, staff, clinic):
    page = client.get(CALENDAR, {"date": "2026-03-09"}).text

    assert f"?clinic={clinic.pk}&amp;view=day&amp;date=2026-03-08" in page
    assert f"?clinic={clinic.pk}&amp;view=day&amp;date=2026-03-10" in page
    assert f"?clinic={clinic.pk}&amp;view=day&amp;date=2026-03-04" in page  # today


def test_the_week_links_keep_the_week_view_and_the_doctor(client, staff, clinic, anna):
    page = client.get(CALENDAR, {"date": "2026-03-11", "view": "week", "doctor": anna.pk}).text

    assert f"?clinic={clinic.pk}&amp;view=week&amp;doctor={anna.pk}&amp;date=2026-03-02" in page
    assert f"?clinic={clinic.pk}&amp;view=week&amp;doctor={anna.pk}&amp;date=2026-03-16" in page


def test_an_htmx_request_gets_only_the_calendar(client, staff, appointment):
    response = client.get(CALENDAR, {"date": "2026-03-09"}, **HTMX)

    page = response.text
    assert response.status_code == 200
    assert "Petra Pohl" in page
    assert "<html" not in page
    assert 'name="view"' not in page  # the filter form stays outside the partial
    assert f'href="{CALENDAR}?clinic={appointment.doctor.clinic_id}&amp;view=day' in page
    assert "HX-Request" in response["Vary"]


def test_an_htmx_step_to_another_day_moves_the_filter_forms_date_too(client, staff):
    page = client.get(CALENDAR, {"date": "2026-03-10"}, **HTMX).text

    assert (
        'id="calendar-date" type="date" name="date" value="2026-03-10" hx-swap-oob="true"' in page
    )


def test_a_plain_request_gets_the_whole_page_with_the_htmx_navigation(client, staff):
    page = client.get(CALENDAR).text

    assert "<html" in page
    assert 'hx-target="#calendar"' in page
    assert 'hx-push-url="true"' in page
    assert page.count('id="calendar-date"') == 1


def test_a_date_that_is_not_a_date_is_a_400(client, staff):
    response = client.get(CALENDAR, {"date": "9 March"})

    assert response.status_code == 400
    assert "Give the date as YYYY-MM-DD" in response.text


def test_a_doctor_of_another_clinic_is_not_found(client, staff, other_clinics_appointment):
    response = client.get(CALENDAR, {"doctor": other_clinics_appointment.doctor_id})

    assert response.status_code == 404


def test_the_calendar_takes_the_same_number_of_queries_for_many_appointments(
    client, staff, clinic, anna, bernd, django_assert_max_num_queries
):
    def queries_for_the_day() -> int:
        with django_assert_max_num_queries(50) as captured:
            assert client.get(CALENDAR, {"date": "2026-03-09", "view": "week"}).status_code == 200
        return len(captured)

    queries_for_the_day()  # what each process keeps (the clinics' names) is kept now
    book(make_patient(), anna, local(clinic, 2026, 3, 9, 9))
    with_one = queries_for_the_day()
    for hour in (10, 11, 12, 13, 14, 15, 16):
        book(make_patient(), anna, local(clinic, 2026, 3, 10, hour))
        book(make_patient(), bernd, local(clinic, 2026, 3, 11, hour))

    assert queries_for_the_day() == with_one
    with django_assert_max_num_queries(with_one):
        client.get(CALENDAR, {"date": "2026-03-09", "view": "week"})


def test_the_staff_home_links_to_each_clinics_calendar(client, staff, clinic):
    page = client.get(reverse("staff_appointments:home")).text

    assert f"{CALENDAR}?clinic={clinic.pk}" in page


# One appointment


def test_the_detail_page_shows_the_patient_and_the_appointment(client, staff, appointment):
    page = client.get(detail_url(appointment)).text

    assert "Petra Pohl" in page
    assert appointment.patient.user.email in page
    assert "+49 170 1234567" in page
    assert "1 January 1980" in page
    assert "Sore throat" in page
    assert "Monday 9 March 2026, 10:00 CET" in page
    assert "Booked" in page


def test_the_detail_page_shows_who_did_what_and_why(client, staff, appointment):
    cancel_appointment(
        appointment=appointment, cancelled_by=staff, reason="Doctor ill", by_clinic=True
    )

    page = client.get(detail_url(appointment)).text

    assert "booked" in page
    assert appointment.patient.user.email in page
    assert "cancelled by the clinic: Doctor ill" in page
    assert "desk@example.com" in page


def test_the_history_speaks_the_pages_language_and_keeps_what_was_typed(client, staff, appointment):
    from appointments.services import reschedule_appointment

    reschedule_appointment(
        appointment=appointment,
        starts_at=appointment.starts_at + dt.timedelta(days=1),
        rescheduled_by=staff,
        by_clinic=True,
    )
    appointment.refresh_from_db()
    cancel_appointment(
        appointment=appointment, cancelled_by=staff, reason="Ärztin krank", by_clinic=True
    )

    page = client.get(detail_url(appointment), HTTP_ACCEPT_LANGUAGE="de").text

    history = page.split('id="history-heading"')[1].split("</table>")[0]
    assert "gebucht" in history
    assert "von der Praxis verschoben von 09.03.2026 10:00 CET auf 10.03.2026 10:00 CET" in history
    assert "von der Praxis abgesagt: Ärztin krank" in history
    assert "booked" not in history
    assert "rescheduled" not in history
    # The record itself stays as written.
    assert appointment.history.first().history_change_reason == "cancelled by clinic: Ärztin krank"


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("booked", "booked"),
        ("cancelled by patient", "cancelled by the patient"),
        ("marked no-show", "marked as not attended"),
        (
            "rescheduled from 2026-03-09 10:00 CET to 2026-03-10 11:30 CET: asked to",
            "moved from 09/03/2026 10:00 CET to 10/03/2026 11:30 CET: asked to",
        ),
        ("something the services never wrote", "something the services never wrote"),
    ],
)
def test_each_kind_of_change_is_described(reason, shown):
    from appointments.templatetags.audit_trail import change_description

    assert change_description(reason) == shown


def test_the_detail_page_shows_the_emails_to_the_patient(client, staff, appointment):
    Notification.objects.filter(appointment=appointment, kind=Notification.Kind.BOOKED).update(
        attempts=2, last_error="SMTP timeout"
    )

    page = client.get(detail_url(appointment)).text

    assert "Booking confirmation" in page
    assert "Reminder" in page
    assert "SMTP timeout" in page


def test_the_detail_page_counts_the_patients_visits_and_no_shows(
    client, staff, clinic, anna, petra, appointment, frozen_now
):
    earlier = book(petra, anna, local(clinic, 2026, 3, 6, 10))
    go_to_after_the_start(frozen_now, client, staff)
    client.post(attendance_url(earlier), {"status": "no_show"})
    client.post(attendance_url(appointment), {"status": "completed"})

    page = client.get(detail_url(appointment)).text

    assert "1 completed, 1 no-show" in page


def test_staff_cancel_with_a_reason_and_the_patient_is_emailed(client, staff, appointment):
    response = client.post(cancel_url(appointment), {"reason": "Doctor ill"})

    assert response.status_code == 303
    assert response["Location"] == detail_url(appointment)
    assert status_of(appointment) == Status.CANCELLED_BY_CLINIC
    last = appointment.history.order_by("-history_date", "-history_id").first()
    assert (last.history_user, last.history_change_reason) == (
        staff,
        "cancelled by clinic: Doctor ill",
    )
    assert Notification.objects.filter(
        appointment=appointment,
        kind=Notification.Kind.CANCELLED_BY_CLINIC,
        state=Notification.State.PENDING,
    ).exists()


def test_a_cancel_without_a_reason_is_a_form_error(client, staff, appointment):
    response = client.post(cancel_url(appointment), {"reason": "  "})

    assert response.status_code == 400
    assert "Give the reason" in response.text
    assert status_of(appointment) == Status.BOOKED


def test_attendance_buttons_appear_only_once_the_appointment_has_started(
    client, staff, appointment, frozen_now
):
    assert "Mark completed" not in client.get(detail_url(appointment)).text

    go_to_after_the_start(frozen_now, client, staff)

    page = client.get(detail_url(appointment)).text
    assert "Mark completed" in page
    assert "Mark no-show" in page


def test_marking_attendance_before_the_start_is_refused_with_a_message(client, staff, appointment):
    response = client.post(attendance_url(appointment), {"status": "completed"})

    assert response.status_code == 422
    assert "only once the appointment has started" in response.text
    assert status_of(appointment) == Status.BOOKED


def test_marking_a_started_appointment_completed(client, staff, appointment, frozen_now):
    go_to_after_the_start(frozen_now, client, staff)

    response = client.post(attendance_url(appointment), {"status": "completed"})

    assert response.status_code == 303
    assert status_of(appointment) == Status.COMPLETED
    assert "marked as attended" in client.get(detail_url(appointment)).text


def test_marking_a_cancelled_appointment_is_refused_with_a_message(
    client, staff, appointment, frozen_now
):
    cancel_appointment(appointment=appointment, cancelled_by=staff, reason="Ill", by_clinic=True)
    go_to_after_the_start(frozen_now, client, staff)

    response = client.post(attendance_url(appointment), {"status": "no_show"})

    assert response.status_code == 409
    assert "can no longer be changed" in response.text
    assert status_of(appointment) == Status.CANCELLED_BY_CLINIC


def test_an_unknown_outcome_is_refused(client, staff, appointment, frozen_now):
    go_to_after_the_start(frozen_now, client, staff)

    response = client.post(attendance_url(appointment), {"status": "cancelled_by_clinic"})

    assert response.status_code == 400
    assert status_of(appointment) == Status.BOOKED


# Clinic isolation


def test_another_clinics_calendar_is_not_found(client, staff, other_clinics_appointment):
    other_clinic = other_clinics_appointment.doctor.clinic

    response = client.get(CALENDAR, {"clinic": other_clinic.pk, "date": "2026-03-09"})

    assert response.status_code == 404


def test_another_clinics_appointment_is_not_found(client, staff, other_clinics_appointment):
    assert client.get(detail_url(other_clinics_appointment)).status_code == 404


def test_another_clinics_appointment_cannot_be_cancelled(client, staff, other_clinics_appointment):
    response = client.post(cancel_url(other_clinics_appointment), {"reason": "Mischief"})

    assert response.status_code == 404
    assert status_of(other_clinics_appointment) == Status.BOOKED


def test_another_clinics_attendance_cannot_be_marked(
    client, staff, other_clinics_appointment, frozen_now
):
    go_to_after_the_start(frozen_now, client, staff)

    response = client.post(attendance_url(other_clinics_appointment), {"status": "no_show"})

    assert response.status_code == 404
    assert status_of(other_clinics_appointment) == Status.BOOKED


def test_the_own_calendar_leaves_out_other_clinics(client, staff, other_clinics_appointment):
    page = client.get(CALENDAR, {"date": "2026-03-09"}).text

    assert "Olga Outsider" not in page
    assert "Dr. Otto Other" not in page


def test_staff_of_two_clinics_choose_between_them(client, clinic, other_clinics_appointment):
    user = make_staff(clinics=(clinic, other_clinics_appointment.doctor.clinic))
    log_in_staff(client, user)

    page = client.get(
        CALENDAR, {"clinic": other_clinics_appointment.doctor.clinic_id, "date": "2026-03-09"}
    ).text

    assert "Olga Outsider" in page
    assert "Lindenhof Practice" in page  # in the clinic picker


def test_a_superuser_sees_every_clinic(client, clinic, other_clinics_appointment):
    log_in_staff(client, make_staff(is_superuser=True))
    other_clinic = other_clinics_appointment.doctor.clinic

    calendar = client.get(CALENDAR, {"clinic": other_clinic.pk, "date": "2026-03-09"})
    detail = client.get(detail_url(other_clinics_appointment))

    assert calendar.status_code == 200
    assert "Olga Outsider" in calendar.text
    assert detail.status_code == 200


# Who may open the pages


@pytest.fixture
def every_page(appointment):
    return [
        ("get", CALENDAR),
        ("get", detail_url(appointment)),
        ("post", cancel_url(appointment)),
        ("post", attendance_url(appointment)),
    ]


def assert_sent_to_the_staff_sign_in(client, pages):
    for method, url in pages:
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("staff:login")), url


def test_visitors_are_sent_to_the_staff_sign_in(client, every_page):
    assert_sent_to_the_staff_sign_in(client, every_page)


def test_patients_are_sent_to_the_staff_sign_in(client, every_page, petra):
    log_in(client, petra)

    assert_sent_to_the_staff_sign_in(client, every_page)


def test_staff_signed_in_with_a_password_only_are_sent_to_the_staff_sign_in(
    client, clinic, every_page, appointment
):
    client.force_login(make_staff(clinics=(clinic,)))

    assert_sent_to_the_staff_sign_in(client, every_page)
    assert status_of(appointment) == Status.BOOKED
