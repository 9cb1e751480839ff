"""Booking by phone for a patient's family member: staff choose who the visit is for on
the confirm step, or add the child or relative there and then; the staff pages name who
each appointment is for.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``). Desk staff of the Lindenhof
clinic take the call from Leon Wolf, who books for his daughter Mia; Dr. Anna Weber
works there.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Dependant
from appointments.models import Appointment
from tests.factories import (
    book,
    consultation,
    local,
    log_in_staff,
    make_clinic,
    make_dependant,
    make_doctor,
    make_patient,
    make_staff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

MONDAY_10 = "2026-03-09T09:00:00Z"  # 10:00 CET
MONDAY_11 = "2026-03-09T10:00:00Z"


@pytest.fixture
def leon():
    return make_patient("leon@example.com", full_name="Leon Wolf")


@pytest.fixture
def mia(leon):
    return make_dependant(leon, "Mia Wolf", date_of_birth=dt.date(2019, 6, 1))


def confirm_url(patient, anna, start=MONDAY_10):
    url = reverse("staff_appointments:book_for_patient", args=[patient.pk])
    return f"{url}?type={consultation(anna).pk}&start={start}"


def confirm(client, patient, anna, *, start=MONDAY_10, key="a" * 32, **fields):
    return client.post(confirm_url(patient, anna, start), {"booking_key": key, **fields})


def add_person(client, patient, anna, *, htmx=False, language="en", **fields):
    data = {
        "action": "add-person",
        "booking_key": "b" * 32,
        "reason": "Fever since Sunday",
        "person-full_name": "Jonas Wolf",
        "person-date_of_birth": "2021-09-15",
        "person-relationship": "child",
    } | fields
    headers = {"Accept-Language": language} | ({"HX-Request": "true"} if htmx else {})
    return client.post(confirm_url(patient, anna), data, headers=headers)


# Choosing who the visit is for


def test_the_confirm_step_asks_who_the_visit_is_for_defaulting_to_the_patient(
    client, staff, anna, leon, mia
):
    page = client.get(confirm_url(leon, anna)).text

    assert "Who is the visit for?" in page
    assert "Leon Wolf (the patient)" in page
    assert "Mia Wolf, child, born 1 June 2019" in page
    assert 'name="for_whom" value="" id="id_for_whom_0" checked>' in page


def test_staff_book_for_the_patients_child(client, staff, anna, leon, mia):
    response = confirm(client, leon, anna, for_whom=mia.pk, reason="Earache")

    appointment = Appointment.objects.get(patient=leon)
    assert response.status_code == 303
    assert appointment.dependant == mia
    assert appointment.booked_by == staff
    assert appointment.reason == "Earache"
    detail = client.get(response["Location"]).text
    assert "Mia Wolf (child of Leon Wolf)" in detail


def test_without_a_choice_the_visit_is_for_the_patient(client, staff, anna, leon, mia):
    confirm(client, leon, anna)

    assert Appointment.objects.get(patient=leon).dependant is None


def test_another_patients_family_member_is_a_form_error_not_a_booking(
    client, staff, anna, leon, mia
):
    stranger = make_dependant(make_patient(full_name="Eva Fremd"), "Tim Fremd")

    response = confirm(client, leon, anna, for_whom=stranger.pk)

    assert response.status_code == 400
    assert "Choose the patient or one of their family members." in response.text
    assert not Appointment.objects.exists()


def test_a_family_member_id_that_is_no_number_is_a_form_error(client, staff, anna, leon):
    response = confirm(client, leon, anna, for_whom="mia")

    assert response.status_code == 400
    assert "Choose the patient or one of their family members." in response.text


def test_an_erased_family_member_cannot_be_chosen(client, staff, anna, leon, mia):
    Dependant.objects.filter(pk=mia.pk).update(erased_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))

    response = confirm(client, leon, anna, for_whom=mia.pk)

    assert response.status_code == 400
    assert not Appointment.objects.exists()


# The rules hold per person


def test_the_child_may_be_booked_while_her_parent_is_seen(client, staff, anna, bernd, leon, mia):
    book(leon, bernd, local(bernd.clinic, 2026, 3, 9, 10))

    response = confirm(client, leon, anna, for_whom=mia.pk)

    assert response.status_code == 303
    assert Appointment.objects.get(dependant=mia).doctor == anna


def test_the_child_cannot_be_booked_twice_at_once(client, staff, anna, bernd, leon, mia):
    book(leon, bernd, local(bernd.clinic, 2026, 3, 9, 10), dependant=mia)

    response = confirm(client, leon, anna, for_whom=mia.pk)

    assert response.status_code == 409
    assert "Mia Wolf already has an appointment at that time." in response.text
    assert Appointment.objects.filter(dependant=mia).count() == 1


def test_the_upcoming_cap_counts_the_child_apart_from_her_parent(
    client, staff, clinic, anna, leon, mia
):
    clinic.max_upcoming_per_patient = 1
    clinic.save()
    book(leon, anna, local(clinic, 2026, 3, 10, 10))

    for_mia = confirm(client, leon, anna, for_whom=mia.pk)
    again = confirm(client, leon, anna, start=MONDAY_11, key="c" * 32, for_whom=mia.pk)

    assert for_mia.status_code == 303
    assert again.status_code == 422
    assert "Mia Wolf already has the maximum number of upcoming appointments" in again.text


# Adding a family member on the phone


def test_staff_add_a_family_member_without_leaving_the_booking(client, staff, anna, leon):
    response = add_person(client, leon, anna)

    jonas = Dependant.objects.get(patient=leon)
    assert response.status_code == 200
    assert (jonas.full_name, jonas.date_of_birth, jonas.relationship) == (
        "Jonas Wolf",
        dt.date(2021, 9, 15),
        "child",
    )
    page = response.text
    assert "Added Jonas Wolf to the patient's family members and chose them." in page
    assert f'value="{jonas.pk}" id="id_for_whom_1" checked>' in page
    assert "Fever since Sunday" in page  # the reason typed so far stays
    assert 'value="' + "b" * 32 + '"' in page  # and so does the form's one-time key
    assert not Appointment.objects.exists()


def test_the_added_family_member_is_then_booked(client, staff, anna, leon):
    add_person(client, leon, anna)
    jonas = Dependant.objects.get(patient=leon)

    response = confirm(client, leon, anna, key="b" * 32, for_whom=jonas.pk)

    assert response.status_code == 303
    assert Appointment.objects.get().dependant == jonas


def test_adding_the_same_person_twice_keeps_one(client, staff, anna, leon):
    add_person(client, leon, anna)
    add_person(client, leon, anna, **{"person-full_name": " jonas  WOLF "})

    assert Dependant.objects.filter(patient=leon).count() == 1


def test_htmx_swaps_only_who_the_visit_is_for(client, staff, anna, leon):
    response = add_person(client, leon, anna, htmx=True)

    page = response.text
    assert response.status_code == 200
    assert page.lstrip().startswith('<fieldset id="for-whom"')
    assert "Jonas Wolf, child, born 15 September 2021" in page
    assert "Confirm booking" not in page


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("person-full_name", "", "This field is required."),
        ("person-date_of_birth", "2030-01-01", "future"),
        ("person-date_of_birth", "15.09.2021x", "Give the date as YYYY-MM-DD"),
        ("person-relationship", "cousin", "Select a valid choice."),
    ],
)
def test_a_bad_family_member_is_a_form_error(client, staff, anna, leon, field, value, problem):
    response = add_person(client, leon, anna, **{field: value})

    assert response.status_code == 400
    assert problem in response.text
    assert '<details class="add-person" open>' in response.text
    assert not Dependant.objects.exists()


# Clinic scoping


@pytest.fixture
def westend_patient():
    """A patient known only to another clinic."""
    westend_doctor = make_doctor(make_clinic(name="Westend"))
    patient = make_patient("eva@example.com", full_name="Eva Westend")
    book(patient, westend_doctor, local(westend_doctor.clinic, 2026, 3, 9, 10))
    return patient


def test_staff_cannot_book_or_add_for_another_clinics_patient(client, staff, anna, westend_patient):
    daughter = make_dependant(westend_patient, "Lina Westend")

    booked = confirm(client, westend_patient, anna, for_whom=daughter.pk)
    added = add_person(client, westend_patient, anna)

    assert booked.status_code == 404
    assert added.status_code == 404
    assert "Lina Westend" not in booked.text
    assert Dependant.objects.filter(patient=westend_patient).count() == 1
    assert Appointment.objects.filter(doctor=anna).count() == 0


def test_a_receptionist_of_another_clinic_sees_no_family_member(client, anna, leon, mia):
    book(leon, anna, local(anna.clinic, 2026, 3, 9, 10), dependant=mia)
    other_clinic = make_clinic(name="Westend")
    log_in_staff(client, make_staff("west@example.com", clinics=(other_clinic,)))

    patients = client.get(reverse("staff_appointments:patients"), {"q": "wolf"}).text
    patient_page = client.get(reverse("staff_appointments:patient", args=[leon.pk]))

    assert "Leon Wolf" not in patients
    assert patient_page.status_code == 404


# The staff pages name who each appointment is for


def test_the_calendar_and_the_today_view_name_the_child(client, staff, anna, leon, mia):
    book(leon, anna, local(anna.clinic, 2026, 3, 4, 15), dependant=mia)
    book(leon, anna, local(anna.clinic, 2026, 3, 4, 16))

    calendar = client.get(
        reverse("staff_appointments:calendar"), {"clinic": anna.clinic_id, "date": "2026-03-04"}
    ).text
    today = client.get(reverse("staff_appointments:home")).text

    for page in (calendar, today):
        assert "Mia Wolf (child of Leon Wolf)" in page
        assert page.count("Leon Wolf") >= 2  # the parent's own visit too


def test_moving_a_childs_appointment_says_it_is_the_childs(client, staff, anna, leon, mia):
    appointment = book(leon, anna, local(anna.clinic, 2026, 3, 9, 10), dependant=mia)

    page = client.get(reverse("staff_appointments:reschedule", args=[appointment.pk])).text

    assert "Move Mia Wolf (child of Leon Wolf)'s appointment" in page


def test_the_calendar_names_family_members_without_a_query_each(client, staff, anna, leon, mia):
    tom = make_dependant(leon, "Tom Wolf")
    book(leon, anna, local(anna.clinic, 2026, 3, 9, 10), dependant=mia)
    book(leon, anna, local(anna.clinic, 2026, 3, 10, 10), dependant=mia)
    book(leon, anna, local(anna.clinic, 2026, 3, 10, 11), dependant=tom)

    def queries_for(day):
        url = reverse("staff_appointments:calendar")
        query = {"clinic": anna.clinic_id, "date": day}
        client.get(url, query)  # warms the free-time cache of the day
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url, query).text
        return len(queries), page

    one, _monday = queries_for("2026-03-09")
    two, tuesday = queries_for("2026-03-10")

    assert "Tom Wolf (child of Leon Wolf)" in tuesday
    assert two == one


def test_the_confirm_step_is_german_for_a_german_browser(client, staff, anna, leon, mia):
    from tests.test_german_pages import GERMAN, english_left_over

    page = client.get(confirm_url(leon, anna), **GERMAN).text
    added = add_person(client, leon, anna, htmx=True, language="de").text

    assert "Für wen ist der Termin?" in page
    assert "Leon Wolf (Patient/in)" in page
    assert "Mia Wolf, Kind, geboren am 1. Juni 2019" in page
    assert "Hinzufügen und auswählen" in page
    assert "Jonas Wolf wurde zu den Familienmitgliedern hinzugefügt und ausgewählt." in added
    # The data here is English-looking ("Consultation", "Lindenhof Practice"): only the
    # form's own texts are checked.
    fieldset = page[page.index('<fieldset id="for-whom"') : page.index("</fieldset>")]
    assert english_left_over(fieldset) == []
