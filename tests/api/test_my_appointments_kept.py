"""GET /api/v1/appointments for a patient, without parameters: one query
(appointments.selectors.own_appointment_rows), and the answer kept whole in each
process's memory (CACHES["process"]) under every value it shows, the phone and the
reasons as stored. It is the generic path's answer byte for byte, nothing of it reaches
the shared cache, and every change the patient could notice shows on the next request.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``); patients may change an
appointment until 2 h before it.
"""

import datetime as dt
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Patient, User
from appointments import api as appointments_api
from appointments import services
from appointments.models import Status
from clinic.api.pagination import Pagination
from scheduling.models import AppointmentType, Doctor
from tests.api.helpers import client_for
from tests.factories import (
    book,
    consultation,
    local,
    make_clinic,
    make_dependant,
    make_doctor,
    make_patient,
    make_staff,
    make_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

LIST = "/api/v1/appointments"
# What DRF and the middleware add to every answer, compared with the generic path's.
COMPARED_HEADERS = ("Content-Type", "Vary", "Allow", "Cache-Control")


def listed(api: APIClient) -> dict[str, Any]:
    response = api.get(LIST)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The list as DRF's ListAPIView, the serializer and the pagination write it."""
    monkeypatch.setattr(
        appointments_api.AppointmentList, "_own_first_page", lambda self, request, user: None
    )


@pytest.fixture
def mine() -> tuple[APIClient, Patient, Doctor]:
    patient = make_patient(full_name="Clara Lehmann", phone="+49 170 1234567")
    return client_for(patient.user), patient, make_doctor(name="Dr. Ada Lovelace")


def test_the_list_is_the_generic_paths_byte_for_byte(monkeypatch, mine):
    api, patient, doctor = mine
    child = make_dependant(patient, "Mia Wolf")
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10), reason="Persistent cough")
    book(patient, doctor, local(doctor.clinic, 2026, 3, 10, 10), dependant=child)
    cancelled = book(patient, doctor, local(doctor.clinic, 2026, 3, 11, 10))
    services.cancel_appointment(appointment=cancelled, cancelled_by=patient.user)
    far = make_doctor(make_clinic(timezone="America/New_York"))
    book(patient, far, local(far.clinic, 2026, 3, 12, 10))

    fresh = api.get(LIST)
    kept = api.get(LIST)
    generic_path(monkeypatch)
    generic = api.get(LIST)

    assert not getattr(fresh, "kept_answer", False)
    assert getattr(kept, "kept_answer", False)
    assert generic.status_code == fresh.status_code == kept.status_code == 200
    assert fresh.content == generic.content
    assert kept.content == generic.content
    for name in COMPARED_HEADERS:
        assert fresh.get(name) == kept.get(name) == generic.get(name), name
    body = generic.json()
    assert body["count"] == 4
    assert [item["for"] for item in body["results"]][:2] == [
        None,
        {"id": child.pk, "full_name": "Mia Wolf", "relationship": "child"},
    ]
    assert body["results"][0]["reason"] == "Persistent cough"
    assert body["results"][0]["patient"]["phone"] == "+491701234567"


def test_a_list_longer_than_a_page_has_the_generic_paths_count_and_links(monkeypatch, mine):
    api, patient, doctor = mine
    monkeypatch.setattr(Pagination, "page_size", 2)
    for hour in (10, 11, 12):
        book(patient, doctor, local(doctor.clinic, 2026, 3, 9, hour))

    fresh = api.get(LIST)
    generic_path(monkeypatch)
    generic = api.get(LIST)

    assert fresh.content == generic.content
    body = fresh.json()
    assert (body["count"], body["next"], body["previous"]) == (
        3,
        "http://testserver/api/v1/appointments?page=2",
        None,
    )
    assert len(body["results"]) == 2


def test_an_empty_list_is_the_generic_paths(monkeypatch, mine):
    api, _patient, _doctor = mine

    fresh = api.get(LIST)
    generic_path(monkeypatch)

    assert fresh.content == api.get(LIST).content
    assert fresh.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_user_without_a_profile_gets_one_as_before():
    user = make_user()

    assert listed(client_for(user))["count"] == 0
    assert Patient.objects.filter(user=user).exists()


def test_the_answer_is_kept_in_this_process_and_nothing_of_it_in_the_shared_cache(
    monkeypatch, mine
):
    api, patient, doctor = mine
    child = make_dependant(patient, "Mia Wolf")
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10), dependant=child, reason="Rash")
    shared = caches["default"]
    written: list[str] = []
    for method in ("set", "add", "set_many"):
        original = getattr(shared, method)

        def recording(*args: Any, original: Any = original, **kwargs: Any) -> Any:
            written.append(repr((args, kwargs)))
            return original(*args, **kwargs)

        monkeypatch.setattr(shared, method, recording)

    assert listed(api)["results"][0]["for"]["full_name"] == "Mia Wolf"

    store: Any = caches["process"]
    assert any(b"Mia Wolf" in value for value in store._cache.values())
    for secret in ("Mia Wolf", "Rash", "Clara Lehmann", "1234567"):
        assert not any(secret in entry for entry in written), secret


def test_a_booking_shows_on_the_next_request(mine):
    api, patient, doctor = mine
    assert listed(api)["count"] == 0

    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))

    assert [item["doctor"]["name"] for item in listed(api)["results"]] == ["Dr. Ada Lovelace"]


def test_a_cancellation_shows_on_the_next_request(mine):
    api, patient, doctor = mine
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    assert listed(api)["results"][0]["status"] == Status.BOOKED

    services.cancel_appointment(appointment=appointment, cancelled_by=patient.user, reason="Ill")

    (item,) = listed(api)["results"]
    assert (item["status"], item["cancellation_reason"]) == (Status.CANCELLED_BY_PATIENT, "Ill")


def test_a_move_shows_on_the_next_request(mine):
    api, patient, doctor = mine
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    assert listed(api)["results"][0]["start"] == "2026-03-09T10:00:00+01:00"

    services.reschedule_appointment(
        appointment=appointment,
        starts_at=local(doctor.clinic, 2026, 3, 9, 11),
        rescheduled_by=None,
        by_clinic=True,
    )

    assert listed(api)["results"][0]["start"] == "2026-03-09T11:00:00+01:00"


def test_an_attendance_mark_shows_on_the_next_request(frozen_now, mine):
    api, patient, doctor = mine
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    frozen_now.move_to(local(doctor.clinic, 2026, 3, 9, 11))
    assert listed(api)["results"][0]["status"] == Status.BOOKED

    services.mark_attendance(appointment=appointment, status=Status.COMPLETED, marked_by=None)

    assert listed(api)["results"][0]["status"] == Status.COMPLETED


def test_the_end_of_the_change_window_shows_on_the_next_request(frozen_now, mine):
    api, patient, doctor = mine
    book(patient, doctor, local(doctor.clinic, 2026, 3, 4, 11, 30))  # changeable until 9:30
    assert listed(api)["results"][0]["can_change_online"] is True

    frozen_now.move_to(local(doctor.clinic, 2026, 3, 4, 9, 31))  # long before the entry ends

    assert listed(api)["results"][0]["can_change_online"] is False


def test_new_names_show_on_the_next_request(mine):
    api, patient, doctor = mine
    child = make_dependant(patient, "Mia Wolf")
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10), dependant=child)
    assert listed(api)["results"][0]["for"]["full_name"] == "Mia Wolf"

    account_services.update_dependant(
        dependant=child,
        full_name="Mia Sommer",
        date_of_birth=child.date_of_birth,
        relationship=child.relationship,
    )
    assert listed(api)["results"][0]["for"]["full_name"] == "Mia Sommer"

    Doctor.objects.filter(pk=doctor.pk).update(name="Dr. Ada King")
    assert listed(api)["results"][0]["doctor"]["name"] == "Dr. Ada King"

    AppointmentType.objects.filter(pk=consultation(doctor).pk).update(name="Check-up")
    assert listed(api)["results"][0]["appointment_type"]["name"] == "Check-up"


def test_the_patients_new_details_show_on_the_next_request(mine):
    api, patient, doctor = mine
    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    assert listed(api)["results"][0]["patient"]["phone"] == "+491701234567"

    account_services.update_patient_profile(
        patient=patient,
        full_name="Clara Sommer",
        phone="+49 170 7654321",
        date_of_birth=dt.date(1980, 1, 1),
    )
    shown = listed(api)["results"][0]["patient"]
    assert (shown["full_name"], shown["phone"]) == ("Clara Sommer", "+491707654321")

    User.objects.filter(pk=patient.user_id).update(email="clara@example.org")
    assert listed(api)["results"][0]["patient"]["email"] == "clara@example.org"


def test_staff_still_see_their_clinics_appointments(mine):
    _api, patient, doctor = mine
    ours = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    staff = client_for(make_staff(clinics=(doctor.clinic,)))
    staff.get(LIST)
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 11))

    body = listed(staff)
    assert body["count"] == 2
    assert body["results"][0]["id"] == ours.pk


def test_control_a_key_that_ignores_the_rows_shows_a_stale_list(monkeypatch, mine):
    """The harness sees a stale answer when the key leaves out what changed: the tests
    above would fail if the key did not name the rows."""
    api, patient, doctor = mine
    monkeypatch.setattr(appointments_api, "answer_key", lambda *parts: "answer:always:same")
    assert listed(api)["count"] == 0

    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))

    assert listed(api)["count"] == 0
