"""Marking attendance: completed or no-show, only for booked appointments that have started.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``); the appointment is on Monday
9 March at 10:00 CET."""

import datetime as dt

import pytest

from appointments.exceptions import CorrectionTooLate, InvalidTransition, NotStartedYet
from appointments.models import Appointment, Status
from appointments.services import cancel_appointment, mark_attendance
from tests.factories import book, local, make_doctor, make_patient, make_staff

pytestmark = pytest.mark.django_db

AT_THE_START = dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)  # Monday 10:00 CET


@pytest.fixture
def appointment(frozen_now):
    doctor = make_doctor()
    return book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))


@pytest.fixture
def staff(appointment):
    return make_staff(clinics=(appointment.doctor.clinic,))


def last_record(appointment):
    return appointment.history.order_by("-history_date", "-history_id").first()


def test_it_refuses_to_mark_an_appointment_that_has_not_started(appointment, staff, frozen_now):
    frozen_now.move_to(AT_THE_START - dt.timedelta(seconds=1))

    with pytest.raises(NotStartedYet):
        mark_attendance(appointment=appointment, status=Status.COMPLETED, marked_by=staff)

    assert Appointment.objects.get(pk=appointment.pk).status == Status.BOOKED


def test_it_marks_an_appointment_completed_from_its_start(appointment, staff, frozen_now):
    frozen_now.move_to(AT_THE_START)

    marked = mark_attendance(appointment=appointment, status=Status.COMPLETED, marked_by=staff)

    assert marked.status == Status.COMPLETED
    assert Appointment.objects.get(pk=appointment.pk).status == Status.COMPLETED
    record = last_record(appointment)
    assert (record.status, record.history_user, record.history_change_reason) == (
        Status.COMPLETED,
        staff,
        "marked completed",
    )


def test_it_marks_a_no_show_with_its_own_audit_reason(appointment, staff, frozen_now):
    frozen_now.move_to(AT_THE_START + dt.timedelta(hours=1))

    mark_attendance(appointment=appointment, status=Status.NO_SHOW, marked_by=staff)

    record = last_record(appointment)
    assert (record.status, record.history_change_reason) == (Status.NO_SHOW, "marked no-show")


def test_it_refuses_a_cancelled_appointment(appointment, staff, frozen_now):
    cancel_appointment(appointment=appointment, cancelled_by=staff, reason="Ill", by_clinic=True)
    frozen_now.move_to(AT_THE_START + dt.timedelta(hours=1))

    with pytest.raises(InvalidTransition):
        mark_attendance(appointment=appointment, status=Status.NO_SHOW, marked_by=staff)

    assert Appointment.objects.get(pk=appointment.pk).status == Status.CANCELLED_BY_CLINIC


# A mis-click is corrected the same day (issue 12); before, completed stayed completed.
@pytest.mark.parametrize(
    ("first", "then", "why"),
    [
        (Status.COMPLETED, Status.NO_SHOW, "corrected to no-show (was completed)"),
        (Status.NO_SHOW, Status.COMPLETED, "corrected to completed (was no-show)"),
    ],
)
def test_a_mis_click_is_corrected_the_same_day_and_audited(
    appointment, staff, frozen_now, first, then, why
):
    frozen_now.move_to(AT_THE_START + dt.timedelta(hours=1))
    mark_attendance(appointment=appointment, status=first, marked_by=staff)
    frozen_now.move_to(dt.datetime(2026, 3, 9, 22, 59, tzinfo=dt.UTC))  # 23:59 CET

    corrected = mark_attendance(appointment=appointment, status=then, marked_by=staff)

    assert corrected.status == then
    record = last_record(appointment)
    assert (record.status, record.history_user, record.history_change_reason) == (
        then,
        staff,
        why,
    )


def test_a_correction_the_next_day_is_refused(appointment, staff, frozen_now):
    frozen_now.move_to(AT_THE_START + dt.timedelta(hours=1))
    mark_attendance(appointment=appointment, status=Status.COMPLETED, marked_by=staff)
    frozen_now.move_to(dt.datetime(2026, 3, 9, 23, 0, tzinfo=dt.UTC))  # Tuesday 00:00 CET

    with pytest.raises(CorrectionTooLate):
        mark_attendance(appointment=appointment, status=Status.NO_SHOW, marked_by=staff)

    assert Appointment.objects.get(pk=appointment.pk).status == Status.COMPLETED


def test_marking_it_again_the_same_way_changes_nothing(appointment, staff, frozen_now):
    frozen_now.move_to(AT_THE_START + dt.timedelta(hours=1))
    mark_attendance(appointment=appointment, status=Status.COMPLETED, marked_by=staff)
    records = appointment.history.count()

    again = mark_attendance(appointment=appointment, status=Status.COMPLETED, marked_by=staff)

    assert again.status == Status.COMPLETED
    assert appointment.history.count() == records


def test_it_accepts_only_completed_or_no_show(appointment, staff, frozen_now):
    frozen_now.move_to(AT_THE_START + dt.timedelta(hours=1))

    with pytest.raises(ValueError, match="COMPLETED or NO_SHOW"):
        mark_attendance(appointment=appointment, status=Status.CANCELLED_BY_CLINIC, marked_by=staff)

    assert Appointment.objects.get(pk=appointment.pk).status == Status.BOOKED
