"""The appointments API as a client sees it: free times, booking, listing, cancelling,
rescheduling, the audit trail, and staff booking for a patient.

Time is frozen on Wednesday 2026-03-04 09:00 in Berlin (``frozen_now``): Monday
2026-03-09 is bookable; the clinic needs 2 h notice, books 90 days ahead and lets
patients change an appointment until 2 h before it.
"""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment
from tests.api.helpers import (
    MONDAY_10,
    MONDAY_11,
    assert_problem,
    booking,
    client_for,
    post_booking,
)
from tests.factories import (
    book,
    consultation,
    local,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
    make_type,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def booked_id(api, doctor, start: str = MONDAY_10, **extra: Any) -> int:
    response = post_booking(api, **booking(doctor, start, **extra))
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def field_errors(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body["errors"]}


def availability(api, doctor, query: str):
    return api.get(f"/api/v1/doctors/{doctor.pk}/availability?{query}")


# --- Free times -------------------------------------------------------------------------


def test_free_times_are_listed_with_the_clinics_utc_offset(api, doctor):
    response = availability(api, doctor, "from=2026-03-09&to=2026-03-09")

    assert response.status_code == 200, response.content
    slots = response.json()
    assert slots[0] == {"start": "2026-03-09T09:00:00+01:00", "end": "2026-03-09T09:30:00+01:00"}
    assert slots[-1]["start"] == "2026-03-09T16:30:00+01:00"
    assert len(slots) == 16


def test_free_times_after_the_change_to_summer_time_carry_the_summer_offset(api, doctor):
    response = availability(api, doctor, "from=2026-03-30&to=2026-03-30")

    assert response.status_code == 200, response.content
    assert response.json()[0] == {
        "start": "2026-03-30T09:00:00+02:00",
        "end": "2026-03-30T09:30:00+02:00",
    }


def test_a_taken_time_is_not_listed_as_free(api, doctor):
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))

    starts = [slot["start"] for slot in availability(api, doctor, "from=2026-03-09").json()]

    assert MONDAY_10 not in starts
    assert "2026-03-09T09:30:00+01:00" in starts


def test_free_times_over_more_than_31_days_are_refused(api, doctor):
    # 9 March to 9 April is 32 dates; to 8 April, 31.
    body = assert_problem(
        availability(api, doctor, "from=2026-03-09&to=2026-04-09"), 400, "invalid_request"
    )
    assert field_errors(body) == {"to"}
    assert availability(api, doctor, "from=2026-03-09&to=2026-04-08").status_code == 200


def test_free_times_ending_before_they_start_are_refused(api, doctor):
    body = assert_problem(
        availability(api, doctor, "from=2026-03-09&to=2026-03-08"), 400, "invalid_request"
    )
    assert field_errors(body) == {"to"}


def test_free_times_of_an_unknown_type_are_refused(api, doctor):
    other_doctors_type = consultation(make_doctor(doctor.clinic))

    body = assert_problem(
        availability(api, doctor, f"from=2026-03-09&type={other_doctors_type.pk}"),
        400,
        "invalid_request",
    )
    assert field_errors(body) == {"type"}


def test_free_times_of_an_unknown_doctor_are_a_404(api, doctor):
    assert_problem(api.get("/api/v1/doctors/999999/availability"), 404, "not_found")


# --- Booking ----------------------------------------------------------------------------


def test_booking_a_free_time_answers_201_with_the_appointment(api, doctor, patient):
    response = post_booking(api, **booking(doctor, reason="Sore throat"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/appointments/{body['id']}"
    assert body["status"] == "booked"
    assert body["start"] == MONDAY_10
    assert body["end"] == "2026-03-09T10:30:00+01:00"
    assert body["doctor"] == {"id": doctor.pk, "name": doctor.name}
    assert body["clinic"] == {
        "id": doctor.clinic.pk,
        "name": doctor.clinic.name,
        "timezone": "Europe/Berlin",
    }
    assert body["appointment_type"] == {
        "id": consultation(doctor).pk,
        "name": "Consultation",
        "duration_minutes": 30,
    }
    assert body["patient"]["id"] == patient.pk
    assert body["patient"]["email"] == patient.user.email
    assert body["reason"] == "Sore throat"
    assert Appointment.objects.get(pk=body["id"]).patient == patient


def test_booking_a_taken_time_is_a_409(api, doctor):
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))

    assert_problem(post_booking(api, **booking(doctor)), 409, "slot_unavailable")
    assert Appointment.objects.count() == 1


def test_a_taken_time_is_refused_before_the_patient_the_doctor_and_the_type_are_read(api, doctor):
    # The many who ask for one time at once: each refusal is one indexed question
    # (besides the token's and the Idempotency-Key's own), not a booking's whole way.
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    body = booking(doctor)

    with CaptureQueriesContext(connection) as captured:
        assert_problem(post_booking(api, **body), 409, "slot_unavailable")

    # The token, the key's lock, the stored key, the one question, the stored refusal
    # and, before it, its commit made not to wait for the disk (clinic/api/idempotency.py).
    reads_and_writes = [
        query["sql"]
        for query in captured.captured_queries
        if "cache_entries" not in query["sql"]  # the throttle's, in the tests' cache
        and not query["sql"].startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
    ]
    assert len(reads_and_writes) <= 6, reads_and_writes
    assert not [
        sql for sql in reads_and_writes if "accounts_patient" in sql or "scheduling_" in sql
    ]


def test_a_time_inside_a_taken_appointment_is_refused_at_once_too(api, doctor):
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))  # 10:00-10:30

    response = post_booking(api, **booking(doctor, "2026-03-09T10:15:00+01:00"))

    assert_problem(response, 409, "slot_unavailable")


def test_staff_naming_another_clinics_taken_time_are_told_no_such_doctor_not_taken(doctor):
    # The early refusal is for patients, to whom every doctor is open: staff see only
    # their clinics' doctors, so a 409 would tell them of another clinic's calendar.
    elsewhere = make_doctor(make_clinic())
    book(make_patient(), elsewhere, local(elsewhere.clinic, 2026, 3, 9, 10))
    staff = client_for(make_staff(clinics=(doctor.clinic,)))

    response = post_booking(staff, **booking(elsewhere, patient=make_patient().pk))

    assert response.status_code == 400, response.content
    assert "doctor" in str(response.json())


def test_booking_without_the_clinics_notice_is_refused(api, doctor):
    # Now is 09:00 local; the clinic needs two hours' notice.
    response = post_booking(api, **booking(doctor, "2026-03-04T10:30:00+01:00"))

    assert_problem(response, 422, "too_soon")


def test_booking_beyond_the_clinics_horizon_is_refused(api, doctor):
    response = post_booking(api, **booking(doctor, "2026-06-08T10:00:00+02:00"))

    assert_problem(response, 422, "too_far_ahead")
    assert not Appointment.objects.exists()


def test_a_start_without_a_utc_offset_is_refused(api, doctor):
    body = assert_problem(
        post_booking(api, **booking(doctor, "2026-03-09T10:00:00")), 400, "invalid_request"
    )
    assert field_errors(body) == {"start"}


@pytest.mark.parametrize("start", ["9999-12-31T23:59:00+00:00", "0001-01-01T00:00:00+00:00"])
def test_a_start_at_the_ends_of_the_calendar_is_a_400_not_a_500(api, doctor, start):
    body = assert_problem(post_booking(api, **booking(doctor, start)), 400, "invalid_request")
    assert field_errors(body) == {"start"}
    pk = booked_id(api, doctor)
    moved = api.post(f"/api/v1/appointments/{pk}/reschedule", {"start": start}, format="json")
    assert field_errors(assert_problem(moved, 400, "invalid_request")) == {"start"}


@pytest.mark.parametrize(
    "query",
    [
        "to=2026-12-31",  # from defaults to today: far more than 31 days
        "to=2026-03-01",  # before today, the default from
    ],
)
def test_the_range_limits_apply_when_only_to_is_given(api, doctor, query):
    body = assert_problem(availability(api, doctor, query), 400, "invalid_request")
    assert field_errors(body) == {"to"}
    staff = client_for(make_staff(clinics=(doctor.clinic,)))
    calendar = staff.get(f"/api/v1/doctors/{doctor.pk}/calendar?{query}")
    assert field_errors(assert_problem(calendar, 400, "invalid_request")) == {"to"}


def test_a_patient_with_an_incomplete_profile_cannot_book(doctor):
    api = client_for(make_patient(phone="").user)

    assert_problem(post_booking(api, **booking(doctor)), 422, "profile_incomplete")
    assert not Appointment.objects.exists()


def test_a_type_of_another_doctor_is_refused(api, doctor):
    colleague = make_doctor(doctor.clinic)
    body = booking(doctor) | {"appointment_type": consultation(colleague).pk}

    problem = assert_problem(post_booking(api, **body), 400, "invalid_request")
    assert field_errors(problem) == {"appointment_type"}


def test_a_patient_cannot_be_at_two_doctors_at_once(api, doctor):
    booked_id(api, doctor)
    colleague = make_doctor(doctor.clinic)

    assert_problem(post_booking(api, **booking(colleague)), 409, "patient_overlap")
    assert Appointment.objects.count() == 1


# --- Reading ----------------------------------------------------------------------------


def test_a_patient_lists_only_their_own_appointments(api, doctor, patient):
    mine = booked_id(api, doctor)
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 11))

    response = api.get("/api/v1/appointments")

    assert response.status_code == 200, response.content
    assert [item["id"] for item in response.json()["results"]] == [mine]


def test_a_patient_sees_their_appointment_and_not_another_patients(api, doctor):
    mine = booked_id(api, doctor)
    theirs = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 11))

    own = api.get(f"/api/v1/appointments/{mine}")
    assert own.status_code == 200, own.content
    assert own.json()["start"] == MONDAY_10
    assert_problem(api.get(f"/api/v1/appointments/{theirs.pk}"), 404, "not_found")


def test_staff_see_their_clinics_appointments_and_not_another_clinics(doctor):
    ours = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    elsewhere = make_doctor(make_clinic())
    theirs = book(make_patient(), elsewhere, local(elsewhere.clinic, 2026, 3, 9, 10))
    staff = client_for(make_staff(clinics=(doctor.clinic,)))

    listed = staff.get("/api/v1/appointments").json()["results"]

    assert [item["id"] for item in listed] == [ours.pk]
    assert staff.get(f"/api/v1/appointments/{ours.pk}").status_code == 200
    assert_problem(staff.get(f"/api/v1/appointments/{theirs.pk}"), 404, "not_found")


def test_staff_filter_their_appointments_by_doctor_and_local_date(doctor):
    colleague = make_doctor(doctor.clinic)
    clinic = doctor.clinic
    monday = book(make_patient(), doctor, local(clinic, 2026, 3, 9, 10))
    tuesday = book(make_patient(), doctor, local(clinic, 2026, 3, 10, 9))
    colleagues = book(make_patient(), colleague, local(clinic, 2026, 3, 9, 10))
    staff = client_for(make_staff(clinics=(clinic,)))

    def listed(query: str) -> list[int]:
        response = staff.get(f"/api/v1/appointments?{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["results"]]

    assert listed(f"doctor={doctor.pk}") == [monday.pk, tuesday.pk]
    assert listed("date=2026-03-09") == [monday.pk, colleagues.pk]
    assert listed(f"doctor={doctor.pk}&date=2026-03-10") == [tuesday.pk]


def test_the_date_filter_uses_the_clinics_local_date(doctor):
    # 00:30 on Tuesday in Berlin is still Monday in UTC.
    doctor.weekly_rules.create(weekday=1, start_time=dt.time(0), end_time=dt.time(9))
    late = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 10, 0, 30))
    staff = client_for(make_staff(clinics=(doctor.clinic,)))

    on_tuesday = staff.get("/api/v1/appointments?date=2026-03-10").json()["results"]
    on_monday = staff.get("/api/v1/appointments?date=2026-03-09").json()["results"]

    assert [item["id"] for item in on_tuesday] == [late.pk]
    assert on_monday == []


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_date_filter_at_the_ends_of_the_calendar_is_a_400_not_a_500(doctor, day):
    staff = client_for(make_staff(clinics=(doctor.clinic,)))

    response = staff.get(f"/api/v1/appointments?date={day}")

    body = assert_problem(response, 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["date"]


# --- Cancelling -------------------------------------------------------------------------


def test_a_patient_cancels_their_appointment(api, doctor):
    pk = booked_id(api, doctor)

    response = api.post(f"/api/v1/appointments/{pk}/cancel", {"reason": "Better"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled_by_patient"
    assert response.json()["cancellation_reason"] == "Better"
    assert Appointment.objects.get(pk=pk).status == "cancelled_by_patient"


def test_cancelling_again_answers_200_with_the_same_state_and_records_nothing(api, doctor):
    pk = booked_id(api, doctor)
    first = api.post(f"/api/v1/appointments/{pk}/cancel", {"reason": "Better"}, format="json")
    records = Appointment.history.filter(id=pk).count()

    again = api.post(f"/api/v1/appointments/{pk}/cancel", {"reason": "Again"}, format="json")

    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert Appointment.history.filter(id=pk).count() == records


def test_a_patient_cannot_cancel_after_the_clinics_cutoff(api, doctor, frozen_now):
    pk = booked_id(api, doctor)
    frozen_now.move_to(dt.datetime(2026, 3, 9, 8, 30, tzinfo=dt.UTC))  # 09:30 local

    response = api.post(f"/api/v1/appointments/{pk}/cancel", {}, format="json")

    assert_problem(response, 422, "change_window_closed")
    assert Appointment.objects.get(pk=pk).status == "booked"


def test_staff_must_give_a_reason_to_cancel(doctor):
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    staff = client_for(make_staff(clinics=(doctor.clinic,)))
    url = f"/api/v1/appointments/{appointment.pk}/cancel"

    assert_problem(staff.post(url, {}, format="json"), 422, "reason_required")
    assert_problem(staff.post(url, {"reason": "  "}, format="json"), 422, "reason_required")
    assert Appointment.objects.get(pk=appointment.pk).status == "booked"

    response = staff.post(url, {"reason": "Doctor is ill"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled_by_clinic"
    assert response.json()["cancellation_reason"] == "Doctor is ill"


# --- Rescheduling -----------------------------------------------------------------------


def test_a_patient_reschedules_to_a_free_time(api, doctor):
    pk = booked_id(api, doctor)

    response = api.post(
        f"/api/v1/appointments/{pk}/reschedule", {"start": MONDAY_11}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["start"] == MONDAY_11
    assert response.json()["end"] == "2026-03-09T11:30:00+01:00"
    assert Appointment.objects.get(pk=pk).starts_at == local(doctor.clinic, 2026, 3, 9, 11)


def test_rescheduling_to_a_taken_time_is_a_409(api, doctor):
    pk = booked_id(api, doctor)
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 11))

    response = api.post(
        f"/api/v1/appointments/{pk}/reschedule", {"start": MONDAY_11}, format="json"
    )

    assert_problem(response, 409, "slot_unavailable")
    assert Appointment.objects.get(pk=pk).starts_at == local(doctor.clinic, 2026, 3, 9, 10)


# --- The audit trail --------------------------------------------------------------------


def test_the_history_lists_every_change_oldest_first(api, doctor):
    pk = booked_id(api, doctor)
    api.post(f"/api/v1/appointments/{pk}/cancel", {"reason": "Feeling better"}, format="json")

    response = api.get(f"/api/v1/appointments/{pk}/history")

    assert response.status_code == 200, response.content
    booked, cancelled = response.json()
    assert booked["status"] == "booked"
    assert booked["by"] == "patient"
    assert booked["reason"] == "booked"
    assert booked["start"] == MONDAY_10
    assert booked["end"] == "2026-03-09T10:30:00+01:00"
    assert booked["at"].startswith("2026-03-04T08:00:00")
    assert cancelled["status"] == "cancelled_by_patient"
    assert "Feeling better" in cancelled["reason"]


def test_only_staff_see_who_on_the_staff_made_a_change(api, doctor):
    pk = booked_id(api, doctor)
    member = make_staff(clinics=(doctor.clinic,))
    staff = client_for(member)
    staff.post(f"/api/v1/appointments/{pk}/cancel", {"reason": "Doctor is ill"}, format="json")

    for_patient = api.get(f"/api/v1/appointments/{pk}/history").json()
    for_staff = staff.get(f"/api/v1/appointments/{pk}/history").json()

    assert [entry["by"] for entry in for_patient] == ["patient", "staff"]
    assert [entry["by_email"] for entry in for_patient] == [None, None]
    assert for_staff[-1]["by"] == "staff"
    assert for_staff[-1]["by_email"] == member.email
    assert for_staff[-1]["status"] == "cancelled_by_clinic"


def test_another_patients_history_is_a_404(api, doctor):
    theirs = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 11))

    assert_problem(api.get(f"/api/v1/appointments/{theirs.pk}/history"), 404, "not_found")


# --- Staff booking for a patient --------------------------------------------------------


def test_staff_book_for_a_patient_and_are_recorded_as_the_booker(doctor, patient):
    member = make_staff(clinics=(doctor.clinic,))

    response = post_booking(client_for(member), **booking(doctor, patient=patient.pk))

    assert response.status_code == 201, response.content
    assert response.json()["patient"]["id"] == patient.pk
    appointment = Appointment.objects.get(pk=response.json()["id"])
    assert appointment.patient == patient
    assert appointment.booked_by == member


def test_staff_must_name_the_patient_they_book_for(doctor):
    staff = client_for(make_staff(clinics=(doctor.clinic,)))

    problem = assert_problem(post_booking(staff, **booking(doctor)), 400, "invalid_request")
    assert field_errors(problem) == {"patient"}
    assert not Appointment.objects.exists()


def test_staff_cannot_book_for_a_patient_known_only_to_another_clinic(doctor):
    elsewhere = make_doctor(make_clinic())
    stranger = make_patient()
    book(stranger, elsewhere, local(elsewhere.clinic, 2026, 3, 10, 10))
    staff = client_for(make_staff(clinics=(doctor.clinic,)))

    response = post_booking(staff, **booking(doctor, patient=stranger.pk))

    problem = assert_problem(response, 400, "invalid_request")
    assert field_errors(problem) == {"patient"}
    assert not Appointment.objects.filter(doctor=doctor).exists()


def test_a_patient_cannot_book_for_someone_else(api, doctor):
    other = make_patient()

    problem = assert_problem(
        post_booking(api, **booking(doctor, patient=other.pk)), 400, "invalid_request"
    )
    assert field_errors(problem) == {"patient"}


def test_a_longer_type_books_its_own_duration(api, doctor):
    check_up = make_type(doctor, 60, "Check-up")

    response = post_booking(api, **booking(doctor, appointment_type=check_up.pk))

    assert response.status_code == 201, response.content
    assert response.json()["end"] == "2026-03-09T11:00:00+01:00"
    assert response.json()["appointment_type"]["duration_minutes"] == 60
