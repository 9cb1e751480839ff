"""The answers of the writes (book, cancel, move) are made from the rows the write holds,
not read again (docs/performance.md, "The write path"), and are what a read then shows.

Time is frozen on Wednesday 2026-03-04 09:00 in Berlin (``frozen_now``), as in
test_appointments.py.
"""

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import notifications
from tests.api.helpers import MONDAY_10, MONDAY_11, booking, client_for, new_key, post_booking
from tests.factories import make_dependant, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

APPOINTMENTS = '"appointments_appointment"'


def read_after_the_write(captured: CaptureQueriesContext, written: str) -> list[str]:
    """The SELECTs of appointments made after the first statement that wrote ``written``
    (an INSERT or UPDATE of the appointment)."""
    # Read before the next request: each request empties the connection's query log.
    sqls = [query["sql"] for query in captured.captured_queries]
    wrote = next((n for n, sql in enumerate(sqls) if sql.startswith(written)), None)
    assert wrote is not None, sqls
    return [sql for sql in sqls[wrote + 1 :] if sql.startswith("SELECT") and APPOINTMENTS in sql]


def shown(client: Any, pk: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/appointments/{pk}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_the_booking_answer_is_the_appointment_as_a_read_then_shows_it(api, doctor):
    with CaptureQueriesContext(connection) as captured:
        response = post_booking(api, **booking(doctor, reason="Sore throat"))

    assert response.status_code == 201, response.content
    assert not read_after_the_write(captured, f"INSERT INTO {APPOINTMENTS}")
    assert response.json() == shown(api, response.json()["id"])


def test_a_booking_for_a_family_member_answers_with_them(doctor, patient):
    child = make_dependant(patient, full_name="Mia Muster")
    client = client_for(patient.user)

    response = post_booking(client, **(booking(doctor) | {"for": child.pk}))

    assert response.status_code == 201, response.content
    assert response.json()["for"]["full_name"] == "Mia Muster"
    assert response.json() == shown(client, response.json()["id"])


def test_staff_booking_for_a_patient_answer_with_it_as_they_then_read_it(doctor):
    staff = make_staff(clinics=(doctor.clinic,))
    someone = make_patient()
    client = client_for(staff)

    response = post_booking(client, **booking(doctor), patient=someone.pk, reason="Follow-up")

    assert response.status_code == 201, response.content
    assert response.json()["patient"]["id"] == someone.pk
    assert response.json() == shown(client, response.json()["id"])


def test_the_cancel_answer_is_the_cancelled_appointment_as_a_read_then_shows_it(api, doctor):
    pk = post_booking(api, **booking(doctor)).json()["id"]

    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            f"/api/v1/appointments/{pk}/cancel",
            {"reason": "Feeling better"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=new_key(),
        )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled_by_patient"
    assert response.json()["cancellation_reason"] == "Feeling better"
    assert not read_after_the_write(captured, f"UPDATE {APPOINTMENTS}")
    assert response.json() == shown(api, pk)


def test_the_move_answer_is_the_moved_appointment_as_a_read_then_shows_it(api, doctor):
    pk = post_booking(api, **booking(doctor, MONDAY_10)).json()["id"]

    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            f"/api/v1/appointments/{pk}/reschedule", {"start": MONDAY_11}, format="json"
        )

    assert response.status_code == 200, response.content
    assert response.json()["start"] == MONDAY_11
    assert not read_after_the_write(captured, f"UPDATE {APPOINTMENTS}")
    assert response.json() == shown(api, pk)


def test_the_worker_is_woken_through_one_broker_for_every_write(monkeypatch):
    made, pushed = [], []

    class Broker:
        list_key = "test"

        def enqueue(self, task: str) -> str:
            pushed.append(task)
            return str(len(pushed))

    def get_broker(list_key: str | None = None) -> Broker:
        made.append(Broker())
        return made[-1]

    monkeypatch.setattr("django_q.brokers.get_broker", get_broker)
    monkeypatch.setattr("django_q.tasks.get_broker", get_broker)
    monkeypatch.setattr("django_q.conf.Conf.SYNC", False)
    notifications.process_broker.cache_clear()
    try:
        for _write in range(3):
            notifications.wake_the_worker()
    finally:
        notifications.process_broker.cache_clear()

    assert len(made) == 1
    assert len(pushed) == 3


ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true)"


@pytest.mark.postgres
def test_a_refusals_stored_answer_is_committed_without_waiting_for_the_disk(api, doctor):
    post_booking(client_for(make_patient().user), **booking(doctor))  # the time is taken

    with CaptureQueriesContext(connection) as captured:
        refused = post_booking(api, key="the-same-key", **booking(doctor))
    sqls = [query["sql"] for query in captured.captured_queries]
    replayed = post_booking(api, key="the-same-key", **booking(doctor))

    assert refused.status_code == replayed.status_code == 409
    assert replayed.json() == refused.json()  # stored and replayed as before
    # For this transaction alone, and before the stored answer is written.
    made = [n for n, sql in enumerate(sqls) if ASYNC_COMMIT in sql]
    stored = [n for n, sql in enumerate(sqls) if sql.startswith('INSERT INTO "api_idempotencykey"')]
    assert len(made) == len(stored) == 1
    assert made[0] < stored[0]


@pytest.mark.postgres
def test_a_booking_waits_for_the_disk_before_it_is_answered(api, doctor):
    with CaptureQueriesContext(connection) as captured:
        assert post_booking(api, **booking(doctor)).status_code == 201

    assert not [
        query for query in captured.captured_queries if "synchronous_commit" in query["sql"]
    ]


@pytest.mark.parametrize("doctor_id", [0, -1, 2**63, 2**70])
def test_a_booking_naming_a_doctor_id_no_database_holds_is_refused_with_a_reason(
    api, doctor, doctor_id
):
    response = post_booking(api, **(booking(doctor) | {"doctor": doctor_id}))

    assert 400 <= response.status_code < 500
    assert response.json()["detail"]
