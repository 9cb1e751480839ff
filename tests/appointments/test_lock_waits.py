"""Lock waits are bounded: a booking that cannot take the doctor's lock in time is told
"busy, try again" (clinic.locking), on the page and in the API, never left waiting.

Another PostgreSQL connection holds the doctor's row lock, as a long-running booking or a
change of the doctor's hours would; the lock timeout is cut to 300 ms for the test.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Appointment
from clinic.api.models import IdempotencyKey
from clinic.locking import Busy
from scheduling import services as scheduling_services
from tests.api.helpers import assert_problem, booking, client_for, new_key, post_booking
from tests.factories import log_in, log_in_staff, make_doctor, make_patient, make_staff

from .test_pages import booking_key_of, booking_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_now"),
]

BUSY_MESSAGE = "Someone else is changing this at the same moment"


@pytest.fixture(autouse=True)
def short_lock_timeout(settings):
    settings.DB_LOCK_TIMEOUT_MS = 300


@contextmanager
def row_locked_elsewhere(table: str, pk: int) -> Iterator[None]:
    """Hold ``SELECT ... FOR UPDATE`` on one row from a second connection."""
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"] or None,
        host=params["HOST"],
        port=params["PORT"] or 5432,
    ) as other:
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])
        yield
        other.rollback()


@pytest.fixture
def doctor():
    return make_doctor()


def test_a_booking_page_whose_doctor_is_locked_says_busy_and_books_on_retry(client, doctor):
    log_in(client, make_patient())
    key = booking_key_of(client.get(booking_url(doctor)).text)

    with row_locked_elsewhere("scheduling_doctor", doctor.pk):
        started = time.monotonic()
        busy = client.post(booking_url(doctor), {"booking_key": key})
        waited = time.monotonic() - started

    assert busy.status_code == 409
    assert BUSY_MESSAGE in busy.text
    assert waited < 5, "the wait is bounded by the lock timeout, not endless"
    assert not Appointment.objects.exists()
    retry = client.post(booking_url(doctor), {"booking_key": key})
    assert retry.status_code == 303
    assert Appointment.objects.count() == 1


def test_an_api_booking_whose_doctor_is_locked_is_a_409_with_retry_after_and_not_stored(
    doctor,
):
    api = client_for(make_patient().user)
    key = new_key()

    with row_locked_elsewhere("scheduling_doctor", doctor.pk):
        busy = post_booking(api, key, **booking(doctor))

    assert_problem(busy, 409, "busy")
    assert busy["Retry-After"] == "1"
    # "Try again" is no answer to keep under the key: the retry runs afresh and books.
    assert not IdempotencyKey.objects.exists()
    retry = post_booking(api, key, **booking(doctor))
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry


def test_a_change_of_hours_while_the_doctor_is_locked_is_busy(doctor):
    with (
        row_locked_elsewhere("scheduling_doctor", doctor.pk),
        pytest.raises(Busy),
    ):
        scheduling_services.remove_weekly_interval(
            rule=doctor.weekly_rules.first(), changed_by=make_staff()
        )

    assert doctor.weekly_rules.count() == 5


def test_control_without_the_other_lock_the_same_booking_goes_through(client, doctor):
    log_in(client, make_patient())
    key = booking_key_of(client.get(booking_url(doctor)).text)

    response = client.post(booking_url(doctor), {"booking_key": key})

    assert response.status_code == 303


def test_a_plain_action_while_the_doctor_is_locked_answers_busy_not_500(client, doctor):
    # Removing an interval is a button with no form to show an error in: the refusal
    # gets a page of its own (clinic.middleware.DomainErrorMiddleware).
    log_in_staff(client, make_staff(clinics=(doctor.clinic,)))
    rule = doctor.weekly_rules.first()
    url = reverse("staff_appointments:interval-remove", args=[doctor.pk, rule.pk])

    with row_locked_elsewhere("scheduling_doctor", doctor.pk):
        response = client.post(url)

    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert BUSY_MESSAGE in response.text
    assert doctor.weekly_rules.filter(pk=rule.pk).exists()


def test_a_booking_bounds_both_its_lock_waits_with_one_setting(doctor):
    client = client_for(make_patient().user)

    with CaptureQueriesContext(connection) as captured:
        assert post_booking(client, **booking(doctor)).status_code == 201

    sqls = [query["sql"] for query in captured.captured_queries]
    settings_made = [n for n, sql in enumerate(sqls) if "set_config('lock_timeout'" in sql]
    locks = [n for n, sql in enumerate(sqls) if "FOR UPDATE" in sql]
    assert len(settings_made) == 1
    assert len(locks) == 2
    assert settings_made[0] < locks[0]
