"""Booking by phone: staff find (or register) the caller and book for them.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``). Desk staff of the Lindenhof
clinic take the call; Dr. Anna Weber works there.
"""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import Patient
from appointments.models import Appointment, Notification
from appointments.services import EmailTaken, create_patient
from tests.factories import (
    book,
    consultation,
    local,
    make_clinic,
    make_doctor,
    make_patient,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

PATIENTS = reverse("staff_appointments:patients")
NEW_PATIENT = reverse("staff_appointments:new_patient")
MONDAY_10 = "2026-03-09T09:00:00Z"  # 10:00 CET


@pytest.fixture
def petra():
    return make_patient(
        "petra@example.com",
        full_name="Petra Pohl",
        phone="+49 170 1234567",
        date_of_birth=dt.date(1975, 6, 1),
    )


@pytest.fixture
def max_meier():
    return make_patient("max@example.com", full_name="Max Meier", phone="+49 30 9999")


def book_url(patient, **query):
    url = reverse("staff_appointments:book_for_patient", args=[patient.pk])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def confirm(client, patient, anna, start=MONDAY_10, key="a" * 32):
    return client.post(
        book_url(patient, type=consultation(anna).pk, start=start),
        {"booking_key": key, "reason": "Called in with a cough"},
    )


# Finding the caller


# A phone number is found whole, in any spelling (tests/appointments/test_patient_search.py).
@pytest.mark.parametrize("query", ["pohl", "PETRA@example", "0170 1234567"])
def test_it_finds_a_patient_by_name_email_or_phone(client, staff, petra, max_meier, query):
    page = client.get(PATIENTS, {"q": query}).text

    assert "Petra Pohl" in page
    assert "Max Meier" not in page
    assert "1 June 1975" in page
    assert book_url(petra) in page


def test_patients_known_only_to_another_clinic_are_not_found(client, staff, petra, anna):
    westend_doctor = make_doctor(make_clinic(name="Westend"))
    book(petra, westend_doctor, local(westend_doctor.clinic, 2026, 3, 9, 10))

    page = client.get(PATIENTS, {"q": "petra"}).text

    assert "Petra Pohl" not in page
    assert client.get(book_url(petra)).status_code == 404


def test_patients_of_both_clinics_are_found(client, staff, petra, anna):
    westend_doctor = make_doctor(make_clinic(name="Westend"))
    book(petra, westend_doctor, local(westend_doctor.clinic, 2026, 3, 9, 10))
    book(petra, anna, local(anna.clinic, 2026, 3, 10, 10))

    assert "Petra Pohl" in client.get(PATIENTS, {"q": "petra"}).text


def test_the_calendar_links_to_the_patient_search(client, staff):
    page = client.get(reverse("staff_appointments:calendar")).text

    assert f'href="{PATIENTS}"' in page


def test_it_says_when_no_patient_matches(client, staff, petra):
    page = client.get(PATIENTS, {"q": "nobody"}).text

    assert "No patient matches." in page
    assert "Petra Pohl" not in page


def test_the_list_is_paginated(client, staff):
    for number in range(30):
        make_patient(full_name=f"Paged {number:02}")

    first = client.get(PATIENTS, {"q": "paged"}).text
    second = client.get(PATIENTS, {"q": "paged", "page": 2}).text

    assert "Page 1 of 2" in first
    assert "Paged 00" in first
    assert "Paged 29" not in first
    assert "Paged 29" in second
    assert "?q=paged&amp;page=2" in first


def test_patients_and_anonymous_visitors_cannot_search(client, petra):
    response = client.get(PATIENTS, {"q": "pohl"})

    assert response.status_code in (302, 403)
    assert "Petra Pohl" not in response.text


# Registering a new patient


def test_create_patient_gives_an_account_without_a_usable_password():
    patient = create_patient(
        email=" Nina@Example.com ",
        full_name="Nina Neu",
        phone="+49 170 5550123",
        date_of_birth=dt.date(1990, 2, 3),
        region="DE",
    )

    assert patient.user.email == "nina@example.com"
    assert not patient.user.has_usable_password()
    assert (patient.full_name, patient.phone, patient.date_of_birth) == (
        "Nina Neu",
        "+491705550123",  # E.164 (issue 12)
        dt.date(1990, 2, 3),
    )


def test_create_patient_refuses_an_email_in_use(petra):
    with pytest.raises(EmailTaken):
        create_patient(
            email="PETRA@example.com",
            full_name="Another Petra",
            phone="+49 170 5550123",
            date_of_birth=dt.date(1990, 1, 1),
            region="DE",
        )

    assert Patient.objects.count() == 1


def test_the_new_patient_form_registers_and_goes_on_to_booking(client, staff):
    response = client.post(
        NEW_PATIENT,
        {
            "email": "nina@example.com",
            "full_name": "Nina Neu",
            "phone": "+49 170 555",
            "date_of_birth": "1990-02-03",
        },
    )

    nina = Patient.objects.get(user__email="nina@example.com")
    assert response.status_code == 303
    assert response["Location"] == book_url(nina)


def test_the_new_patient_form_shows_a_taken_email_as_a_field_error(client, staff, petra):
    response = client.post(
        NEW_PATIENT,
        {
            "email": "petra@example.com",
            "full_name": "Petra Again",
            "phone": "+49 30 1234567",
            "date_of_birth": "1990-02-03",
        },
    )

    assert response.status_code == 400
    assert "Someone already has an account with this email address." in response.text
    assert Patient.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "call me", "Enter a phone number"),
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("date_of_birth", "1850-01-01", "after 1900"),
    ],
)
def test_the_new_patient_form_checks_phone_and_birth_date_as_the_profile_page_does(
    client, staff, field, value, message
):
    details = {
        "email": "nina@example.com",
        "full_name": "Nina Neu",
        "phone": "+49 170 555",
        "date_of_birth": "1990-02-03",
    }

    response = client.post(NEW_PATIENT, details | {field: value})

    assert response.status_code == 400
    assert message in response.text
    assert not Patient.objects.filter(user__email="nina@example.com").exists()


def test_the_new_patient_form_has_labelled_fields(client, staff):
    page = client.get(NEW_PATIENT).text

    for field in ["email", "full_name", "phone", "date_of_birth"]:
        assert f'<label for="id_{field}">' in page
    assert '<button type="submit"' in page


# Booking on the patient's behalf


def test_the_first_step_offers_only_the_doctors_of_the_staffs_clinics(client, staff, anna, petra):
    other = make_doctor(make_clinic(name="Elsewhere"), name="Dr. Otto Other")

    page = client.get(book_url(petra)).text

    assert "Dr. Anna Weber" in page
    assert "Dr. Otto Other" not in page
    # A list of the doctors found, each type a link (issue 12: no 110-option select).
    assert f"?type={consultation(anna).pk}" in page
    assert f"?type={consultation(other).pk}" not in page


def test_the_second_step_shows_a_week_of_free_times(client, staff, anna, petra):
    book(make_patient(), anna, local(anna.clinic, 2026, 3, 9, 10, 30))

    page = client.get(book_url(petra, type=consultation(anna).pk, week="2026-03-09")).text

    assert "Consultation, week of 9&ndash;15 March 2026" in page
    assert "start=2026-03-09T09:00:00Z" in page  # 10:00 CET is free
    assert "start=2026-03-09T09:30:00Z" not in page  # 10:30 CET is taken


def test_the_confirm_step_carries_a_one_time_key(client, staff, anna, petra):
    page = client.get(book_url(petra, type=consultation(anna).pk, start=MONDAY_10)).text

    assert 'name="booking_key"' in page
    assert "Confirm booking" in page


def test_it_books_on_behalf_of_the_patient(client, staff, anna, petra):
    response = confirm(client, petra, anna)

    appointment = Appointment.objects.get(patient=petra)
    assert response.status_code == 303
    assert response["Location"] == reverse("staff_appointments:detail", args=[appointment.pk])
    assert appointment.booked_by == staff
    assert appointment.starts_at == local(anna.clinic, 2026, 3, 9, 10)
    assert appointment.reason == "Called in with a cough"
    assert appointment.history.get().history_user == staff
    assert Notification.objects.filter(
        appointment=appointment, kind=Notification.Kind.BOOKED
    ).exists()


def test_a_double_submit_books_once(client, staff, anna, petra):
    confirm(client, petra, anna)
    second = confirm(client, petra, anna)

    assert second.status_code == 303
    assert Appointment.objects.filter(patient=petra).count() == 1


def test_a_taken_time_is_a_409_with_the_reason(client, staff, anna, petra, max_meier):
    book(max_meier, anna, local(anna.clinic, 2026, 3, 9, 10))

    response = confirm(client, petra, anna)

    assert response.status_code == 409
    assert "that time is no longer available" in response.text
    assert not Appointment.objects.filter(patient=petra).exists()


def test_a_time_too_soon_is_refused_as_a_rule(client, staff, anna, petra):
    response = confirm(client, petra, anna, start="2026-03-04T08:30:00Z")

    assert response.status_code == 422
    assert "too soon" in response.text
    assert not Appointment.objects.filter(patient=petra).exists()


def test_a_doctor_of_another_clinic_is_a_404(client, staff, petra):
    other = make_doctor(make_clinic(name="Elsewhere"), name="Dr. Otto Other")

    response = confirm(client, petra, other)

    assert response.status_code == 404
    assert client.get(book_url(petra, type=consultation(other).pk)).status_code == 404
    assert not Appointment.objects.exists()


def test_a_malformed_time_is_a_400(client, staff, anna, petra):
    response = client.get(book_url(petra, type=consultation(anna).pk, start="monday"))

    assert response.status_code == 400


def test_doctors_are_found_by_name_or_specialty(client, staff, clinic, anna, petra):
    make_doctor(clinic, name="Dr. Clara Kinder", specialty="Paediatrics")

    by_name = client.get(book_url(petra), {"doctor": "kind"}).text
    by_specialty = client.get(book_url(petra), {"specialty": "Paediatrics"}).text

    assert "Dr. Clara Kinder" in by_name
    assert "Dr. Anna Weber" not in by_name
    assert "Dr. Clara Kinder" in by_specialty
    assert "Dr. Anna Weber" not in by_specialty


def test_it_offers_the_first_free_time_across_the_specialty(client, staff, clinic, anna, petra):
    busy = make_doctor(clinic, name="Dr. Busy Kinder", specialty="Paediatrics")
    free = make_doctor(
        clinic, name="Dr. Clara Kinder", specialty="Paediatrics", hours=(dt.time(9), dt.time(12))
    )
    for minutes in range(120, 480, 30):  # Dr. Busy is booked all Wednesday from 11:00
        book(make_patient(), busy, local(clinic, 2026, 3, 4, 9) + dt.timedelta(minutes=minutes))
    book(make_patient(), free, local(clinic, 2026, 3, 4, 11))

    page = client.get(book_url(petra), {"specialty": "Paediatrics"}).text

    assert "First free time in Paediatrics: Dr. Clara Kinder," in page
    assert "Wednesday 4 March 2026, 11:30 CET" in page
    assert f"?type={consultation(free).pk}&amp;start=2026-03-04T10:30:00Z" in page
