"""The patient's pages: booking, My appointments, details, cancel and reschedule.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``); the doctors work Mon-Fri 9-17 in
30-minute slots, so Monday 9 March 10:00 CET (09:00 UTC) is free and bookable.
"""

import datetime as dt
import re
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_email.models import EmailDevice

from appointments.models import Appointment, Status
from appointments.services import cancel_appointment
from scheduling.models import AppointmentType
from tests.factories import (
    book,
    consultation,
    local,
    log_in,
    make_clinic,
    make_doctor,
    make_patient,
    make_type,
    make_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

MONDAY_10_UTC = "2026-03-09T09:00:00Z"  # Monday 9 March 2026, 10:00 CET
MONDAY_10_LABEL = "Monday 9 March 2026, 10:00 CET"


@pytest.fixture
def doctor():
    return make_doctor(
        make_clinic(name="Lindenhof Practice", phone="+49 30 555 0100"), name="Dr. Anna Weber"
    )


@pytest.fixture
def patient(client):
    patient = make_patient()
    log_in(client, patient)
    return patient


def monday(doctor, hour, minute=0):
    return local(doctor.clinic, 2026, 3, 9, hour, minute)


def booking_url(doctor, start=MONDAY_10_UTC, appointment_type=None):
    kind = appointment_type or consultation(doctor)
    return f"{reverse('appointments:book')}?doctor={doctor.pk}&type={kind.pk}&start={start}"


def booking_key_of(page: str) -> str:
    found = re.search(r'name="booking_key" value="([0-9a-f]{32})"', page)
    assert found, "no booking key in the page"
    return found.group(1)


def detail_url(appointment):
    return reverse("appointments:detail", args=[appointment.pk])


# Booking: the confirmation step


def test_the_booking_page_shows_what_is_about_to_be_booked(client, patient, doctor):
    response = client.get(booking_url(doctor))

    page = response.text
    assert response.status_code == 200
    assert "<h1>Confirm your booking</h1>" in page
    assert "Dr. Anna Weber" in page
    assert "Lindenhof Practice" in page
    assert "Hauptstraße 1, Berlin" in page
    assert "Consultation, 30 min" in page
    assert MONDAY_10_LABEL in page
    assert '<label for="id_reason">' in page
    assert booking_key_of(page)
    assert '<button type="submit" class="button">Confirm booking</button>' in page
    assert 'hx-disabled-elt="find button"' in page


def test_each_rendering_of_the_form_has_a_new_booking_key(client, patient, doctor):
    first = booking_key_of(client.get(booking_url(doctor)).text)
    second = booking_key_of(client.get(booking_url(doctor)).text)

    assert first != second


def test_confirming_books_and_redirects_to_the_appointment(client, patient, doctor):
    key = booking_key_of(client.get(booking_url(doctor)).text)

    response = client.post(booking_url(doctor), {"reason": " Cough ", "booking_key": key})

    appointment = Appointment.objects.get()
    assert response.status_code == 303
    assert response["Location"] == detail_url(appointment)
    assert (appointment.patient, appointment.doctor, appointment.status) == (
        patient,
        doctor,
        Status.BOOKED,
    )
    assert appointment.starts_at == monday(doctor, 10)
    assert appointment.reason == "Cough"
    assert appointment.booked_by == patient.user
    page = client.get(response["Location"]).text
    assert f"Booked: Consultation with Dr. Anna Weber on {MONDAY_10_LABEL}." in page
    assert 'role="status"' in page


def test_submitting_the_same_form_twice_books_once_and_redirects_the_same_way(
    client, patient, doctor
):
    key = booking_key_of(client.get(booking_url(doctor)).text)

    first = client.post(booking_url(doctor), {"booking_key": key})
    second = client.post(booking_url(doctor), {"booking_key": key})

    assert Appointment.objects.count() == 1
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]


def test_resending_a_form_whose_booking_was_cancelled_since_does_not_say_booked(
    client, patient, doctor
):
    key = booking_key_of(client.get(booking_url(doctor)).text)
    client.post(booking_url(doctor), {"booking_key": key}, follow=True)  # shows "Booked:"
    cancel_appointment(appointment=Appointment.objects.get(), cancelled_by=patient.user)

    page = client.post(booking_url(doctor), {"booking_key": key}, follow=True).text

    assert "has since been cancelled" in page
    assert "Booked:" not in page
    assert Appointment.objects.count() == 1


def test_an_htmx_confirmation_navigates_to_the_appointment(client, patient, doctor):
    key = booking_key_of(client.get(booking_url(doctor)).text)

    response = client.post(booking_url(doctor), {"booking_key": key}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response["HX-Redirect"] == detail_url(Appointment.objects.get())


def test_a_time_taken_meanwhile_is_refused_with_other_free_times(client, patient, doctor):
    key = booking_key_of(client.get(booking_url(doctor)).text)
    book(make_patient(), doctor, monday(doctor, 10))

    response = client.post(booking_url(doctor), {"booking_key": key})

    page = response.text
    assert response.status_code == 409
    assert "Sorry, that time is no longer available" in page
    assert 'role="alert"' in page
    assert 'class="slots"' in page
    assert f'href="{booking_url(doctor, "2026-03-09T09:30:00Z").replace("&", "&amp;")}"' in page
    assert 'start=2026-03-09T09:00:00Z"' not in page
    assert "Confirm booking" not in page
    assert Appointment.objects.filter(patient=patient).count() == 0


def test_an_htmx_confirmation_of_a_taken_time_gets_the_step_alone(client, patient, doctor):
    key = booking_key_of(client.get(booking_url(doctor)).text)
    book(make_patient(), doctor, monday(doctor, 10))

    response = client.post(booking_url(doctor), {"booking_key": key}, HTTP_HX_REQUEST="true")

    assert response.status_code == 409
    assert response.text.lstrip().startswith('<div id="booking-step"')
    assert "<html" not in response.text
    assert "no longer available" in response.text


def test_opening_the_page_of_a_taken_time_says_so_at_once(client, patient, doctor):
    book(make_patient(), doctor, monday(doctor, 10))

    response = client.get(booking_url(doctor))

    assert response.status_code == 409
    assert "no longer available" in response.text
    assert "Confirm booking" not in response.text


def test_an_overlapping_booking_of_the_patient_is_refused_with_a_friendly_message(
    client, patient, doctor
):
    book(patient, make_doctor(doctor.clinic), monday(doctor, 10))
    key = booking_key_of(client.get(booking_url(doctor)).text)

    response = client.post(booking_url(doctor), {"booking_key": key})

    assert response.status_code == 409
    assert "You already have an appointment at that time." in response.text
    assert 'class="slots"' in response.text


def test_too_many_upcoming_appointments_are_refused_with_a_friendly_message(
    client, patient, doctor
):
    doctor.clinic.max_upcoming_per_patient = 1
    doctor.clinic.save()
    book(patient, doctor, monday(doctor, 14))
    key = booking_key_of(client.get(booking_url(doctor)).text)

    response = client.post(booking_url(doctor), {"booking_key": key})

    assert response.status_code == 422
    assert "maximum number of upcoming appointments" in response.text
    assert f'href="{reverse("appointments:list")}"' in response.text


def test_a_time_inside_the_minimum_notice_is_refused(client, patient, doctor):
    # Now is 09:00 Berlin on Wednesday; 10:00 is inside the two hours' notice.
    too_soon = "2026-03-04T09:00:00Z"
    with time_machine.travel(dt.datetime(2026, 3, 4, 6, 0, tzinfo=dt.UTC), tick=False):
        key = booking_key_of(client.get(booking_url(doctor, too_soon)).text)

    response = client.post(booking_url(doctor, too_soon), {"booking_key": key})

    assert response.status_code == 422
    assert "That time is too soon to book." in response.text


def test_a_reason_longer_than_500_characters_is_refused_inline(client, patient, doctor):
    key = booking_key_of(client.get(booking_url(doctor)).text)

    response = client.post(booking_url(doctor), {"reason": "x" * 501, "booking_key": key})

    assert response.status_code == 400
    assert 'class="field__errors"' in response.text
    assert "at most 500 characters" in response.text
    assert not Appointment.objects.exists()


def test_a_form_without_its_booking_key_is_refused(client, patient, doctor):
    response = client.post(booking_url(doctor), {"reason": ""})

    assert response.status_code == 400
    assert "This form has expired" in response.text
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?doctor=abc&type=1&start=2026-03-09T09:00:00Z",
        "?doctor={doctor}&type={type}",
        "?doctor={doctor}&type={type}&start=next-monday",
        "?doctor={doctor}&type={type}&start=2026-03-09T10:00:00",
        "?doctor={doctor}&type={type}&start=2026-03-09",
        "?doctor={doctor}&type={type}&start=2026-03-09T09:00:00 00:00",
    ],
    ids=["nothing", "doctor-not-a-number", "no-start", "start-not-iso", "naive", "date", "plus"],
)
def test_a_malformed_booking_link_is_a_400_with_a_message(client, patient, doctor, query):
    url = reverse("appointments:book") + query.format(
        doctor=doctor.pk, type=consultation(doctor).pk
    )

    response = client.get(url)

    assert response.status_code == 400
    assert "This booking link does not work" in response.text
    assert 'role="alert"' in response.text


def test_an_unknown_doctor_or_type_is_not_found(client, patient, doctor):
    kind = consultation(doctor)
    base = reverse("appointments:book")

    assert (
        client.get(f"{base}?doctor=999999&type={kind.pk}&start={MONDAY_10_UTC}").status_code == 404
    )
    assert (
        client.get(f"{base}?doctor={doctor.pk}&type=999999&start={MONDAY_10_UTC}").status_code
        == 404
    )


def test_a_type_of_another_doctor_is_refused(client, patient, doctor):
    other_type = consultation(make_doctor(doctor.clinic))

    response = client.get(booking_url(doctor, appointment_type=other_type))

    assert response.status_code == 400
    assert "cannot be booked" in response.text


def test_an_inactive_doctor_cannot_be_booked(client, patient, doctor):
    doctor.is_active = False
    doctor.save()

    get = client.get(booking_url(doctor))
    post = client.post(booking_url(doctor), {"booking_key": "a" * 32})

    assert get.status_code == post.status_code == 400
    assert not Appointment.objects.exists()


def test_an_inactive_appointment_type_cannot_be_booked(client, patient, doctor):
    kind = make_type(doctor, 60, "Long consultation")
    AppointmentType.objects.filter(pk=kind.pk).update(is_active=False)

    assert client.get(booking_url(doctor, appointment_type=kind)).status_code == 400


def test_a_patient_without_a_complete_profile_is_sent_to_fill_it_in_first(client, doctor):
    incomplete = make_patient(full_name="", phone="")
    log_in(client, incomplete)

    response = client.get(booking_url(doctor))

    assert response.status_code == 303
    assert response["Location"] == (
        reverse("accounts:profile") + "?next=" + quote(booking_url(doctor), safe="")
    )


def test_an_anonymous_visitor_is_sent_to_sign_in(client, doctor):
    response = client.get(booking_url(doctor))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_staff_cannot_use_the_patient_pages(client, doctor):
    staff = make_user(is_staff=True)
    device = EmailDevice.objects.create(user=staff, name="email", confirmed=True)
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    assert client.get(booking_url(doctor)).status_code == 403
    assert client.get(reverse("appointments:list")).status_code == 403


# My appointments


def test_my_appointments_lists_upcoming_soonest_first_and_the_rest_newest_first(
    client, patient, doctor
):
    later = book(patient, doctor, monday(doctor, 14))
    sooner = book(patient, doctor, monday(doctor, 10))
    cancelled = book(patient, doctor, monday(doctor, 16))
    cancel_appointment(appointment=cancelled, cancelled_by=patient.user)
    with time_machine.travel(dt.datetime(2026, 2, 1, 8, tzinfo=dt.UTC), tick=False):
        past = book(patient, doctor, local(doctor.clinic, 2026, 2, 2, 10))
    book(make_patient(), doctor, monday(doctor, 11))  # someone else's

    response = client.get(reverse("appointments:list"))

    page = response.text
    upcoming, rest = page.split('id="past-heading"')
    order = [detail_url(a) for a in (sooner, later)]
    assert re.findall(r'href="(/appointments/\d+/)"', upcoming) == order
    assert re.findall(r'href="(/appointments/\d+/)"', rest) == [
        detail_url(cancelled),
        detail_url(past),
    ]
    assert "Cancelled by patient" in rest
    assert MONDAY_10_LABEL in upcoming
    assert "Consultation with Dr. Anna Weber" in upcoming
    assert "Monday 2 February 2026, 10:00 CET" in rest
    assert page.count('<li class="appointment-card') == 4


def test_my_appointments_invites_to_book_when_there_are_none(client, patient):
    page = client.get(reverse("appointments:list")).text

    assert "You have no upcoming appointments." in page
    assert 'href="/doctors/"' in page
    assert "Past and cancelled" not in page


def test_my_appointments_takes_the_same_queries_for_one_or_many(client, patient, doctor):
    book(patient, doctor, monday(doctor, 9))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("appointments:list"))
    for hour in (10, 11, 12, 13):
        book(patient, make_doctor(make_clinic()), monday(doctor, hour))
    cancel_appointment(appointment=Appointment.objects.latest("pk"), cancelled_by=patient.user)

    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("appointments:list"))

    assert response.text.count('<li class="appointment-card') == 5
    assert len(many) == len(one)


def test_my_appointments_needs_a_login(client):
    response = client.get(reverse("appointments:list"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# Details


@pytest.fixture
def appointment(patient, doctor):
    return book(patient, doctor, monday(doctor, 10), reason="Sore throat")


def test_the_details_show_everything_about_the_appointment(client, appointment):
    page = client.get(detail_url(appointment)).text

    assert "<h1>Consultation with Dr. Anna Weber</h1>" in page
    assert MONDAY_10_LABEL in page
    assert "Lindenhof Practice" in page
    assert "Hauptstraße 1, Berlin" in page
    assert "+49 30 555 0100" in page
    assert "Consultation, 30 min" in page
    assert ">Booked</span>" in page
    assert "Sore throat" in page
    assert f'href="{reverse("appointments:reschedule", args=[appointment.pk])}"' in page
    assert f'href="{reverse("appointments:cancel", args=[appointment.pk])}#confirm-cancel"' in page
    assert f'href="{reverse("appointments:ics", args=[appointment.pk])}"' in page


def test_another_patients_appointment_is_not_found(client, patient, doctor):
    theirs = book(make_patient(), doctor, monday(doctor, 10))

    assert client.get(detail_url(theirs)).status_code == 404
    assert client.post(reverse("appointments:cancel", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("appointments:reschedule", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("appointments:ics", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.BOOKED


def test_after_the_cutoff_the_details_say_to_call_the_clinic(client, patient, appointment):
    with time_machine.travel(monday(appointment.doctor, 8, 30), tick=False):
        log_in(client, patient)  # the first session expired in the five days travelled
        page = client.get(detail_url(appointment)).text

    assert "too close to change online" in page
    assert "Please call the clinic:" in page
    assert 'href="tel:+49305550100">+49 30 555 0100</a>' in page
    assert "Cancel this appointment" not in page
    assert "Choose another time" not in page


def test_a_past_appointment_offers_no_changes(client, patient, appointment):
    with time_machine.travel(monday(appointment.doctor, 12), tick=False):
        log_in(client, patient)
        page = client.get(detail_url(appointment)).text

    assert "<h1>Consultation with Dr. Anna Weber</h1>" in page
    assert "Cancel this appointment" not in page
    assert "Please call the clinic" not in page


# Cancelling


def cancel_url(appointment):
    return reverse("appointments:cancel", args=[appointment.pk])


def test_cancelling_with_a_reason_cancels_and_shows_the_cancelled_appointment(client, appointment):
    response = client.post(cancel_url(appointment), {"reason": "Feeling better"})

    appointment.refresh_from_db()
    assert response.status_code == 303
    assert response["Location"] == detail_url(appointment)
    assert appointment.status == Status.CANCELLED_BY_PATIENT
    assert appointment.cancellation_reason == "Feeling better"
    page = client.get(response["Location"]).text
    assert f"Cancelled: Consultation with Dr. Anna Weber on {MONDAY_10_LABEL}." in page
    assert ">Cancelled by patient</span>" in page
    assert "Feeling better" in page
    assert "Cancel this appointment" not in page


def test_a_cancelled_appointments_calendar_file_is_offered_to_mark_it_cancelled(
    client, appointment
):
    assert "Add to your calendar (.ics)" in client.get(detail_url(appointment)).text

    client.post(cancel_url(appointment), {"reason": "Feeling better"})
    page = client.get(detail_url(appointment)).text

    assert "Mark it cancelled in your calendar (.ics)" in page
    assert "Add to your calendar" not in page


def test_cancelling_twice_shows_the_same_cancelled_state(client, appointment):
    first = client.post(cancel_url(appointment), {"reason": "A"})
    second = client.post(cancel_url(appointment), {"reason": "B"})

    appointment.refresh_from_db()
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert appointment.cancellation_reason == "A"
    assert appointment.history.count() == 2


def test_cancelling_after_the_cutoff_is_refused_with_the_clinics_phone(
    client, patient, appointment
):
    with time_machine.travel(monday(appointment.doctor, 8, 30), tick=False):
        log_in(client, patient)
        response = client.post(cancel_url(appointment), {"reason": "Late"})

    appointment.refresh_from_db()
    assert response.status_code == 422
    assert "too close to change online" in response.text
    assert "Please call the clinic:" in response.text
    assert "+49 30 555 0100" in response.text
    assert appointment.status == Status.BOOKED


def test_only_the_post_cancels_a_get_asks_to_confirm(client, appointment):
    response = client.get(cancel_url(appointment))

    assert response.status_code == 200
    assert "Cancel this appointment?" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "booked"


# Rescheduling


def reschedule_url(appointment, week=""):
    url = reverse("appointments:reschedule", args=[appointment.pk])
    return f"{url}?week={week}" if week else url


def choose_url(appointment, start):
    return f"{reverse('appointments:reschedule', args=[appointment.pk])}?start={quote(start)}"


def test_the_reschedule_page_offers_a_week_of_free_times_as_links_to_confirm(client, appointment):
    page = client.get(reschedule_url(appointment)).text

    assert "<h1>Choose another time</h1>" in page
    assert "Consultation, week of 9&ndash;15 March 2026" in page
    assert page.count('<div class="day">') == 7
    url = reverse("appointments:reschedule", args=[appointment.pk])
    assert (
        f'<a class="slot" href="{url}?start=2026-03-09T13:00:00Z">14:00'
        '<span class="visually-hidden"> on Monday 9 March 2026, CET</span></a>'
    ) in page
    # No form: a tap on a time moves nothing.
    assert 'name="start"' not in page
    # Its own time is shown, not offered.
    assert "start=2026-03-09T09:00:00Z" not in page
    assert "(your time)" in page
    assert "?week=2026-03-02" in page  # this week still has bookable times
    assert "?week=2026-03-16" in page


def test_choosing_a_time_asks_to_confirm_and_moves_nothing(client, appointment):
    response = client.get(choose_url(appointment, "2026-03-09T13:00:00Z"))

    page = response.text
    assert response.status_code == 200
    assert "<h1>Move your appointment?</h1>" in page
    assert (
        "Move your appointment with Dr. Anna Weber from Mon 9 Mar, 10:00 to Mon 9 Mar, 14:00?"
        in page
    )
    assert "Monday 9 March 2026, 14:00 CET" in page
    assert '<input type="hidden" name="start" value="2026-03-09T13:00:00Z">' in page
    assert '<button type="submit" class="button">Move appointment</button>' in page
    assert f'href="{detail_url(appointment)}">No, keep the current time</a>' in page
    assert "?week=2026-03-09" in page  # back to the times, at the chosen one's week
    assert 'class="slots"' not in page
    appointment.refresh_from_db()
    assert appointment.starts_at == monday(appointment.doctor, 10)
    assert appointment.sequence == 0
    assert appointment.history.count() == 1


def test_the_confirm_steps_form_as_sent_without_javascript_moves_the_appointment(
    client, appointment
):
    page = client.get(choose_url(appointment, "2026-03-09T13:00:00Z")).text
    form = re.search(
        r'<form method="post" action="([^"]+)" class="narrow reschedule-confirm"[^>]*>(.*?)</form>',
        page,
        re.S,
    )
    assert form, "no form on the confirm step"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form[2]))

    response = client.post(form[1], fields)

    appointment.refresh_from_db()
    assert response.status_code == 303
    assert response["Location"] == detail_url(appointment)
    assert appointment.starts_at == monday(appointment.doctor, 14)


def test_confirming_with_htmx_sends_the_browser_to_the_appointment(client, appointment):
    response = client.post(
        reschedule_url(appointment), {"start": "2026-03-09T13:00:00Z"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == detail_url(appointment)
    appointment.refresh_from_db()
    assert appointment.starts_at == monday(appointment.doctor, 14)


def test_the_confirm_step_for_a_taken_time_says_so_and_offers_fresh_times(client, appointment):
    book(make_patient(), appointment.doctor, monday(appointment.doctor, 14))

    response = client.get(choose_url(appointment, "2026-03-09T13:00:00Z"))

    assert response.status_code == 409
    assert "Sorry, that time is no longer available" in response.text
    assert "Move appointment" not in response.text
    assert "start=2026-03-09T13:00:00Z" not in response.text
    assert "start=2026-03-09T13:30:00Z" in response.text


@pytest.mark.parametrize(
    "start",
    [
        "2026-03-09T09:07:00Z",  # not one of the times offered
        "2026-03-04T07:00:00Z",  # past
        "2026-03-14T10:00:00Z",  # a Saturday: no hours
        "2027-03-08T10:00:00Z",  # beyond the booking horizon
    ],
)
def test_the_confirm_step_for_a_time_not_offered_says_it_is_not_available(
    client, appointment, start
):
    response = client.get(choose_url(appointment, start))

    assert response.status_code == 409
    assert "Sorry, that time is no longer available" in response.text
    assert "Move appointment" not in response.text


@pytest.mark.parametrize("start", ["tomorrow", "2026-03-09T10:00:00", "9" * 60, ""])
def test_the_confirm_step_for_a_malformed_time_is_a_400_with_the_week(client, appointment, start):
    response = client.get(choose_url(appointment, start))

    assert response.status_code == 400
    assert 'role="alert"' in response.text
    assert "Move appointment" not in response.text
    assert 'class="slots"' in response.text
    appointment.refresh_from_db()
    assert appointment.starts_at == monday(appointment.doctor, 10)


def test_the_confirm_step_for_the_appointments_own_time_says_it_is_there_already(
    client, appointment
):
    response = client.get(choose_url(appointment, MONDAY_10_UTC))

    assert "Your appointment is at this time already." in response.text
    assert "Move appointment" not in response.text


def test_the_confirm_step_after_the_cutoff_goes_to_the_details(client, patient, appointment):
    with time_machine.travel(monday(appointment.doctor, 8, 30), tick=False):
        log_in(client, patient)
        response = client.get(choose_url(appointment, "2026-03-10T13:00:00Z"))

    assert response.status_code == 302
    assert response["Location"] == detail_url(appointment)


def test_confirming_a_time_taken_since_the_confirm_step_is_a_409_not_a_move(client, appointment):
    assert client.get(choose_url(appointment, "2026-03-09T13:00:00Z")).status_code == 200
    book(make_patient(), appointment.doctor, monday(appointment.doctor, 14))

    response = client.post(reschedule_url(appointment), {"start": "2026-03-09T13:00:00Z"})

    assert response.status_code == 409
    assert "Sorry, that time is no longer available" in response.text
    appointment.refresh_from_db()
    assert appointment.starts_at == monday(appointment.doctor, 10)


def test_confirming_twice_moves_once(client, appointment):
    first = client.post(reschedule_url(appointment), {"start": "2026-03-09T13:00:00Z"})
    second = client.post(reschedule_url(appointment), {"start": "2026-03-09T13:00:00Z"})

    appointment.refresh_from_db()
    assert first.status_code == second.status_code == 303
    assert appointment.sequence == 1
    assert appointment.history.count() == 2


def test_rescheduling_moves_the_appointment_and_says_so(client, appointment):
    response = client.post(reschedule_url(appointment), {"start": "2026-03-09T13:00:00Z"})

    appointment.refresh_from_db()
    assert response.status_code == 303
    assert response["Location"] == detail_url(appointment)
    assert appointment.starts_at == monday(appointment.doctor, 14)
    assert appointment.sequence == 1
    page = client.get(response["Location"]).text
    assert (
        "Rescheduled: Consultation with Dr. Anna Weber on Monday 9 March 2026, 14:00 CET." in page
    )


def test_rescheduling_to_a_taken_time_is_a_409_with_fresh_times(client, appointment):
    book(make_patient(), appointment.doctor, monday(appointment.doctor, 14))

    response = client.post(reschedule_url(appointment), {"start": "2026-03-09T13:00:00Z"})

    appointment.refresh_from_db()
    assert response.status_code == 409
    assert "Sorry, that time is no longer available" in response.text
    assert "start=2026-03-09T13:00:00Z" not in response.text
    assert "start=2026-03-09T13:30:00Z" in response.text
    assert appointment.starts_at == monday(appointment.doctor, 10)


def test_rescheduling_after_the_cutoff_is_refused_with_the_clinics_phone(
    client, patient, appointment
):
    with time_machine.travel(monday(appointment.doctor, 8, 30), tick=False):
        log_in(client, patient)
        post = client.post(reschedule_url(appointment), {"start": "2026-03-10T13:00:00Z"})
        get = client.get(reschedule_url(appointment))

    assert post.status_code == 422
    assert "too close to change online" in post.text
    assert "+49 30 555 0100" in post.text
    assert 'class="slots"' not in post.text
    assert get.status_code == 302
    assert get["Location"] == detail_url(appointment)


def test_rescheduling_without_a_valid_time_is_a_400(client, appointment):
    response = client.post(reschedule_url(appointment), {"start": "tomorrow"})

    assert response.status_code == 400
    assert "ISO 8601" in response.text


def test_the_next_week_comes_as_a_partial_for_htmx(client, appointment):
    response = client.get(reschedule_url(appointment, "2026-03-16"), HTTP_HX_REQUEST="true")

    page = response.text
    assert response.status_code == 200
    assert 'class="week-bar"' in page
    assert 'id="slot-list"' not in page  # the list's content, swapped into it
    assert "<html" not in page
    assert "Consultation, week of 16&ndash;22 March 2026" in page
    assert "start=2026-03-16T08:00:00Z" in page
    assert "HX-Request" in response["Vary"]


def test_the_next_week_is_a_whole_page_without_htmx(client, appointment):
    page = client.get(reschedule_url(appointment, "2026-03-18")).text

    assert "<html" in page
    assert "Consultation, week of 16&ndash;22 March 2026" in page


def test_a_week_outside_the_booking_window_shows_the_nearest_bookable_week(client, appointment):
    page = client.get(reschedule_url(appointment, "2020-01-06")).text

    assert "Consultation, week of 2&ndash;8 March 2026" in page
    assert "Previous week" not in page


def test_a_malformed_week_is_a_400(client, appointment):
    assert client.get(reschedule_url(appointment, "soon")).status_code == 400


def test_a_cancelled_appointment_cannot_be_rescheduled(client, patient, appointment):
    cancel_appointment(appointment=appointment, cancelled_by=patient.user)

    get = client.get(reschedule_url(appointment))
    post = client.post(reschedule_url(appointment), {"start": "2026-03-09T13:00:00Z"})

    assert get.status_code == 302
    assert post.status_code == 409
    assert "can no longer be changed" in post.text


def test_an_htmx_confirmation_for_a_doctor_no_longer_bookable_shows_why(client, patient, doctor):
    key = booking_key_of(client.get(booking_url(doctor)).text)
    doctor.is_active = False
    doctor.save()

    response = client.post(booking_url(doctor), {"booking_key": key}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert response.text.lstrip().startswith('<div id="booking-step"')
    assert "This doctor or appointment type cannot be booked." in response.text
