"""The patient's pages for the people they book for: the profile's list and forms, the
confirm page's "Who is this appointment for?", and the appointment pages naming them."""

import pytest
from django.urls import reverse

from accounts.models import Dependant
from appointments.models import Appointment
from tests.appointments.test_pages import booking_key_of, booking_url, monday
from tests.factories import (
    book,
    log_in,
    make_clinic,
    make_dependant,
    make_doctor,
    make_patient,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def doctor():
    return make_doctor(make_clinic(name="Lindenhof Practice"), name="Dr. Anna Weber")


@pytest.fixture
def leon(client):
    patient = make_patient(full_name="Leon Wolf")
    log_in(client, patient)
    return patient


def test_the_profile_page_lists_the_people_i_book_for_with_a_form_to_add_someone(client, leon):
    make_dependant(leon, "Mia Wolf")

    page = client.get(reverse("accounts:profile")).text

    assert "People I book for" in page
    assert "Mia Wolf" in page
    assert 'name="person-full_name"' in page


def test_adding_someone_puts_them_on_the_list(client, leon):
    response = client.post(
        reverse("accounts:dependant-add"),
        {
            "person-full_name": " Mia Wolf ",
            "person-date_of_birth": "2019-06-01",
            "person-relationship": "child",
        },
    )

    assert response.status_code == 302
    assert response["Location"].endswith("#people")
    [mia] = Dependant.objects.filter(patient=leon)
    assert mia.full_name == "Mia Wolf"
    assert str(mia.date_of_birth) == "2019-06-01"


def test_a_name_with_a_line_break_or_a_future_birthday_is_a_form_error(client, leon):
    response = client.post(
        reverse("accounts:dependant-add"),
        {
            "person-full_name": "Mia\nWolf",
            "person-date_of_birth": "2099-01-01",
            "person-relationship": "child",
        },
    )

    assert response.status_code == 400
    assert "line breaks" in response.text
    assert not Dependant.objects.exists()


def test_editing_changes_the_details(client, leon):
    mia = make_dependant(leon, "Mia Wolf")

    response = client.post(
        reverse("accounts:dependant-edit", args=[mia.pk]),
        {
            "person-full_name": "Mia Sophie Wolf",
            "person-date_of_birth": "2019-06-02",
            "person-relationship": "child",
        },
    )

    assert response.status_code == 302
    mia.refresh_from_db()
    assert mia.full_name == "Mia Sophie Wolf"


def test_someone_elses_dependant_is_not_found(client, leon):
    other = make_dependant(make_patient(), "Not Mine")

    assert client.get(reverse("accounts:dependant-edit", args=[other.pk])).status_code == 404
    assert client.post(reverse("accounts:dependant-remove", args=[other.pk])).status_code == 404
    assert Dependant.objects.filter(pk=other.pk).exists()


def test_removing_someone_without_appointments_takes_them_off_the_list(client, leon):
    mia = make_dependant(leon, "Mia Wolf")

    response = client.post(reverse("accounts:dependant-remove", args=[mia.pk]))

    assert response.status_code == 302
    assert not Dependant.objects.exists()


def test_removing_someone_with_appointments_is_refused_with_the_reason(client, leon, doctor):
    mia = make_dependant(leon, "Mia Wolf")
    book(leon, doctor, monday(doctor, 10), dependant=mia)

    response = client.post(reverse("accounts:dependant-remove", args=[mia.pk]))

    assert response.status_code == 409
    assert "has appointments" in response.text
    assert Dependant.objects.filter(pk=mia.pk).exists()


def test_the_confirm_page_asks_whom_the_appointment_is_for_defaulting_to_myself(
    client, leon, doctor
):
    make_dependant(leon, "Mia Wolf")

    page = client.get(booking_url(doctor)).text

    assert "Who is this appointment for?" in page
    assert "<legend>" in page
    assert 'name="for_whom" value="" id="id_for_whom_0" checked' in page
    assert '<label for="id_for_whom_0">Myself</label>' in page
    assert "Mia Wolf" in page


def test_without_dependants_the_confirm_page_does_not_ask(client, leon, doctor):
    assert "Who is this appointment for?" not in client.get(booking_url(doctor)).text


def test_booking_for_the_child_on_the_confirm_page(client, leon, doctor):
    mia = make_dependant(leon, "Mia Wolf")
    key = booking_key_of(client.get(booking_url(doctor)).text)

    response = client.post(booking_url(doctor), {"booking_key": key, "for_whom": str(mia.pk)})

    assert response.status_code == 303
    appointment = Appointment.objects.get()
    assert (appointment.patient, appointment.dependant) == (leon, mia)
    detail = client.get(response["Location"]).text
    assert "For Mia Wolf" in detail
    assert "For Mia Wolf" in client.get(reverse("appointments:list")).text


def test_booking_without_choosing_is_for_myself(client, leon, doctor):
    make_dependant(leon, "Mia Wolf")
    key = booking_key_of(client.get(booking_url(doctor)).text)

    client.post(booking_url(doctor), {"booking_key": key, "for_whom": ""})

    assert Appointment.objects.get().dependant is None


def test_posting_someone_elses_dependant_is_a_form_error_not_a_booking(client, leon, doctor):
    make_dependant(leon, "Mia Wolf")
    other = make_dependant(make_patient(), "Not Mine")
    key = booking_key_of(client.get(booking_url(doctor)).text)

    response = client.post(booking_url(doctor), {"booking_key": key, "for_whom": str(other.pk)})

    assert response.status_code == 400
    assert "Choose yourself or one of the people you book for" in response.text
    assert not Appointment.objects.exists()


def test_the_childs_appointment_can_be_rescheduled_and_cancelled_by_the_parent(
    client, leon, doctor
):
    mia = make_dependant(leon, "Mia Wolf")
    appointment = book(leon, doctor, monday(doctor, 10), dependant=mia)

    reschedule_url = reverse("appointments:reschedule", args=[appointment.pk])
    assert "For Mia Wolf" in client.get(reschedule_url).text
    moved = client.post(reschedule_url, {"start": "2026-03-09T10:00:00Z"})
    assert moved.status_code == 303
    cancelled = client.post(reverse("appointments:cancel", args=[appointment.pk]), {})
    assert cancelled.status_code == 303
    appointment.refresh_from_db()
    assert appointment.is_cancelled
    assert appointment.dependant == mia


def test_moving_the_childs_appointment_asks_to_confirm_and_names_the_child(client, leon, doctor):
    mia = make_dependant(leon, "Mia Wolf")
    appointment = book(leon, doctor, monday(doctor, 10), dependant=mia)
    url = reverse("appointments:reschedule", args=[appointment.pk])

    page = client.get(url, {"start": "2026-03-09T13:00:00Z"}).text

    assert "For Mia Wolf" in page
    assert (
        "Move Mia Wolf's appointment with Dr. Anna Weber from Mon 9 Mar, 10:00 to Mon 9 Mar, 14:00?"
    ) in page
    appointment.refresh_from_db()
    assert appointment.starts_at == monday(doctor, 10)
    assert client.post(url, {"start": "2026-03-09T13:00:00Z"}).status_code == 303
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.dependant) == (monday(doctor, 14), mia)


def test_a_new_patient_is_asked_only_for_their_own_details_first(client):
    newcomer = make_patient(full_name="", phone="", date_of_birth=None)
    log_in(client, newcomer)

    page = client.get(reverse("accounts:profile")).text

    assert "People I book for" not in page
