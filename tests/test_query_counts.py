"""Every hot page and endpoint takes the same few queries however much data there is
(issue 14; docs/performance.md): measured with one doctor or appointment, then with many,
and held under a fixed ceiling. The doctor list and a doctor's week page have theirs in
tests/appointments/test_doctor_pages.py.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``).
"""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from scheduling.models import Clinic, Doctor
from tests.api.helpers import client_for
from tests.factories import book, local, log_in, make_clinic, make_doctor, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def queries_of(request: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code == 200, response.content[:500]
    return len(captured)


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic(max_upcoming_per_patient=100)


def busy_week(doctor: Doctor, patients: int) -> None:
    """``patients`` bookings with ``doctor`` from Monday 9 March, 9:00, on."""
    for number in range(patients):
        day, slot = divmod(number, 16)
        hour, half = divmod(slot, 2)
        book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9 + day, 9 + hour, 30 * half))


@pytest.mark.parametrize("days", [0, 6], ids=["one day", "one week"])
def test_free_times_from_the_api_take_the_same_queries_however_busy_the_doctor(
    clinic, days, django_assert_max_num_queries
):
    quiet, busy = make_doctor(clinic), make_doctor(clinic)
    busy_week(busy, 40)
    api = client_for(make_patient().user)
    last = dt.date(2026, 3, 9) + dt.timedelta(days=days)

    def free_times(doctor: Doctor) -> Callable[[], Any]:
        path = f"/api/v1/doctors/{doctor.pk}/availability?from=2026-03-09&to={last}"
        return lambda: api.get(path)

    cold = queries_of(free_times(quiet)), queries_of(free_times(busy))
    warm = queries_of(free_times(quiet)), queries_of(free_times(busy))

    # The token and its user, the doctor with the clinic, its types, the cached entry;
    # when it is missing: weekly hours, extra hours, time off, the appointments, and the
    # entry stored (a count and one upsert, in a savepoint in the test's transaction).
    assert cold[0] == cold[1] <= 12
    assert warm[0] == warm[1] <= 5


def test_the_doctor_list_from_the_api_takes_the_same_queries_for_one_doctor_or_many(
    clinic, django_assert_max_num_queries
):
    api = Client()
    make_doctor(clinic)
    one = queries_of(lambda: api.get("/api/v1/doctors"))
    for _ in range(30):
        make_doctor(make_clinic())

    # The count, one page of doctors with their clinics, their types.
    with django_assert_max_num_queries(3):
        response = api.get("/api/v1/doctors")
    assert one == queries_of(lambda: api.get("/api/v1/doctors"))
    assert response.json()["count"] == 31


def test_my_appointments_page_takes_the_same_queries_for_one_appointment_or_many(
    clinic, django_assert_max_num_queries
):
    client, patient = Client(), make_patient()
    log_in(client, patient)
    doctors = [make_doctor(clinic) for _ in range(3)]
    book(patient, doctors[0], local(clinic, 2026, 3, 9, 9))
    one = queries_of(lambda: client.get("/appointments/"))
    for number in range(1, 15):
        book(patient, doctors[number % 3], local(clinic, 2026, 3, 9 + number // 3, 10 + number % 3))

    # Session, user, OTP device, the upcoming and the other appointments, the header's
    # clinic name (scheduling/context_processors.py).
    with django_assert_max_num_queries(7):
        response = client.get("/appointments/")
    assert one == queries_of(lambda: client.get("/appointments/"))
    assert response.text.count('href="/appointments/') >= 15


def test_my_appointments_from_the_api_take_the_same_queries_for_one_or_many(
    clinic, django_assert_max_num_queries
):
    patient = make_patient()
    api = client_for(patient.user)
    doctors = [make_doctor(clinic) for _ in range(3)]
    book(patient, doctors[0], local(clinic, 2026, 3, 9, 9))
    one = queries_of(lambda: api.get("/api/v1/appointments"))
    for number in range(1, 15):
        book(patient, doctors[number % 3], local(clinic, 2026, 3, 9 + number // 3, 10 + number % 3))

    # The token and its user, the count, one page of appointments with what they show.
    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/appointments")
    assert one == queries_of(lambda: api.get("/api/v1/appointments"))
    assert response.json()["count"] == 15
