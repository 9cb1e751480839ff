"""Cancelling and rescheduling."""

import datetime as dt

import pytest
import time_machine

from appointments.exceptions import (
    ChangeWindowClosed,
    InvalidTransition,
    PatientOverlap,
    ReasonRequired,
    SlotUnavailable,
)
from appointments.models import Appointment, Status
from appointments.services import cancel_appointment, reschedule_appointment
from tests.factories import book, local, make_doctor, make_patient, make_type

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def doctor():
    return make_doctor()


@pytest.fixture
def patient():
    return make_patient()


def monday(doctor, hour, minute=0):
    return local(doctor.clinic, 2026, 3, 9, hour, minute)


@pytest.fixture
def appointment(doctor, patient):
    return book(patient, doctor, monday(doctor, 10))


def test_a_patient_cancels_with_a_reason(appointment, patient):
    cancelled = cancel_appointment(
        appointment=appointment, cancelled_by=patient.user, reason=" Feeling better "
    )

    cancelled.refresh_from_db()
    assert cancelled.status == Status.CANCELLED_BY_PATIENT
    assert cancelled.cancellation_reason == "Feeling better"
    assert cancelled.cancelled_at is not None
    assert cancelled.sequence == 1


def test_the_clinic_cancels(appointment):
    staff = make_patient().user

    cancelled = cancel_appointment(
        appointment=appointment, cancelled_by=staff, reason="Doctor ill", by_clinic=True
    )

    assert cancelled.status == Status.CANCELLED_BY_CLINIC


def test_cancelling_twice_changes_nothing_the_second_time(appointment, patient):
    first = cancel_appointment(appointment=appointment, cancelled_by=patient.user, reason="A")

    second = cancel_appointment(appointment=appointment, cancelled_by=patient.user, reason="B")

    assert (second.status, second.cancellation_reason, second.cancelled_at, second.sequence) == (
        first.status,
        first.cancellation_reason,
        first.cancelled_at,
        first.sequence,
    )
    assert appointment.history.count() == 2  # booked, cancelled: no third record


def test_a_patient_cannot_cancel_after_the_cutoff(appointment, patient):
    with (
        time_machine.travel(monday(appointment.doctor, 8, 30), tick=False),
        pytest.raises(ChangeWindowClosed),
    ):
        cancel_appointment(appointment=appointment, cancelled_by=patient.user)
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_the_clinic_can_cancel_after_the_cutoff(appointment):
    with time_machine.travel(monday(appointment.doctor, 9, 45), tick=False):
        cancelled = cancel_appointment(
            appointment=appointment, cancelled_by=None, reason="Doctor is ill", by_clinic=True
        )
    assert cancelled.status == Status.CANCELLED_BY_CLINIC


@pytest.mark.parametrize("reason", ["", "   "])
def test_the_clinic_must_say_why_it_cancels(appointment, reason):
    with pytest.raises(ReasonRequired):
        cancel_appointment(
            appointment=appointment, cancelled_by=None, reason=reason, by_clinic=True
        )
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_a_completed_appointment_cannot_be_cancelled(appointment, patient):
    # No service marks appointments completed yet; set it as staff pages will.
    appointment.status = Status.COMPLETED
    appointment.save()

    with pytest.raises(InvalidTransition):
        cancel_appointment(appointment=appointment, cancelled_by=patient.user)


def test_it_reschedules_to_a_free_time(appointment, patient):
    moved = reschedule_appointment(
        appointment=appointment,
        starts_at=monday(appointment.doctor, 14),
        rescheduled_by=patient.user,
    )

    moved.refresh_from_db()
    assert moved.pk == appointment.pk
    assert (moved.starts_at, moved.ends_at) == (
        monday(appointment.doctor, 14),
        monday(appointment.doctor, 14, 30),
    )
    assert moved.sequence == 1
    assert Appointment.objects.count() == 1


def test_rescheduling_frees_the_old_time(appointment, patient, doctor):
    reschedule_appointment(
        appointment=appointment, starts_at=monday(doctor, 14), rescheduled_by=patient.user
    )

    assert book(make_patient(), doctor, monday(doctor, 10)).pk


def test_rescheduling_into_a_taken_slot_changes_nothing(appointment, patient, doctor):
    book(make_patient(), doctor, monday(doctor, 14))

    with pytest.raises(SlotUnavailable):
        reschedule_appointment(
            appointment=appointment, starts_at=monday(doctor, 14), rescheduled_by=patient.user
        )

    appointment.refresh_from_db()
    assert appointment.starts_at == monday(doctor, 10)
    assert appointment.sequence == 0


def test_rescheduling_can_overlap_the_appointments_own_old_time(doctor, patient):
    check_up = make_type(doctor, 45, "Check-up")
    check_up.slot_step = dt.timedelta(minutes=15)
    check_up.save()
    appointment = book(patient, doctor, monday(doctor, 10), check_up)

    moved = reschedule_appointment(
        appointment=appointment, starts_at=monday(doctor, 10, 15), rescheduled_by=patient.user
    )

    assert moved.starts_at == monday(doctor, 10, 15)


def test_rescheduling_to_the_same_time_is_a_no_op(appointment, patient, doctor):
    again = reschedule_appointment(
        appointment=appointment, starts_at=monday(doctor, 10), rescheduled_by=patient.user
    )

    assert again.sequence == 0
    assert appointment.history.count() == 1


def test_rescheduling_outside_hours_is_refused(appointment, patient, doctor):
    with pytest.raises(SlotUnavailable):
        reschedule_appointment(
            appointment=appointment, starts_at=monday(doctor, 20), rescheduled_by=patient.user
        )


def test_rescheduling_onto_another_of_the_patients_appointments_is_refused(
    appointment, patient, doctor
):
    other_doctor = make_doctor(doctor.clinic)
    book(patient, other_doctor, monday(other_doctor, 14))

    with pytest.raises(PatientOverlap):
        reschedule_appointment(
            appointment=appointment, starts_at=monday(doctor, 14), rescheduled_by=patient.user
        )


def test_a_cancelled_appointment_cannot_be_rescheduled(appointment, patient, doctor):
    cancel_appointment(appointment=appointment, cancelled_by=patient.user)

    with pytest.raises(InvalidTransition):
        reschedule_appointment(
            appointment=appointment, starts_at=monday(doctor, 14), rescheduled_by=patient.user
        )


def test_a_patient_cannot_reschedule_after_the_cutoff(appointment, patient, doctor):
    with (
        time_machine.travel(monday(doctor, 8, 30), tick=False),
        pytest.raises(ChangeWindowClosed),
    ):
        reschedule_appointment(
            appointment=appointment, starts_at=monday(doctor, 14), rescheduled_by=patient.user
        )


def test_the_clinic_can_reschedule_after_the_cutoff(appointment, doctor):
    with time_machine.travel(monday(doctor, 8, 30), tick=False):
        moved = reschedule_appointment(
            appointment=appointment,
            starts_at=monday(doctor, 14),
            rescheduled_by=None,
            by_clinic=True,
        )
    assert moved.starts_at == monday(doctor, 14)
