"""The patient search finds callers however they spell their number or name, and the
staff page of one patient.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``); desk staff of the Lindenhof clinic
(Germany) search.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import phones
from accounts.models import Patient
from appointments.models import Status
from appointments.services import cancel_appointment, create_patient, mark_attendance
from appointments.staff_selectors import search_patients
from tests.factories import book, local, log_in_staff, make_clinic, make_doctor, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

PATIENTS = reverse("staff_appointments:patients")


@pytest.fixture
def leon():
    return make_patient(
        "leon@example.com",
        full_name="Leon Wolf",
        phone="+49 155 75151122",
        date_of_birth=dt.date(1990, 2, 14),
    )


@pytest.fixture
def others():
    return [
        make_patient(
            full_name="Leon Bauer", phone="+49 155 75151123", date_of_birth=dt.date(1985, 1, 1)
        ),
        make_patient(full_name="Wolfgang Wolf", phone="+49 30 1234567"),
    ]


def found(staff, query):
    return [patient.full_name for patient in search_patients(staff, query)]


@pytest.mark.parametrize(
    "spelling", ["+4915575151122", "015575151122", "0155 75151122", "+49 155 75151122"]
)
def test_a_phone_number_is_found_whatever_its_spelling(staff, leon, others, spelling):
    assert found(staff, spelling) == ["Leon Wolf"]


def test_a_phone_number_is_found_by_its_hash_not_the_phone_column(staff, leon, others):
    with CaptureQueriesContext(connection) as captured:
        assert found(staff, "0155 75151122") == ["Leon Wolf"]

    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert phones.lookup_hash("+4915575151122") in sql
    assert '"phone" ' not in sql.split("WHERE", 1)[1]


def test_part_of_a_number_finds_nobody(staff, leon):
    assert found(staff, "0155 7515") == []


def test_a_number_is_read_in_the_clinics_country(staff, clinic):
    clinic.country = "GB"
    clinic.save()
    london = make_patient(full_name="Liam Jones", phone="+44 20 7946 0321")

    assert found(staff, "020 7946 0321") == [london.full_name]


@pytest.mark.parametrize("query", ["Leon Wolf", "Wolf Leon", "wolf leon", "LEON", "Léon Wölf"])
def test_names_match_in_any_order_case_and_accents_aside(staff, leon, others, query):
    assert "Leon Wolf" in found(staff, query)
    assert "Wolfgang Wolf" not in found(staff, query)


def test_both_words_must_match(staff, leon, others):
    assert found(staff, "Wolf Leon") == ["Leon Wolf"]


def test_an_accented_name_is_found_without_its_accents(staff):
    make_patient(full_name="Zoë Müller-Lüdenscheidt")

    assert found(staff, "zoe muller") == ["Zoë Müller-Lüdenscheidt"]
    assert found(staff, "MÜLLER") == ["Zoë Müller-Lüdenscheidt"]


@pytest.mark.parametrize("born", ["1990-02-14", "14.02.1990", "14.2.1990", "14/02/1990"])
def test_a_date_of_birth_narrows_the_names(staff, leon, others, born):
    assert found(staff, f"Leon {born}") == ["Leon Wolf"]


def test_a_date_of_birth_alone_finds_who_was_born_then(staff, leon, others):
    assert found(staff, "1985-01-01") == ["Leon Bauer"]


def test_the_page_keeps_its_address_and_shows_the_number_grouped(client, staff, leon):
    page = client.get(PATIENTS, {"q": "015575151122"}).text

    assert "Leon Wolf" in page
    assert "+49 15575 151122" in page  # grouped as libphonenumber does
    assert reverse("staff_appointments:patient", args=[leon.pk]) in page


def test_staff_registration_stores_the_number_in_e164_read_in_the_clinics_country(
    client, staff, clinic
):
    clinic.country = "AT"
    clinic.save()

    response = client.post(
        reverse("staff_appointments:new_patient"),
        {
            "email": "anna@example.com",
            "full_name": "Anna Gruber",
            "phone": "0664 1234567",
            "date_of_birth": "1980-01-31",
        },
    )

    assert response.status_code == 303
    patient = Patient.objects.get(user__email="anna@example.com")
    assert patient.phone == "+436641234567"
    assert found(staff, "+43 664 1234567") == ["Anna Gruber"]


def test_staff_registration_refuses_what_is_not_a_number(client, staff):
    response = client.post(
        reverse("staff_appointments:new_patient"),
        {
            "email": "anna@example.com",
            "full_name": "Anna Gruber",
            "phone": "12",
            "date_of_birth": "1980-01-31",
        },
    )

    assert response.status_code == 400
    assert "Enter a phone number" in response.text


def test_the_service_reads_the_number_in_the_region_given():
    patient = create_patient(
        email="liam@example.com",
        full_name="Liam Jones",
        phone="020 7946 0321",
        date_of_birth=dt.date(1970, 5, 5),
        region="GB",
    )

    assert patient.phone == "+442079460321"


# The patient's page


def test_the_patient_page_shows_contact_details_and_appointments(
    client, staff, clinic, anna, leon, frozen_now
):
    past = book(leon, anna, local(clinic, 2026, 3, 4, 11))
    upcoming = book(leon, anna, local(clinic, 2026, 3, 9, 10))
    cancelled = book(leon, anna, local(clinic, 2026, 3, 10, 10))
    cancel_appointment(appointment=cancelled, cancelled_by=staff, reason="Ill", by_clinic=True)
    frozen_now.move_to(dt.datetime(2026, 3, 4, 11, 0, tzinfo=dt.UTC))  # 12:00 CET
    mark_attendance(appointment=past, status=Status.NO_SHOW, marked_by=staff)
    log_in_staff(client, staff)  # hours later: a session idle that long has ended

    page = client.get(reverse("staff_appointments:patient", args=[leon.pk])).text

    assert "Leon Wolf" in page
    assert "leon@example.com" in page
    assert 'href="tel:+4915575151122"' in page
    assert "14 February 1990" in page
    assert "0 completed, 1 no-show" in page
    upcoming_part, past_part = page.split("Past and cancelled")
    assert reverse("staff_appointments:detail", args=[upcoming.pk]) in upcoming_part
    assert reverse("staff_appointments:detail", args=[past.pk]) in past_part
    assert "No-show" in past_part
    assert "Cancelled by clinic" in past_part
    assert reverse("staff_appointments:book_for_patient", args=[leon.pk]) in page


def test_another_clinics_patient_page_is_not_found(client, staff, leon):
    elsewhere = make_clinic(name="Elsewhere")
    doctor = make_doctor(elsewhere)
    book(leon, doctor, local(elsewhere, 2026, 3, 9, 10))

    assert client.get(reverse("staff_appointments:patient", args=[leon.pk])).status_code == 404


def test_a_booking_started_on_the_calendar_travels_to_the_patient_chosen(client, staff, anna, leon):
    kind = anna.appointment_types.get()
    query = {"q": "leon wolf", "type": kind.pk, "start": "2026-03-09T09:00:00Z"}

    page = client.get(PATIENTS, query).text

    assert "Booking Consultation with Dr. Anna Weber on" in page
    assert "Monday 9 March 2026, 10:00 CET" in page
    book_url = reverse("staff_appointments:book_for_patient", args=[leon.pk])
    assert f"{book_url}?type={kind.pk}&amp;start=2026-03-09T09%3A00%3A00Z" in page


def test_another_clinics_type_starts_no_booking(client, staff, leon):
    other = make_doctor(make_clinic(name="Elsewhere"))
    query = {"q": "leon", "type": other.appointment_types.get().pk, "start": "2026-03-09T09:00:00Z"}

    page = client.get(PATIENTS, query).text

    assert "Booking" not in page


def test_staff_see_whom_a_visit_is_for_on_the_appointment_and_the_patient_page(
    client, staff, clinic, anna, leon
):
    from tests.factories import make_dependant

    mia = make_dependant(leon, "Mia Wolf", relationship="child")
    appointment = book(leon, anna, local(clinic, 2026, 3, 9, 10), dependant=mia)

    detail = client.get(reverse("staff_appointments:detail", args=[appointment.pk])).text
    patient_page = client.get(reverse("staff_appointments:patient", args=[leon.pk])).text

    assert "Mia Wolf (child of Leon Wolf)" in detail
    assert "People they book for" in patient_page
    assert "Mia Wolf (child of Leon Wolf)" in patient_page
    assert "for Mia Wolf" in patient_page


# --- By the name of someone they book for --------------------------------------------------


@pytest.fixture
def mia(leon):
    from tests.factories import make_dependant

    return make_dependant(leon, "Mia Wolf", date_of_birth=dt.date(2019, 6, 1))


@pytest.mark.parametrize("query", ["Mia Wolf", "mia", "Wolf Mia", "Mía"])
def test_a_patient_is_found_by_the_name_of_a_family_member(staff, leon, others, mia, query):
    assert found(staff, query) == ["Leon Wolf"]


def test_the_words_must_all_be_in_one_persons_name(staff, leon, others, mia):
    # "Mia" is the daughter's name, "Bauer" another patient's: no one is both.
    assert found(staff, "Mia Bauer") == []


def test_a_family_members_birth_date_narrows_with_their_name(staff, leon, others, mia):
    assert found(staff, "Mia 01.06.2019") == ["Leon Wolf"]
    assert found(staff, "Mia 14.02.1990") == []  # Leon's own birth date, not Mia's


def test_a_patient_found_both_ways_is_listed_once(staff, leon, others, mia):
    assert found(staff, "Wolf") == ["Leon Wolf", "Wolfgang Wolf"]


def test_an_erased_family_member_is_not_found(staff, leon, mia):
    from appointments.erasure import ERASED_NAME

    mia.erased_at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    mia.full_name = ERASED_NAME
    mia.save()

    assert mia.name_search == ""
    assert found(staff, "Mia") == []


def test_a_family_member_of_another_clinics_patient_is_not_found(staff, mia):
    other_clinic = make_clinic(name="Elsewhere")
    book(mia.patient, make_doctor(other_clinic), local(other_clinic, 2026, 3, 9, 10))

    assert found(staff, "Mia") == []


def test_renaming_a_family_member_keeps_the_search_in_step(staff, leon, mia):
    from accounts.services import update_dependant

    born = mia.date_of_birth
    update_dependant(
        dependant=mia, full_name="Émilie Wolf", date_of_birth=born, relationship="child"
    )

    assert found(staff, "emilie") == ["Leon Wolf"]
    assert found(staff, "Mia") == []


def test_the_results_name_the_family_member_who_matched(client, staff, leon, others, mia):
    from tests.factories import make_dependant

    make_dependant(leon, "Paul Wolf", date_of_birth=dt.date(2021, 1, 5))

    page = client.get(PATIENTS, {"q": "Mia Wolf"}).text

    assert reverse("staff_appointments:patient", args=[leon.pk]) in page
    assert "books for Mia Wolf (child), born 01/06/2019" in page
    assert "Paul Wolf" not in page  # only the one the caller named


def test_the_results_name_no_family_member_when_the_patient_matched_themself(
    client, staff, leon, mia
):
    page = client.get(PATIENTS, {"q": "Leon"}).text

    assert "Leon Wolf" in page
    assert "books for" not in page


def test_the_phone_booking_page_shows_the_number_grouped(client, staff, leon):
    page = client.get(reverse("staff_appointments:book_for_patient", args=[leon.pk])).text

    assert "+49 15575 151122" in page
    assert "+4915575151122" not in page


def test_the_profile_shows_the_patients_number_grouped_and_saving_it_keeps_it(client, leon):
    from tests.factories import log_in

    log_in(client, leon)

    page = client.get(reverse("accounts:profile")).text

    assert 'value="+49 15575 151122"' in page
    client.post(
        reverse("accounts:profile"),
        {"full_name": "Leon Wolf", "phone": "+49 15575 151122", "date_of_birth": "1990-02-14",
         "language": "en"},
    )  # fmt: skip
    leon.refresh_from_db()
    assert leon.phone == "+4915575151122"
