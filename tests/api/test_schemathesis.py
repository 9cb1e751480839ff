"""schemathesis fuzzes the real API, served by ``live_server`` on 127.0.0.1, from its own
OpenAPI schema: no request may give a 5xx, and every response (status, content type,
headers, body) must be one the schema describes. Once as a patient, once as staff.

The run is bounded (a few examples per operation, a fixed seed) so that it stays within
about a minute a run on SQLite; CI runs it on both databases.
"""

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import User
from appointments.services import cancel_appointment
from scheduling.models import Clinic, Doctor, TimeOff
from tests.api.helpers import token_for
from tests.factories import (
    book,
    make_authenticator,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
    make_type,
)

pytestmark = pytest.mark.django_db(transaction=True)

ST = Path(sys.executable).with_name("st")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
)


def next_weekday(days_ahead: int, hour: int, clinic: Clinic) -> dt.datetime:
    """A weekday at ``hour`` local, at least ``days_ahead`` days from now (the server
    runs on the real clock: time cannot be frozen for another thread's requests)."""
    day = timezone.now().astimezone(clinic.zone).date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=clinic.zone)


def seed() -> tuple[User, User]:
    """A clinic with two doctors, a patient with appointments, staff with an
    authenticator; time off. Returns (patient user, staff user)."""
    clinic = make_clinic()
    first, second = make_doctor(clinic), make_doctor(clinic, specialty="Dermatology")
    make_type(first, 60, "Long consultation")
    patient = make_patient()
    book(patient, first, next_weekday(3, 10, clinic))
    book(patient, second, next_weekday(4, 11, clinic))
    cancelled = book(patient, first, next_weekday(5, 14, clinic))
    cancel_appointment(appointment=cancelled, cancelled_by=patient.user, reason="Moved away")
    staff = make_staff(clinics=(clinic,))
    make_authenticator(staff)
    today = timezone.now().date()
    TimeOff.objects.create(
        doctor=second,
        start_date=today + dt.timedelta(days=10),
        end_date=today + dt.timedelta(days=12),
        reason="Conference",
    )
    assert Doctor.objects.count() == 2
    return patient.user, staff


def schemathesis(base_url: str, token: str, *filters: str) -> subprocess.CompletedProcess[str]:
    assert base_url.startswith("http://127.0.0.1:"), base_url  # never anything else
    # The command line is ours: the local st and the live server on 127.0.0.1.
    return subprocess.run(  # noqa: S603
        [
            str(ST),
            "run",
            f"{base_url}/api/v1/schema/?format=json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            "10",
            "--seed",
            "1",
            *filters,
            "--workers",
            "4",
            "--request-timeout",
            "30",
            "--generation-database",
            "none",
            "--no-color",
            "--output-sanitize",
            "false",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def server_url(live_server, settings) -> str:
    """The live server's address as 127.0.0.1 (it listens on IPv4 "localhost")."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    return f"http://127.0.0.1:{live_server.thread.port}"


@pytest.fixture
def unthrottled(settings):
    settings.API_THROTTLE_RATES = {
        "auth_address": "100000/hour",
        "auth_email": "100000/hour",
        "writes": "100000/hour",
    }


# Logging out would revoke the token the rest of the run signs in with. The patient run
# leaves out the staff operations (each only a 403 for a patient); the staff run leaves
# out signing in and the patient's profile, which the patient run covers.
FILTERS = {
    "patient": ("--exclude-path", "/api/v1/auth/logout", "--exclude-tag", "staff"),
    "staff": ("--exclude-path-regex", "^/api/v1/(auth/|me$)"),
}


@pytest.mark.parametrize("role", ["patient", "staff"])
def test_every_response_matches_the_schema_and_none_is_a_server_error(
    server_url, unthrottled, role
):
    patient, staff = seed()
    user = patient if role == "patient" else staff

    run = schemathesis(server_url, token_for(user), *FILTERS[role])

    assert run.returncode == 0, run.stdout + run.stderr
