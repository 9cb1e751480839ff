"""The public catalogue: clinics and doctors, for anyone, without a token."""

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.api.helpers import assert_problem
from tests.factories import consultation, make_clinic, make_doctor, make_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["results"]]


# --- Clinics ----------------------------------------------------------------------------


def test_anyone_lists_the_clinics_with_their_zone_and_booking_policy(anonymous):
    clinic = make_clinic(
        name="Brooklyn Family Practice",
        slug="brooklyn",
        timezone="America/New_York",
        email="desk@example.com",
        min_notice=dt.timedelta(hours=24),
        booking_horizon=dt.timedelta(days=30),
        cancellation_cutoff=dt.timedelta(minutes=90),
        max_upcoming_per_patient=3,
    )

    response = anonymous.get("/api/v1/clinics")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": clinic.pk,
                "name": "Brooklyn Family Practice",
                "slug": "brooklyn",
                "timezone": "America/New_York",
                "address": clinic.address,
                "phone": clinic.phone,
                "email": "desk@example.com",
                "min_notice_minutes": 1440,
                "booking_horizon_days": 30,
                "cancellation_cutoff_minutes": 90,
                "max_upcoming_per_patient": 3,
            }
        ],
    }


def test_clinics_are_listed_by_name_a_page_at_a_time(anonymous):
    for name in ("Charlottenburg", "Alexanderplatz", "Bergmannkiez"):
        make_clinic(name=name)

    first = anonymous.get("/api/v1/clinics?page_size=2")

    assert names(first) == ["Alexanderplatz", "Bergmannkiez"]
    assert first.json()["count"] == 3
    assert first.json()["previous"] is None
    second = anonymous.get(first.json()["next"])
    assert names(second) == ["Charlottenburg"]
    assert second.json()["next"] is None


# --- Doctors ----------------------------------------------------------------------------


def test_doctors_can_be_filtered_by_clinic(anonymous):
    mitte, kreuzberg = make_clinic(), make_clinic()
    make_doctor(mitte, name="Dr. Anna Weber")
    make_doctor(kreuzberg, name="Dr. Bernd Koch")

    # By surname: Koch before Weber.
    assert names(anonymous.get("/api/v1/doctors")) == ["Dr. Bernd Koch", "Dr. Anna Weber"]
    assert names(anonymous.get(f"/api/v1/doctors?clinic={mitte.pk}")) == ["Dr. Anna Weber"]
    assert names(anonymous.get(f"/api/v1/doctors?clinic={kreuzberg.pk}")) == ["Dr. Bernd Koch"]


def test_doctors_can_be_filtered_by_specialty(anonymous):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Anna Weber", specialty="Dermatology")
    make_doctor(clinic, name="Dr. Bernd Koch", specialty="Cardiology")

    response = anonymous.get("/api/v1/doctors?specialty=Dermatology")

    assert names(response) == ["Dr. Anna Weber"]


def test_doctors_can_be_found_by_part_of_their_name_in_any_case(anonymous):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Anna Weber")
    make_doctor(clinic, name="Dr. Bernd Koch")

    assert names(anonymous.get("/api/v1/doctors?search=WEB")) == ["Dr. Anna Weber"]
    assert names(anonymous.get("/api/v1/doctors?search=%20koch%20")) == ["Dr. Bernd Koch"]
    assert names(anonymous.get("/api/v1/doctors?search=Schmidt")) == []


@pytest.mark.parametrize("search", ["", "%20%20"])
def test_an_empty_or_blank_search_finds_every_doctor(anonymous, search):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Anna Weber")
    make_doctor(clinic, name="Dr. Bernd Koch")

    found = names(anonymous.get(f"/api/v1/doctors?search={search}"))

    assert found == ["Dr. Bernd Koch", "Dr. Anna Weber"]


def test_the_filters_combine(anonymous):
    mitte, kreuzberg = make_clinic(), make_clinic()
    make_doctor(mitte, name="Dr. Anna Weber", specialty="Dermatology")
    make_doctor(mitte, name="Dr. Anna Koch", specialty="Cardiology")
    make_doctor(kreuzberg, name="Dr. Anna Schulz", specialty="Dermatology")

    response = anonymous.get(f"/api/v1/doctors?clinic={mitte.pk}&specialty=Dermatology&search=anna")

    assert names(response) == ["Dr. Anna Weber"]


def test_inactive_doctors_are_not_listed(anonymous):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Anna Weber")
    make_doctor(clinic, name="Dr. Bernd Koch", is_active=False)

    assert names(anonymous.get("/api/v1/doctors")) == ["Dr. Anna Weber"]
    assert names(anonymous.get("/api/v1/doctors?search=Koch")) == []
    assert names(anonymous.get(f"/api/v1/doctors?clinic={clinic.pk}")) == ["Dr. Anna Weber"]


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5", "99999999999999999999"])
def test_a_clinic_filter_that_is_not_an_id_is_a_400_on_clinic(anonymous, value):
    response = anonymous.get(f"/api/v1/doctors?clinic={value}")

    body = assert_problem(response, 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["clinic"]


def test_doctors_come_a_page_at_a_time(anonymous):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Anna Weber")
    make_doctor(clinic, name="Dr. Bernd Koch")

    first = anonymous.get("/api/v1/doctors?page_size=1")

    assert names(first) == ["Dr. Bernd Koch"]  # by surname
    assert first.json()["count"] == 2
    assert first.json()["previous"] is None
    assert "page=2" in first.json()["next"]
    second = anonymous.get(first.json()["next"])
    assert names(second) == ["Dr. Anna Weber"]
    assert second.json()["next"] is None
    assert second.json()["previous"] is not None


def test_a_page_past_the_last_is_a_404(anonymous):
    make_doctor(make_clinic())

    assert_problem(anonymous.get("/api/v1/doctors?page=2"), 404, "not_found")


def test_a_doctor_shows_their_active_appointment_types_shortest_first(anonymous):
    clinic = make_clinic()
    doctor = make_doctor(clinic, name="Dr. Anna Weber", specialty="Dermatology", bio="Skin.")
    long_visit = make_type(doctor, 60, name="First visit")
    short_visit = make_type(doctor, 15, name="Follow-up")
    retired = make_type(doctor, 45, name="Retired")
    retired.is_active = False
    retired.save()

    response = anonymous.get(f"/api/v1/doctors/{doctor.pk}")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": doctor.pk,
        "name": "Dr. Anna Weber",
        "specialty": "Dermatology",
        "bio": "Skin.",
        "languages": [],
        "clinic": clinic.pk,
        "appointment_types": [
            {"id": short_visit.pk, "name": "Follow-up", "duration_minutes": 15},
            {"id": consultation(doctor).pk, "name": "Consultation", "duration_minutes": 30},
            {"id": long_visit.pk, "name": "First visit", "duration_minutes": 60},
        ],
    }


def test_the_doctor_list_shows_the_appointment_types_too(anonymous):
    doctor = make_doctor(make_clinic())

    (listed,) = anonymous.get("/api/v1/doctors").json()["results"]

    assert listed["appointment_types"] == [
        {"id": consultation(doctor).pk, "name": "Consultation", "duration_minutes": 30}
    ]


def test_an_inactive_doctor_is_not_found(anonymous):
    doctor = make_doctor(make_clinic(), is_active=False)

    assert_problem(anonymous.get(f"/api/v1/doctors/{doctor.pk}"), 404, "not_found")


def test_an_unknown_doctor_is_not_found(anonymous):
    assert_problem(anonymous.get("/api/v1/doctors/987654"), 404, "not_found")


@pytest.mark.parametrize("query", ["from=0001-01-01&to=0001-01-02", "from=9999-12-30"])
def test_free_times_at_the_ends_of_the_calendar_are_a_400_not_a_crash(anonymous, query):
    doctor = make_doctor(make_clinic())

    response = anonymous.get(f"/api/v1/doctors/{doctor.pk}/availability?{query}")

    body = assert_problem(response, 400, "invalid_request")
    assert "from" in [error["field"] for error in body["errors"]]
