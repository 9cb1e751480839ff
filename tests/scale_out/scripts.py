"""Code the replica test runs in a process of its own, configured like a deployment with
a replica (``DATABASE_URL`` the primary, ``DATABASE_REPLICA_URLS`` the replica): the
test process's own settings point at the test database. Each prints one JSON line.

    python -m tests.scale_out.scripts seed 2026-12-07T10:00:00+01:00
    python -m tests.scale_out.scripts booking_probe '{"doctor": 1, ...}'
"""

import json
import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import django


def seed(first_start: str) -> dict[str, Any]:
    """A doctor and three patients, each with an API token."""
    from tests.api.helpers import token_for
    from tests.factories import consultation, make_doctor, make_patient

    doctor = make_doctor()
    patients = [make_patient(f"replica{number}@example.com") for number in range(3)]
    return {
        "doctor": doctor.pk,
        "appointment_type": consultation(doctor).pk,
        "start": first_start,
        "patients": [patient.pk for patient in patients],
        "tokens": [token_for(patient.user) for patient in patients],
    }


def booking_probe(seeded: dict[str, Any]) -> dict[str, Any]:
    """Outside any request (no pin, as in the task worker): book, then at once book the
    same time for another patient, cancel and reschedule, counting the queries each
    service sends to a replica; and, as the control, a plain read outside a transaction
    right after the first booking (it goes to the replica, which has not applied it)."""
    import datetime as dt

    from django.conf import settings
    from django.db import connections

    from accounts.models import Patient
    from appointments.exceptions import SlotUnavailable
    from appointments.models import Appointment
    from appointments.services import (
        book_appointment,
        cancel_appointment,
        reschedule_appointment,
    )
    from scheduling.models import AppointmentType, Doctor

    replica_queries: list[str] = []

    def record(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        replica_queries.append(sql)
        return execute(sql, *args)

    doctor = Doctor.objects.get(pk=seeded["doctor"])
    kind = AppointmentType.objects.get(pk=seeded["appointment_type"])
    # Loaded here, before the services run, so that only the services' own queries count.
    first, second = (
        Patient.objects.select_related("user").get(pk=pk) for pk in seeded["patients"][1:3]
    )
    start = dt.datetime.fromisoformat(seeded["start"])
    found: dict[str, Any] = {}

    def watched(name: str, call: Callable[[], Any]) -> Any:
        before = len(replica_queries)
        with ExitStack() as stack:
            for alias in settings.DATABASE_REPLICAS:
                stack.enter_context(connections[alias].execute_wrapper(record))
            try:
                result = call()
            finally:
                found[f"{name}_replica_queries"] = len(replica_queries) - before
        return result

    booked = watched(
        "book",
        lambda: book_appointment(
            patient=first, doctor=doctor, appointment_type=kind, starts_at=start
        ),
    )
    # The control: a read outside any transaction, at once.
    found["plain_read_sees_the_booking"] = Appointment.objects.filter(pk=booked.pk).exists()
    try:
        watched(
            "book_again",
            lambda: book_appointment(
                patient=second, doctor=doctor, appointment_type=kind, starts_at=start
            ),
        )
        found["second_booking"] = "booked"
    except SlotUnavailable as error:
        found["second_booking"] = error.code
    watched(
        "reschedule",
        lambda: reschedule_appointment(
            appointment=booked, starts_at=start + dt.timedelta(hours=1), rescheduled_by=None
        ),
    )
    watched(
        "cancel",
        lambda: cancel_appointment(appointment=booked, cancelled_by=first.user),
    )
    return found


if __name__ == "__main__":
    django.setup()
    command, argument = sys.argv[1], sys.argv[2]
    if command == "seed":
        print(json.dumps(seed(argument)))
    elif command == "booking_probe":
        print(json.dumps(booking_probe(json.loads(argument))))
    else:
        sys.exit(f"unknown command {command}")
