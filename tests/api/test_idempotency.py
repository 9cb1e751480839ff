"""``Idempotency-Key`` on the API's writes: a retry gets the stored answer and writes
nothing; the same key for another request, or while the first still runs, is refused.

The last tests race real requests on PostgreSQL, each thread with its own connection; a
control test removes the in-flight lock and must see the harness let more than one
request through, which proves the race tests could fail.
"""

import datetime as dt
import functools
import importlib
import pydoc
import re
import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, connection
from django_q.models import Schedule
from rest_framework.test import APIClient

from accounts.api_tokens import issue_token
from accounts.models import ApiToken, User
from appointments import services
from appointments.models import Appointment, Notification
from clinic.api import idempotency
from clinic.api.models import IdempotencyKey
from scheduling.models import StaffMembership
from tests.api.helpers import (
    MONDAY_11,
    assert_problem,
    booking,
    client_for,
    new_key,
    post_booking,
)
from tests.concurrency import run_together
from tests.factories import book, local, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def writes() -> tuple[int, int, int]:
    """What a booking, a cancel or a reschedule writes: rows, audit records, emails."""
    return (
        Appointment.objects.count(),
        Appointment.history.count(),
        Notification.objects.count(),
    )


def replayed(response: Any) -> bool:
    return bool(response.get("Idempotent-Replayed") == "true")


# --- The header -------------------------------------------------------------------------


def test_booking_without_a_key_is_refused(api, doctor):
    response = api.post("/api/v1/appointments", booking(doctor), format="json")

    assert_problem(response, 400, "idempotency_key_missing")
    assert writes() == (0, 0, 0)


def test_a_blank_key_counts_as_missing(api, doctor):
    assert_problem(post_booking(api, key="   ", **booking(doctor)), 400, "idempotency_key_missing")


@pytest.mark.parametrize(
    "key", ["k" * 256, "has a space", "tab\there", '""'], ids=["too-long", "space", "tab", "empty"]
)
def test_an_invalid_key_is_refused(api, doctor, key):
    assert_problem(post_booking(api, key=key, **booking(doctor)), 400, "idempotency_key_invalid")
    assert writes() == (0, 0, 0)


def test_a_key_of_255_characters_is_accepted(api, doctor):
    assert post_booking(api, key="k" * 255, **booking(doctor)).status_code == 201


def test_a_key_in_quotes_is_the_same_key_as_without(api, doctor):
    first = post_booking(api, key="booking-1", **booking(doctor))

    retry = post_booking(api, key='"booking-1"', **booking(doctor))

    assert retry.status_code == 201
    assert replayed(retry)
    assert retry.json() == first.json()


# --- Retries ----------------------------------------------------------------------------


def test_a_retry_with_the_same_key_gets_the_stored_response_and_writes_nothing(api, doctor):
    key = new_key()
    first = post_booking(api, key=key, **booking(doctor, reason="Cough"))
    assert first.status_code == 201, first.content
    assert not replayed(first)
    before = writes()

    retry = post_booking(api, key=key, **booking(doctor, reason="Cough"))

    assert retry.status_code == 201
    assert replayed(retry)
    assert retry.content == first.content
    assert retry["Location"] == first["Location"]
    assert writes() == before
    assert before[:2] == (1, 1)


def test_a_retry_with_the_fields_in_another_order_is_the_same_request(api, doctor):
    key = new_key()
    body = booking(doctor)
    first = post_booking(api, key=key, **body)

    retry = post_booking(api, key=key, **dict(reversed(list(body.items()))))

    assert replayed(retry)
    assert retry.json() == first.json()


def test_a_stored_409_is_replayed_even_after_the_time_is_freed(api, doctor, patient):
    other = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    key = new_key()
    first = post_booking(api, key=key, **booking(doctor))
    assert_problem(first, 409, "slot_unavailable")
    services.cancel_appointment(
        appointment=other, cancelled_by=None, by_clinic=True, reason="Doctor is ill"
    )

    retry = post_booking(api, key=key, **booking(doctor))

    assert_problem(retry, 409, "slot_unavailable")
    assert replayed(retry)
    assert retry.content == first.content
    assert not Appointment.objects.filter(patient=patient).exists()
    # The time is free: a new request (a new key) books it.
    assert post_booking(api, **booking(doctor)).status_code == 201


def test_a_stored_validation_error_is_replayed(api, doctor):
    key = new_key()
    first = post_booking(api, key=key, **booking(doctor, "2026-03-09T10:00:00"))
    assert_problem(first, 400, "invalid_request")

    retry = post_booking(api, key=key, **booking(doctor, "2026-03-09T10:00:00"))

    assert_problem(retry, 400, "invalid_request")
    assert replayed(retry)


def test_the_same_key_for_a_different_request_is_refused(api, doctor):
    key = new_key()
    post_booking(api, key=key, **booking(doctor))
    before = writes()

    response = post_booking(api, key=key, **booking(doctor, MONDAY_11))

    assert_problem(response, 422, "idempotency_key_mismatch")
    assert writes() == before


def test_keys_are_scoped_to_the_caller(api, doctor):
    key = new_key()
    post_booking(api, key=key, **booking(doctor))
    someone_else = client_for(make_patient().user)

    response = post_booking(someone_else, key=key, **booking(doctor, MONDAY_11))

    assert response.status_code == 201, response.content
    assert not replayed(response)
    assert response.json()["start"] == MONDAY_11
    assert Appointment.objects.count() == 2


# --- Expiry -----------------------------------------------------------------------------


def test_a_key_is_kept_for_24_hours_and_then_forgotten(api, doctor, frozen_now, settings):
    assert settings.IDEMPOTENCY_KEY_LIFETIME_HOURS == 24
    other = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    key = new_key()
    assert_problem(post_booking(api, key=key, **booking(doctor)), 409, "slot_unavailable")
    services.cancel_appointment(
        appointment=other, cancelled_by=None, by_clinic=True, reason="Doctor is ill"
    )

    frozen_now.shift(dt.timedelta(hours=23))
    assert replayed(post_booking(api, key=key, **booking(doctor)))

    frozen_now.shift(dt.timedelta(hours=2))
    fresh = post_booking(api, key=key, **booking(doctor))
    assert fresh.status_code == 201, fresh.content
    assert not replayed(fresh)
    assert IdempotencyKey.objects.get(key=key).response_status == 201


def test_purging_deletes_only_expired_keys(api, doctor, frozen_now):
    old_key, recent_key = new_key(), new_key()
    post_booking(api, key=old_key, **booking(doctor))
    frozen_now.shift(dt.timedelta(hours=12))
    post_booking(api, key=recent_key, **booking(doctor, MONDAY_11))
    frozen_now.shift(dt.timedelta(hours=13))

    assert idempotency.purge_expired_keys() == 1

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == [recent_key]
    assert Appointment.objects.count() == 2


# --- Cancel and reschedule ---------------------------------------------------------------


def cancel(api, pk: int, key: str, reason: str = "") -> Any:
    return api.post(
        f"/api/v1/appointments/{pk}/cancel",
        {"reason": reason},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_replayed_cancel_returns_the_stored_response(api, doctor, frozen_now):
    # Today at noon: the patient may cancel until 10:00 (now is 09:00).
    pk = post_booking(api, **booking(doctor, "2026-03-04T12:00:00+01:00")).json()["id"]
    key = new_key()
    first = cancel(api, pk, key, "Feeling better")
    assert first.status_code == 200, first.content
    before = writes()

    # Past the cutoff a fresh answer would differ ("can_change_online" is false by then).
    frozen_now.shift(dt.timedelta(hours=1, minutes=30))
    retry = cancel(api, pk, key, "Feeling better")

    assert retry.status_code == 200
    assert replayed(retry)
    assert retry.content == first.content
    assert writes() == before


def test_a_replayed_cancel_still_needs_the_caller_to_see_the_appointment(api, doctor):
    pk = post_booking(api, **booking(doctor)).json()["id"]
    staff = make_staff(clinics=(doctor.clinic,))
    staff_api = client_for(staff)
    key = new_key()
    assert cancel(staff_api, pk, key, "The doctor is ill").status_code == 200

    StaffMembership.objects.filter(user=staff).delete()  # moved to another clinic
    retry = cancel(staff_api, pk, key, "The doctor is ill")

    assert_problem(retry, 404, "not_found")


def test_a_replayed_booking_still_needs_the_caller_to_see_the_appointment(doctor, patient):
    staff = make_staff(clinics=(doctor.clinic,))
    staff_api = client_for(staff)
    key, body = new_key(), booking(doctor) | {"patient": patient.pk}
    assert post_booking(staff_api, key, **body).status_code == 201

    StaffMembership.objects.filter(user=staff).delete()  # moved to another clinic
    retry = post_booking(staff_api, key, **body)

    assert_problem(retry, 404, "not_found")
    assert Appointment.objects.count() == 1


def test_the_same_key_on_another_appointment_is_refused(api, doctor):
    first = post_booking(api, **booking(doctor)).json()["id"]
    second = post_booking(api, **booking(doctor, MONDAY_11)).json()["id"]
    key = new_key()
    cancel(api, first, key)

    assert_problem(cancel(api, second, key), 422, "idempotency_key_mismatch")
    assert Appointment.objects.get(pk=second).status == "booked"


def test_a_replayed_reschedule_returns_the_stored_response(api, doctor):
    pk = post_booking(api, **booking(doctor)).json()["id"]
    key = new_key()
    url = f"/api/v1/appointments/{pk}/reschedule"
    first = api.post(url, {"start": MONDAY_11}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 200, first.content
    before = writes()

    retry = api.post(url, {"start": MONDAY_11}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    elsewhere = api.post(
        url, {"start": "2026-03-09T12:00:00+01:00"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )

    assert replayed(retry)
    assert retry.content == first.content
    assert_problem(elsewhere, 422, "idempotency_key_mismatch")
    assert writes() == before


def test_cancel_without_a_key_still_works(api, doctor):
    pk = post_booking(api, **booking(doctor)).json()["id"]
    keys = IdempotencyKey.objects.count()

    response = api.post(f"/api/v1/appointments/{pk}/cancel", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled_by_patient"
    assert IdempotencyKey.objects.count() == keys


# --- What is stored ---------------------------------------------------------------------


def test_only_a_fingerprint_of_the_request_is_stored(api, doctor):
    key = new_key()
    secret = "Worried about a lump in my breast"
    post_booking(api, key=key, **booking(doctor, reason=secret))

    stored = IdempotencyKey.objects.get(key=key)

    assert re.fullmatch(r"[0-9a-f]{64}", stored.fingerprint)
    assert {field.name for field in IdempotencyKey._meta.get_fields()} == {
        "id",
        "user",
        "key",
        "fingerprint",
        "response_status",
        "response_body",
        "response_headers",
        "created_at",
        "expires_at",
    }
    kept_besides_the_response = [
        str(getattr(stored, field.attname))
        for field in IdempotencyKey._meta.concrete_fields
        if field.name != "response_body"
    ]
    assert not any(secret in value for value in kept_besides_the_response)


def test_when_storing_the_response_fails_nothing_is_booked(api, doctor, monkeypatch):
    def refuse(**kwargs: Any) -> None:
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(IdempotencyKey.objects, "create", refuse)
    key = new_key()

    assert_problem(post_booking(api, key=key, **booking(doctor)), 409, "idempotency_key_in_flight")
    assert writes() == (0, 0, 0)

    # Nothing was stored either: the retry runs afresh and books.
    monkeypatch.undo()
    retry = post_booking(api, key=key, **booking(doctor))
    assert retry.status_code == 201, retry.content
    assert not replayed(retry)


def test_when_the_request_fails_after_booking_nothing_is_kept(api, doctor, monkeypatch):
    book_appointment = services.book_appointment

    def book_then_fail(**kwargs: Any) -> Appointment:
        book_appointment(**kwargs)
        raise RuntimeError("the server fell over")

    monkeypatch.setattr(services, "book_appointment", book_then_fail)
    key = new_key()

    with pytest.raises(RuntimeError):
        post_booking(api, key=key, **booking(doctor))

    assert writes() == (0, 0, 0)
    assert not IdempotencyKey.objects.exists()


# --- Concurrent requests (PostgreSQL) ---------------------------------------------------

RACERS = 50


def clients_with_one_token(user: User, count: int) -> list[APIClient]:
    """``count`` API clients (one per thread) signed in with the same token."""
    token, _record = issue_token(user=user, kind=ApiToken.Kind.PATIENT)
    clients = []
    for _ in range(count):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        clients.append(client)
    return clients


class CountingBookings:
    """Counts the requests that reach ``book_appointment``, and holds each a little
    while there, so that the requests of a race overlap."""

    def __init__(self) -> None:
        self.calls = 0
        self._count_lock = threading.Lock()
        self._book = services.book_appointment

    def __call__(self, **kwargs: Any) -> Appointment:
        with self._count_lock:
            self.calls += 1
        appointment = self._book(**kwargs)
        time.sleep(0.2)
        return appointment


@pytest.fixture
def counting_bookings(monkeypatch, settings) -> CountingBookings:
    settings.API_THROTTLE_RATES = settings.API_THROTTLE_RATES | {"writes": "1000/hour"}
    counter = CountingBookings()
    monkeypatch.setattr(services, "book_appointment", counter)
    return counter


def race_one_key(doctor, patient) -> list[Any]:
    key, body = new_key(), booking(doctor)
    clients = clients_with_one_token(patient.user, RACERS)
    sends = [functools.partial(post_booking, client, key, **body) for client in clients]
    return run_together(sends)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_with_a_key_still_running_makes_a_retry_wait(doctor, patient, monkeypatch):
    entered, release = threading.Event(), threading.Event()
    lock_rows = services.lock_patient_and_doctor

    def lock_and_pause(**kwargs: Any) -> None:
        lock_rows(**kwargs)
        entered.set()
        release.wait(timeout=30)

    monkeypatch.setattr(services, "lock_patient_and_doctor", lock_and_pause)
    key, body = new_key(), booking(doctor)
    first_client, retry_client = clients_with_one_token(patient.user, 2)
    answers: dict[str, Any] = {}

    def send_first() -> None:
        try:
            answers["first"] = post_booking(first_client, key=key, **body)
        finally:
            connection.close()

    first = threading.Thread(target=send_first)
    first.start()
    try:
        assert entered.wait(timeout=30), "the first request never reached the booking"
        retry = post_booking(retry_client, key=key, **body)
    finally:
        release.set()
        first.join(timeout=30)

    assert_problem(retry, 409, "idempotency_key_in_flight")
    assert retry["Retry-After"] == "1"
    assert answers["first"].status_code == 201, answers["first"].content
    later = post_booking(retry_client, key=key, **body)
    assert replayed(later)
    assert later.content == answers["first"].content
    assert Appointment.objects.count() == 1


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("postgres_races")
@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_bookings_with_one_key_book_once(doctor, patient, counting_bookings):
    responses = race_one_key(doctor, patient)

    assert counting_bookings.calls == 1
    assert Appointment.objects.count() == 1
    appointment = Appointment.objects.get()
    created = [r for r in responses if r.status_code == 201]
    assert created, "no request got the booking"
    assert {r.json()["id"] for r in created} == {appointment.pk}
    assert len({r.content for r in created}) == 1
    for response in responses:
        if response.status_code != 201:
            assert_problem(response, 409, "idempotency_key_in_flight")
            assert response["Retry-After"] == "1"


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("postgres_races")
@pytest.mark.django_db(transaction=True)
def test_control_without_the_in_flight_lock_the_harness_lets_requests_through_together(
    doctor, patient, counting_bookings, monkeypatch
):
    monkeypatch.setattr(idempotency, "_lock", lambda user_id, key: True)

    responses = race_one_key(doctor, patient)

    answers = Counter(r.status_code for r in responses)
    assert counting_bookings.calls > 1, answers
    # The unique key row still stops a second booking from committing.
    assert Appointment.objects.count() == 1, answers
    assert set(answers) <= {201, 409}, [r.content for r in responses if r.status_code != 201]


def test_a_daily_schedule_purges_expired_keys():
    migration = importlib.import_module("clinic.api.migrations.0002_purge_schedule")
    Schedule.objects.filter(name=migration.SCHEDULE_NAME).delete()

    migration.create_schedule(apps, None)
    migration.create_schedule(apps, None)

    [schedule] = Schedule.objects.filter(name=migration.SCHEDULE_NAME)
    assert (schedule.schedule_type, schedule.repeats) == (Schedule.DAILY, -1)
    # django-q2 finds the function by this name, as pydoc.locate does.
    assert pydoc.locate(schedule.func) is idempotency.purge_expired_keys
