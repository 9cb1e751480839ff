"""The database itself refuses overlapping appointments, whoever writes them."""

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from appointments.db_guards import DOCTOR_GUARD, PATIENT_GUARD
from appointments.models import Appointment, Status
from tests.factories import consultation, make_dependant, make_doctor, make_patient

pytestmark = pytest.mark.django_db

TEN = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)


def raw_create(doctor, patient, start, minutes=30, status=Status.BOOKED):
    """An ORM create that skips every check of the booking services."""
    return Appointment.objects.create(
        doctor=doctor,
        patient=patient,
        appointment_type=consultation(doctor),
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        status=status,
    )


def assert_refused_by(guard, write):
    with pytest.raises(IntegrityError, match=guard), transaction.atomic():
        write()


@pytest.fixture
def doctor():
    return make_doctor()


def test_a_raw_create_overlapping_the_doctors_appointment_fails(doctor):
    raw_create(doctor, make_patient(), TEN, minutes=45)

    assert_refused_by(
        DOCTOR_GUARD,
        lambda: raw_create(doctor, make_patient(), TEN + dt.timedelta(minutes=30)),
    )


def test_a_raw_create_adjacent_to_another_succeeds(doctor):
    raw_create(doctor, make_patient(), TEN)

    raw_create(doctor, make_patient(), TEN + dt.timedelta(minutes=30))

    assert Appointment.objects.count() == 2


def test_a_raw_create_over_a_cancelled_appointment_succeeds(doctor):
    raw_create(doctor, make_patient(), TEN, status=Status.CANCELLED_BY_PATIENT)

    raw_create(doctor, make_patient(), TEN)

    assert Appointment.objects.count() == 2


def test_completed_and_missed_appointments_still_hold_their_time(doctor):
    raw_create(doctor, make_patient(), TEN, status=Status.COMPLETED)
    raw_create(doctor, make_patient(), TEN + dt.timedelta(hours=1), status=Status.NO_SHOW)

    assert_refused_by(DOCTOR_GUARD, lambda: raw_create(doctor, make_patient(), TEN))
    assert_refused_by(
        DOCTOR_GUARD, lambda: raw_create(doctor, make_patient(), TEN + dt.timedelta(hours=1))
    )


def test_a_raw_create_for_a_patient_already_busy_elsewhere_fails(doctor):
    patient = make_patient()
    raw_create(doctor, patient, TEN)

    assert_refused_by(PATIENT_GUARD, lambda: raw_create(make_doctor(), patient, TEN))


def test_an_update_that_moves_into_another_appointment_fails(doctor):
    raw_create(doctor, make_patient(), TEN)
    later = raw_create(doctor, make_patient(), TEN + dt.timedelta(hours=1))

    later.starts_at, later.ends_at = TEN + dt.timedelta(minutes=15), TEN + dt.timedelta(minutes=45)
    assert_refused_by(DOCTOR_GUARD, later.save)


def test_reviving_a_cancelled_appointment_into_a_taken_slot_fails(doctor):
    cancelled = raw_create(doctor, make_patient(), TEN, status=Status.CANCELLED_BY_CLINIC)
    raw_create(doctor, make_patient(), TEN)

    cancelled.status = Status.BOOKED
    assert_refused_by(DOCTOR_GUARD, cancelled.save)


def test_a_raw_sql_insert_of_an_overlap_fails(doctor):
    first = raw_create(doctor, make_patient(), TEN)
    other_patient = make_patient()

    def insert():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO appointments_appointment (patient_id, doctor_id, "
                "appointment_type_id, starts_at, ends_at, status, reason, cancellation_reason, "
                "sequence, created_at, updated_at) "
                "VALUES (%s, %s, %s, %s, %s, 'booked', '', '', 0, %s, %s)",
                [
                    other_patient.pk,
                    doctor.pk,
                    first.appointment_type_id,
                    TEN + dt.timedelta(minutes=10),
                    TEN + dt.timedelta(minutes=40),
                    TEN,
                    TEN,
                ],
            )

    assert_refused_by(DOCTOR_GUARD, insert)
    assert Appointment.objects.count() == 1


def raw_create_for(doctor, patient, dependant, start, minutes=30):
    return Appointment.objects.create(
        doctor=doctor,
        patient=patient,
        dependant=dependant,
        appointment_type=consultation(doctor),
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
    )


def test_a_raw_create_of_two_overlapping_visits_for_the_same_child_fails(doctor):
    parent = make_patient()
    child = make_dependant(parent)
    raw_create_for(doctor, parent, child, TEN)

    assert_refused_by(
        PATIENT_GUARD,
        lambda: raw_create_for(make_doctor(), parent, child, TEN + dt.timedelta(minutes=15)),
    )


def test_a_raw_create_for_the_parent_and_the_child_at_the_same_time_succeeds(doctor):
    parent = make_patient()
    child = make_dependant(parent)
    raw_create_for(doctor, parent, None, TEN)

    raw_create_for(make_doctor(), parent, child, TEN)
    raw_create_for(make_doctor(), parent, make_dependant(parent, "Ben Wolf"), TEN)

    assert Appointment.objects.count() == 3


def test_moving_a_visit_from_the_parent_to_the_busy_child_fails(doctor):
    parent = make_patient()
    child = make_dependant(parent)
    raw_create_for(doctor, parent, child, TEN)
    parents = raw_create_for(make_doctor(), parent, None, TEN)

    parents.dependant = child
    assert_refused_by(PATIENT_GUARD, parents.save)


@pytest.mark.postgres
def test_postgresql_keeps_the_patient_guard_per_person_in_its_exclusion_constraint(doctor):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s",
            [PATIENT_GUARD],
        )
        (definition,) = cursor.fetchone()
    assert "COALESCE(dependant_id" in definition
    parent = make_patient()
    child = make_dependant(parent)
    raw_create_for(doctor, parent, child, TEN)
    raw_create_for(make_doctor(), parent, None, TEN)

    assert_refused_by(PATIENT_GUARD, lambda: raw_create_for(make_doctor(), parent, child, TEN))
