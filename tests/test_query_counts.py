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
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from appointments.selectors import PAST_PER_PAGE
from appointments.services import cancel_appointment
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

    # The token and its user, the doctor with its clinic and types (one query), the kept
    # answer (clinic/answers.py); when it is missing: the cached free times, and when
    # those are missing too, weekly hours, extra hours, time off, the appointments, and
    # the entry stored; then the answer kept (each write a count and one upsert, in a
    # savepoint in the test's transaction; with Redis none of the cache's are queries).
    assert cold[0] == cold[1] <= 16
    assert warm[0] == warm[1] <= 3


def test_the_doctor_list_from_the_api_takes_the_same_queries_for_one_doctor_or_many(
    clinic, django_assert_max_num_queries
):
    api = Client()
    make_doctor(clinic)
    one = queries_of(lambda: api.get("/api/v1/doctors"))
    one_kept = queries_of(lambda: api.get("/api/v1/doctors"))
    for _ in range(30):
        make_doctor(make_clinic())

    # One page of doctors as rows with their count (the kept answer's key, one query),
    # the kept answer's read; when it misses, their types and the answer kept (a count
    # and an upsert, in a savepoint in the test's transaction; with Redis, none are
    # queries).
    with django_assert_max_num_queries(7):
        response = api.get("/api/v1/doctors")
    assert one == 7
    assert one_kept == queries_of(lambda: api.get("/api/v1/doctors")) == 2
    assert response.json()["count"] == 31


def test_my_appointments_page_takes_the_same_queries_for_one_appointment_or_many(
    clinic, django_assert_max_num_queries
):
    client, patient = Client(), make_patient()
    log_in(client, patient)
    doctors = [make_doctor(clinic) for _ in range(3)]
    book(patient, doctors[0], local(clinic, 2026, 3, 9, 9))
    client.get("/appointments/")  # what each process keeps (the clinics' names) is kept now
    one = queries_of(lambda: client.get("/appointments/"))
    for number in range(1, 15):
        book(patient, doctors[number % 3], local(clinic, 2026, 3, 9 + number // 3, 10 + number % 3))

    # Session, user, OTP device, the upcoming and the other appointments in one query,
    # by the user (the patient's row is not read; the header's clinic names are kept by
    # each process: scheduling/context_processors.py). The page itself is kept whole in
    # the process (appointments.views.appointment_list): no cache query.
    with django_assert_max_num_queries(4):
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

    # The token and its user, then the patient, the count and the first page of
    # appointments with what they show in one query (the answer kept in the process).
    with django_assert_max_num_queries(3):
        response = api.get("/api/v1/appointments")
    assert one == queries_of(lambda: api.get("/api/v1/appointments"))
    assert response.json()["count"] == 15


def test_my_appointments_page_shows_the_past_a_page_at_a_time_in_the_same_queries(
    clinic, django_assert_max_num_queries
):
    client, patient = Client(), make_patient()
    log_in(client, patient)
    doctor = make_doctor(clinic)
    book(patient, doctor, local(clinic, 2026, 3, 20, 9))
    client.get("/appointments/")  # what each process keeps (the clinics' names) is kept now
    one = queries_of(lambda: client.get("/appointments/"))
    for number in range(PAST_PER_PAGE + 5):
        day, hour = divmod(number, 8)
        cancelled = book(patient, doctor, local(clinic, 2026, 3, 9 + day, 9 + hour))
        cancel_appointment(appointment=cancelled, cancelled_by=patient.user)

    # Session, user, OTP device, then the upcoming ones and one page of the rest (and
    # one more row: no count) in one query.
    with django_assert_max_num_queries(4):
        response = client.get("/appointments/")
    assert one == queries_of(lambda: client.get("/appointments/"))
    upcoming, past = response.text.split('id="past-heading"')
    assert upcoming.count('<li class="appointment-card') == 1
    assert past.count('<li class="appointment-card') == PAST_PER_PAGE
    assert 'href="?page=2" rel="next"' in past
    second = client.get("/appointments/?page=2").text.split('id="past-heading"')[1]
    assert second.count('<li class="appointment-card') == 5
    assert 'href="?page=1" rel="prev"' in second
    assert 'rel="next"' not in second


@pytest.mark.parametrize("page", ["0", "-1", "nonsense", "9" * 5000, "٣"])
def test_my_appointments_page_takes_any_page_number_without_an_error(page):
    client = Client()
    log_in(client, make_patient())

    assert client.get("/appointments/", {"page": page}).status_code == 200


def test_the_search_across_doctors_takes_the_same_queries_for_one_doctor_or_many(
    clinic, django_assert_max_num_queries
):
    api = Client()
    path = "/api/v1/slots?from=2026-03-09&to=2026-03-09"
    doctor = make_doctor(clinic)
    book(make_patient(), doctor, local(clinic, 2026, 3, 9, 9))
    cold_one, warm_one = queries_of(lambda: api.get(path)), queries_of(lambda: api.get(path))
    for _ in range(8):
        book(make_patient(), make_doctor(clinic), local(clinic, 2026, 3, 9, 10))
    cache.clear()

    cold_many, warm_many = queries_of(lambda: api.get(path)), queries_of(lambda: api.get(path))

    # The doctors' rows (the kept answer's key) and the kept answer's read; when it
    # misses: the doctors and their types, one read of the free-times cache, the hours
    # (three), the appointments, and the entries and the answer stored (a count and an
    # upsert each, in a savepoint in the test's transaction).
    assert cold_one == cold_many <= 17
    assert warm_one == warm_many <= 2


def test_the_search_page_takes_a_bounded_number_of_queries(clinic, django_assert_max_num_queries):
    client = Client()
    for _ in range(8):
        book(make_patient(), make_doctor(clinic), local(clinic, 2026, 3, 9, 10))

    # As the API, over at most five widening windows of the 31 days (a read of the cache
    # each, and on a miss their appointments), plus the clinics and the form's choices
    # (specialties, languages, types).
    with django_assert_max_num_queries(23):
        cold = client.get("/search/?date=2026-03-09")
    with django_assert_max_num_queries(11):
        warm = client.get("/search/?date=2026-03-09")
    item = 'class="time-list__item"'
    assert cold.text.count(item) == warm.text.count(item) > 0
