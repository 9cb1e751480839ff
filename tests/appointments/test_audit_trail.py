"""Every appointment state change leaves a record: who, when, what and why."""

import pytest

from appointments.models import Appointment, Status, UnauditedWrite
from appointments.services import cancel_appointment, reschedule_appointment
from tests.factories import book, local, make_doctor, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def appointment():
    doctor = make_doctor()
    return book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))


def history_of(appointment):
    return list(
        appointment.history.order_by("history_date", "history_id").values_list(
            "history_type", "status", "history_user", "history_change_reason"
        )
    )


def test_booking_cancelling_and_rescheduling_are_each_recorded(appointment):
    patient_user = appointment.patient.user
    staff = make_patient().user
    doctor = appointment.doctor

    reschedule_appointment(
        appointment=appointment,
        starts_at=local(doctor.clinic, 2026, 3, 9, 14),
        rescheduled_by=patient_user,
    )
    cancel_appointment(
        appointment=appointment, cancelled_by=staff, reason="Doctor ill", by_clinic=True
    )

    assert history_of(appointment) == [
        ("+", Status.BOOKED, patient_user.pk, "booked"),
        (
            "~",
            Status.BOOKED,
            patient_user.pk,
            "rescheduled from 2026-03-09 10:00 CET to 2026-03-09 14:00 CET",
        ),
        ("~", Status.CANCELLED_BY_CLINIC, staff.pk, "cancelled by clinic: Doctor ill"),
    ]


def test_each_record_keeps_the_times_as_they_were(appointment):
    doctor = appointment.doctor
    reschedule_appointment(
        appointment=appointment,
        starts_at=local(doctor.clinic, 2026, 3, 9, 14),
        rescheduled_by=None,
        by_clinic=True,
    )

    first, second = appointment.history.order_by("history_id")
    assert first.starts_at == local(doctor.clinic, 2026, 3, 9, 10)
    assert second.starts_at == local(doctor.clinic, 2026, 3, 9, 14)
    assert first.history_date <= second.history_date


def test_a_patient_cancellation_names_the_patient(appointment):
    cancel_appointment(appointment=appointment, cancelled_by=appointment.patient.user)

    last = appointment.history.latest("history_id")
    assert last.history_change_reason == "cancelled by patient"
    assert last.history_user == appointment.patient.user


@pytest.mark.parametrize(
    "change",
    [
        {"status": Status.CANCELLED_BY_CLINIC},
        {"starts_at": None},
        {"ends_at": None},
        {"doctor": None},
        {"patient_id": 1},
    ],
    ids=lambda change: next(iter(change)),
)
def test_bulk_updates_of_audited_fields_are_refused(appointment, change):
    with pytest.raises(UnauditedWrite):
        Appointment.objects.filter(pk=appointment.pk).update(**change)

    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_bulk_update_of_status_is_refused(appointment):
    appointment.status = Status.NO_SHOW

    with pytest.raises(UnauditedWrite):
        Appointment.objects.bulk_update([appointment], ["status"])


def test_bulk_updates_of_other_fields_are_allowed(appointment):
    Appointment.objects.filter(pk=appointment.pk).update(reason="Typo fixed")

    appointment.refresh_from_db()
    assert appointment.reason == "Typo fixed"


def test_appointments_cannot_be_deleted(appointment):
    with pytest.raises(UnauditedWrite):
        appointment.delete()
    with pytest.raises(UnauditedWrite):
        Appointment.objects.all().delete()

    assert Appointment.objects.filter(pk=appointment.pk).exists()
