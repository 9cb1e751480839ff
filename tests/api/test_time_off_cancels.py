"""POST /api/v1/doctors/{id}/time-off: without `cancel_booked` the booked appointments
inside it are listed as conflicts; with it they are cancelled, each patient told the
reason. Now is Wed 2026-03-04 09:00 in Berlin."""

from typing import Any

import pytest

from appointments.models import Appointment, Notification, Status
from tests.api.helpers import assert_problem, client_for
from tests.factories import book, local, make_clinic, make_doctor, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

MONDAY = "2026-03-09"


@pytest.fixture
def doctor():
    return make_doctor(make_clinic())


@pytest.fixture
def api(doctor):
    return client_for(make_staff(clinics=(doctor.clinic,)))


@pytest.fixture
def mornings(doctor):
    """Monday at 10:00 and 11:00 CET, and one at 14:00 outside the time off."""
    return [
        book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, hour))
        for hour in (10, 11, 14)
    ]


def morning_off(**extra: Any) -> dict[str, Any]:
    return {
        "start_date": MONDAY,
        "end_date": MONDAY,
        "start_time": "09:00",
        "end_time": "12:00",
    } | extra


def statuses(appointments):
    return [Appointment.objects.get(pk=each.pk).status for each in appointments]


def test_without_the_flag_it_lists_the_conflicts_and_keeps_them_booked(api, doctor, mornings):
    response = api.post(
        f"/api/v1/doctors/{doctor.pk}/time-off", morning_off(reason="Training"), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["cancelled"] == []
    assert body["conflicts"] == [
        {
            "id": mornings[0].pk,
            "start": "2026-03-09T10:00:00+01:00",
            "end": "2026-03-09T10:30:00+01:00",
        },
        {
            "id": mornings[1].pk,
            "start": "2026-03-09T11:00:00+01:00",
            "end": "2026-03-09T11:30:00+01:00",
        },
    ]
    assert statuses(mornings) == [Status.BOOKED] * 3


def test_with_the_flag_it_cancels_them_and_tells_each_patient(api, doctor, mornings):
    response = api.post(
        f"/api/v1/doctors/{doctor.pk}/time-off",
        morning_off(reason="Dr. is ill", cancel_booked=True),
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [item["id"] for item in body["cancelled"]] == [mornings[0].pk, mornings[1].pk]
    assert body["conflicts"] == []
    assert "cancel_booked" not in body
    assert statuses(mornings) == [
        Status.CANCELLED_BY_CLINIC,
        Status.CANCELLED_BY_CLINIC,
        Status.BOOKED,
    ]
    cancelled = Appointment.objects.get(pk=mornings[0].pk)
    assert cancelled.cancellation_reason == "Dr. is ill"
    assert (
        Notification.objects.filter(
            appointment__in=mornings[:2], kind=Notification.Kind.CANCELLED_BY_CLINIC
        ).count()
        == 2
    )


def test_the_flag_needs_a_reason(api, doctor, mornings):
    response = api.post(
        f"/api/v1/doctors/{doctor.pk}/time-off", morning_off(cancel_booked=True), format="json"
    )

    assert_problem(response, 400, "invalid_request")
    assert "reason" in {error["field"] for error in response.json()["errors"]}
    assert not doctor.time_off.exists()
    assert statuses(mornings) == [Status.BOOKED] * 3


def test_another_clinics_doctor_is_not_found(api, mornings):
    other = make_doctor(make_clinic())

    response = api.post(
        f"/api/v1/doctors/{other.pk}/time-off",
        morning_off(reason="x", cancel_booked=True),
        format="json",
    )

    assert_problem(response, 404, "not_found")
