"""schemathesis fuzzes the real API, served by ``live_server`` on 127.0.0.1, from its own
OpenAPI schema: no request may give a 5xx, and every response (status, content type,
headers, body) must be one the schema describes. Once as a patient, once as staff.

The generated requests may name the seeded rows (real doctor, type, appointment, time-off
and patient ids, and free times; see ``config``), so that bookings, cancels, reschedules
and time off reach the services instead of stopping at "no such doctor".

The run is bounded (a few examples per operation, a fixed seed) so that it stays within
about a minute a run on SQLite; CI runs it on both databases.
"""

import datetime as dt
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import User
from appointments.models import Appointment
from appointments.services import cancel_appointment
from scheduling.models import AppointmentType, Clinic, TimeOff
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

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

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


@dataclass
class Seeded:
    patient: User
    staff: User
    patients: list[int]
    doctors: list[int]
    types: list[int]
    appointments: list[int]
    time_off: list[int]
    starts: list[str]


def seed() -> Seeded:
    """A clinic with two doctors, a patient with appointments, staff with an
    authenticator; time off."""
    clinic = make_clinic()
    first, second = make_doctor(clinic), make_doctor(clinic, specialty="Dermatology")
    make_type(first, 60, "Long consultation")
    patient = make_patient()
    booked = [
        book(patient, first, next_weekday(3, 10, clinic)),
        book(patient, second, next_weekday(4, 11, clinic)),
    ]
    cancelled = book(patient, first, next_weekday(5, 14, clinic))
    cancel_appointment(appointment=cancelled, cancelled_by=patient.user, reason="Moved away")
    staff = make_staff(clinics=(clinic,))
    make_authenticator(staff)
    today = timezone.now().date()
    time_off = TimeOff.objects.create(
        doctor=second,
        start_date=today + dt.timedelta(days=10),
        end_date=today + dt.timedelta(days=12),
        reason="Conference",
    )
    doctors = [first, second]
    return Seeded(
        patient=patient.user,
        staff=staff,
        patients=[patient.pk],
        doctors=[doctor.pk for doctor in doctors],
        types=list(AppointmentType.objects.filter(doctor__in=doctors).values_list("pk", flat=True)),
        appointments=[appointment.pk for appointment in [*booked, cancelled]],
        time_off=[time_off.pk],
        # Free weekday times inside the doctors' hours, as the API writes them.
        starts=[
            next_weekday(days, hour, clinic).isoformat()
            for days in (2, 6, 8)
            for hour in (9, 12, 15)
        ],
    )


def config(seeded: Seeded) -> str:
    """schemathesis.toml that lets generated requests name the seeded rows: real ids in
    the paths and in booking bodies, and free times, so that fuzzing reaches the
    services and not only validation."""

    def values(items: list[int] | list[str]) -> str:
        return json.dumps(items)

    def path_ids(regex: str, dictionary: str) -> str:
        return (
            f"[[operations]]\ninclude-path-regex = '{regex}'\n"
            f'parameters = {{ "path.id" = {{ dictionary = "{dictionary}", probability = 0.8 }} }}\n'
        )

    return "\n".join(
        [
            "[dictionaries]",
            f"patients = {{ values = {values(seeded.patients)} }}",
            f"doctors = {{ values = {values(seeded.doctors)} }}",
            f"types = {{ values = {values(seeded.types)} }}",
            f"appointments = {{ values = {values(seeded.appointments)} }}",
            f"time_off = {{ values = {values(seeded.time_off)} }}",
            f"starts = {{ values = {values(seeded.starts)} }}",
            "",
            "[parameters]",
            '"body.patient" = { dictionary = "patients", probability = 0.8 }',
            '"body.doctor" = { dictionary = "doctors", probability = 0.8 }',
            '"body.appointment_type" = { dictionary = "types", probability = 0.8 }',
            '"body.start" = { dictionary = "starts", probability = 0.8 }',
            '"query.doctor" = { dictionary = "doctors", probability = 0.5 }',
            '"query.type" = { dictionary = "types", probability = 0.5 }',
            "",
            path_ids("^/api/v1/doctors/", "doctors"),
            path_ids("^/api/v1/appointments/", "appointments"),
            path_ids("^/api/v1/time-off/", "time_off"),
        ]
    )


def schemathesis(
    base_url: str, token: str, config_file: Path, *filters: str
) -> subprocess.CompletedProcess[str]:
    assert base_url.startswith("http://127.0.0.1:"), base_url  # never anything else
    # The command line is ours: the local st and the live server on 127.0.0.1.
    return subprocess.run(  # noqa: S603
        [
            str(ST),
            "--config-file",
            str(config_file),
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
    server_url, unthrottled, role, tmp_path
):
    seeded = seed()
    user = seeded.patient if role == "patient" else seeded.staff
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config(seeded))
    seeded_changes = Appointment.history.count()

    run = schemathesis(server_url, token_for(user), config_file, *FILTERS[role])

    assert run.returncode == 0, run.stdout + run.stderr
    # The seeded ids and times took generated bookings, cancels and reschedules past
    # validation into the services.
    assert Appointment.history.count() > seeded_changes, run.stdout
