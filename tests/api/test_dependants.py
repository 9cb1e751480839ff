"""The people a patient books for, over the API: /api/v1/me/dependants and the "for"
field of a booking."""

import pytest

from accounts.models import Dependant
from appointments.models import Appointment
from tests.api.helpers import MONDAY_10, assert_problem, booking, client_for, post_booking
from tests.factories import book, local, make_dependant, make_doctor, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

MIA = {"full_name": "Mia Wolf", "date_of_birth": "2019-06-01", "relationship": "child"}


def test_a_patient_adds_someone_and_lists_them(api, patient):
    created = api.post("/api/v1/me/dependants", MIA, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {"id": body["id"], **MIA}
    assert created["Location"] == f"/api/v1/me/dependants/{body['id']}"
    assert api.get("/api/v1/me/dependants").json() == [body]
    assert Dependant.objects.get().patient == patient


def test_a_name_with_a_line_break_or_a_missing_birth_date_is_a_400(api):
    bad_name = api.post("/api/v1/me/dependants", MIA | {"full_name": "Mia\r\nWolf"}, format="json")
    no_birth = api.post("/api/v1/me/dependants", {"full_name": "Mia"}, format="json")
    future = api.post("/api/v1/me/dependants", MIA | {"date_of_birth": "2099-01-01"}, format="json")

    for response in (bad_name, no_birth, future):
        assert_problem(response, 400, "invalid_request")
    assert not Dependant.objects.exists()


def test_a_patient_updates_their_dependant(api, patient):
    mia = make_dependant(patient)

    response = api.put(
        f"/api/v1/me/dependants/{mia.pk}", MIA | {"full_name": "Mia Sophie Wolf"}, format="json"
    )

    assert response.status_code == 200, response.content
    mia.refresh_from_db()
    assert mia.full_name == "Mia Sophie Wolf"


def test_someone_elses_dependant_is_a_404_for_every_method(api):
    other = make_dependant(make_patient(), "Not Mine")
    url = f"/api/v1/me/dependants/{other.pk}"

    assert_problem(api.get(url), 404, "not_found")
    assert_problem(api.put(url, MIA, format="json"), 404, "not_found")
    assert_problem(api.delete(url), 404, "not_found")
    other.refresh_from_db()
    assert other.full_name == "Not Mine"


def test_deleting_a_dependant_without_appointments_answers_204(api, patient):
    mia = make_dependant(patient)

    assert api.delete(f"/api/v1/me/dependants/{mia.pk}").status_code == 204
    assert not Dependant.objects.exists()


def test_deleting_a_dependant_with_appointments_is_a_409_with_the_reason(api, patient, doctor):
    mia = make_dependant(patient)
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10), dependant=mia)

    body = assert_problem(
        api.delete(f"/api/v1/me/dependants/{mia.pk}"), 409, "dependant_has_appointments"
    )

    assert "has appointments" in body["detail"]
    assert Dependant.objects.filter(pk=mia.pk).exists()


def test_staff_tokens_cannot_use_the_dependants_endpoints():
    staff = make_staff()

    assert_problem(client_for(staff).get("/api/v1/me/dependants"), 403, "patients_only")


def test_booking_for_a_dependant_names_them_in_the_appointment(api, patient, doctor):
    mia = make_dependant(patient)

    response = post_booking(api, **(booking(doctor) | {"for": mia.pk}))

    assert response.status_code == 201, response.content
    expected = {"id": mia.pk, "full_name": "Mia Wolf", "relationship": "child"}
    assert response.json()["for"] == expected
    assert Appointment.objects.get().dependant == mia
    assert api.get(f"/api/v1/appointments/{response.json()['id']}").json()["for"]["id"] == mia.pk


def test_booking_for_oneself_says_for_null(api, doctor):
    response = post_booking(api, **booking(doctor))

    assert response.status_code == 201
    assert response.json()["for"] is None


def test_booking_for_someone_elses_dependant_is_a_400_and_books_nothing(api, doctor):
    other = make_dependant(make_patient(), "Not Mine")

    body = assert_problem(
        post_booking(api, **(booking(doctor) | {"for": other.pk})), 400, "invalid_request"
    )

    assert body["errors"][0]["field"] == "for"
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("value", ["x", 0, -1, 2**60, [1], {"id": 1}])
def test_a_malformed_for_is_a_400_not_a_500(api, doctor, value):
    assert_problem(post_booking(api, **(booking(doctor) | {"for": value})), 400, "invalid_request")


def test_the_child_booked_twice_at_once_is_a_409_the_parent_alongside_is_fine(api, patient):
    mia = make_dependant(patient)
    first, second, third = make_doctor(), make_doctor(), make_doctor()
    assert post_booking(api, **(booking(first) | {"for": mia.pk})).status_code == 201

    assert post_booking(api, **booking(second)).status_code == 201
    assert_problem(
        post_booking(api, **(booking(third, MONDAY_10) | {"for": mia.pk})), 409, "patient_overlap"
    )
