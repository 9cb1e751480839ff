"""Many real connections race for one slot; the database lets exactly one win.

Each test starts its threads at a barrier, and each thread has its own PostgreSQL
connection, so the bookings really run at the same time. The control test removes the
lock and the exclusion constraints and widens the window between check and write: it
must see a double booking, which proves these tests could fail.
"""

import datetime as dt
import importlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from appointments import services
from appointments.exceptions import BookingError
from appointments.models import Appointment
from tests.concurrency import run_together
from tests.factories import consultation, local, make_doctor, make_patient, make_type

# The migrations that install the overlap guards, with their frozen SQL: 0002 both
# guards, 0010 the patient guard per person (a patient and each of their dependants).
OVERLAP_GUARDS = importlib.import_module("appointments.migrations.0002_overlap_guards")
PER_PERSON_GUARD = importlib.import_module("appointments.migrations.0010_appointment_dependant")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    # One worker runs every connection-hungry race (the Makefile's --dist loadgroup).
    pytest.mark.xdist_group("postgres_races"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_now"),
]

RACERS = 24


def race(attempts: list[Callable[[], object]]) -> Counter[str]:
    """Run every attempt at once, each on its own connection; count the outcomes."""

    def outcome(attempt: Callable[[], object]) -> Callable[[], str]:
        def run() -> str:
            try:
                attempt()
                return "booked"
            except BookingError as error:
                return error.code

        return run

    return Counter(run_together([outcome(attempt) for attempt in attempts]))


def book_for(patient, doctor, starts_at, appointment_type=None):
    def attempt():
        return services.book_appointment(
            patient=patient,
            doctor=doctor,
            appointment_type=appointment_type or consultation(doctor),
            starts_at=starts_at,
            booked_by=patient.user,
        )

    return attempt


@pytest.fixture
def doctor():
    return make_doctor()


@pytest.fixture
def patients():
    return [make_patient() for _ in range(RACERS)]


def monday(doctor, hour, minute=0):
    return local(doctor.clinic, 2026, 3, 9, hour, minute)


def test_racers_for_one_slot_make_exactly_one_appointment(doctor, patients):
    outcomes = race([book_for(p, doctor, monday(doctor, 10)) for p in patients])

    assert outcomes == Counter({"booked": 1, "slot_unavailable": RACERS - 1})
    assert Appointment.objects.active().filter(doctor=doctor).count() == 1


def test_racers_for_overlapping_start_times_make_exactly_one_appointment(doctor, patients):
    check_up = make_type(doctor, 45, "Check-up")
    check_up.slot_step = dt.timedelta(minutes=15)
    check_up.save()
    # 10:00, 10:15 and 10:30: any two of these 45-minute visits overlap.
    starts = [monday(doctor, 10, 15 * (n % 3)) for n in range(RACERS)]

    outcomes = race(
        [book_for(p, doctor, start, check_up) for p, start in zip(patients, starts, strict=True)]
    )

    assert outcomes["booked"] == 1
    assert Appointment.objects.active().filter(doctor=doctor).count() == 1


def test_one_patient_racing_for_many_doctors_gets_one_appointment(patients):
    clinic_doctor = make_doctor()
    doctors = [clinic_doctor] + [make_doctor(clinic_doctor.clinic) for _ in range(RACERS - 1)]
    patient = patients[0]

    outcomes = race([book_for(patient, d, monday(d, 10)) for d in doctors])

    assert outcomes == Counter({"booked": 1, "patient_overlap": RACERS - 1})


def test_two_reschedules_into_one_slot_move_exactly_one_appointment(doctor, patients):
    # Twenty patients booked at twenty different times all move to one free slot.
    movers = [
        services.book_appointment(
            patient=patient,
            doctor=doctor,
            appointment_type=consultation(doctor),
            starts_at=local(doctor.clinic, 2026, 3, 9 + n // 16, 9)
            + dt.timedelta(minutes=30 * (n % 16)),
        )
        for n, patient in enumerate(patients[:20])
    ]
    target = local(doctor.clinic, 2026, 3, 13, 16, 30)

    def move(appointment):
        return lambda: services.reschedule_appointment(
            appointment=appointment, starts_at=target, rescheduled_by=None
        )

    outcomes = race([move(appointment) for appointment in movers])

    assert outcomes == Counter({"booked": 1, "slot_unavailable": 19})
    assert Appointment.objects.active().filter(starts_at=target).count() == 1


@pytest.fixture
def without_lock_or_constraints(monkeypatch):
    """Remove both defences and widen the window between check and write."""
    check_slot = services._check_slot

    def slow_check_slot(**kwargs):
        check_slot(**kwargs)
        time.sleep(0.3)

    monkeypatch.setattr(services, "lock_patient_and_doctor", lambda **kwargs: None)
    monkeypatch.setattr(services, "_check_slot", slow_check_slot)
    with connection.schema_editor() as editor:
        OVERLAP_GUARDS.uninstall(None, editor)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            # The flush after this test removes the duplicates; reinstall the guards on
            # an empty table so the constraint can be created.
            cursor.execute(
                "TRUNCATE appointments_notification, appointments_appointment, "
                "appointments_historicalappointment"
            )
        with connection.schema_editor() as editor:
            OVERLAP_GUARDS.install(None, editor)
            # As migrated: without it the rest of this worker's tests would run against
            # 0002's per-patient guard, which refuses a parent and child seen together.
            PER_PERSON_GUARD.per_person(None, editor)


def test_control_without_lock_and_constraints_the_harness_sees_a_double_booking(
    doctor, patients, without_lock_or_constraints
):
    outcomes = race([book_for(p, doctor, monday(doctor, 10)) for p in patients])

    assert outcomes["booked"] > 1
    assert Appointment.objects.active().filter(doctor=doctor).count() > 1


def test_a_cancel_waits_in_the_lock_order_for_a_reschedule_holding_the_doctor(doctor, monkeypatch):
    # A reschedule locks patient, doctor, then the appointment. A cancel locks the doctor
    # (for the free-time version it bumps) and then the appointment: the same order, so it
    # waits for the reschedule and then goes on. Had it locked the appointment first and
    # then the doctor, each would hold what the other waits for: a deadlock.
    patient = make_patient()
    appointment = services.book_appointment(
        patient=patient,
        doctor=doctor,
        appointment_type=consultation(doctor),
        starts_at=monday(doctor, 10),
        booked_by=patient.user,
    )
    holding = threading.Event()
    take_locks = services.lock_patient_and_doctor

    def take_locks_then_pause(**ids):
        take_locks(**ids)
        holding.set()
        time.sleep(0.5)  # the cancel starts meanwhile and must wait

    monkeypatch.setattr(services, "lock_patient_and_doctor", take_locks_then_pause)

    def reschedule() -> str:
        try:
            services.reschedule_appointment(
                appointment=appointment, starts_at=monday(doctor, 11), rescheduled_by=None
            )
            return "rescheduled"
        except BookingError as error:
            return error.code
        finally:
            connections.close_all()

    def cancel() -> str:
        try:
            assert holding.wait(timeout=30)
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '5s'")
            services.cancel_appointment(appointment=appointment, cancelled_by=patient.user)
            return "cancelled"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        rescheduled, cancelled = pool.submit(reschedule), pool.submit(cancel)
        outcomes = cancelled.result(timeout=60), rescheduled.result(timeout=60)

    # The reschedule committed first; the cancel then cancelled the moved appointment.
    assert outcomes == ("cancelled", "rescheduled")
    appointment.refresh_from_db()
    assert appointment.status == "cancelled_by_patient"
    assert appointment.starts_at == monday(doctor, 11)
