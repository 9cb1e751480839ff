"""``doctor_free_slots``: what the database holds turns into the slots patients see.

Time is frozen at Wednesday 4 March 2026, 08:00 UTC (09:00 in Berlin); the default
doctor works Monday to Friday, 9:00-17:00 Berlin time, in 30-minute consultations.
"""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from appointments.free_times import doctor_free_slots
from appointments.models import Status
from appointments.services import cancel_appointment
from scheduling.availability import Interval
from scheduling.models import AppointmentType, Doctor, ExtraHours, TimeOff
from tests.factories import (
    book,
    consultation,
    local,
    make_clinic,
    make_doctor,
    make_patient,
    make_type,
)

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 9)
TUESDAY = dt.date(2026, 3, 10)
SATURDAY = dt.date(2026, 3, 7)
BERLIN = ZoneInfo("Europe/Berlin")


def free(
    doctor: Doctor,
    first_day: dt.date = MONDAY,
    last_day: dt.date | None = None,
    appointment_type: AppointmentType | None = None,
    **kwargs: Any,
) -> list[Interval]:
    return doctor_free_slots(
        doctor=doctor,
        appointment_type=appointment_type or consultation(doctor),
        first_day=first_day,
        last_day=last_day or first_day,
        **kwargs,
    )


def local_times(slots: list[Interval], zone: ZoneInfo = BERLIN) -> list[str]:
    return [slot.start.astimezone(zone).strftime("%H:%M") for slot in slots]


def local_days_and_times(slots: list[Interval], zone: ZoneInfo = BERLIN) -> list[str]:
    return [slot.start.astimezone(zone).strftime("%a %H:%M") for slot in slots]


def test_it_offers_the_doctors_weekly_hours(frozen_now):
    doctor = make_doctor()

    slots = free(doctor)

    assert len(slots) == 16
    assert local_times(slots)[0] == "09:00"
    assert local_times(slots)[-1] == "16:30"


def test_it_offers_nothing_on_a_day_without_weekly_hours(frozen_now):
    doctor = make_doctor()

    assert free(doctor, first_day=SATURDAY) == []


def test_it_reads_the_hours_in_the_clinics_time_zone(frozen_now):
    # New York is on daylight time from 8 March: 9:00 EDT is 13:00 UTC.
    doctor = make_doctor(make_clinic(timezone="America/New_York"))

    slots = free(doctor)

    assert slots[0].start == dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.UTC)
    assert local_times(slots, ZoneInfo("America/New_York"))[0] == "09:00"


def test_it_uses_the_appointment_types_duration(frozen_now):
    doctor = make_doctor()
    long_visit = make_type(doctor, 60)

    slots = free(doctor, appointment_type=long_visit)

    assert len(slots) == 8
    assert all(slot.end - slot.start == dt.timedelta(hours=1) for slot in slots)


def test_it_uses_the_appointment_types_step(frozen_now):
    doctor = make_doctor()
    staggered = AppointmentType.objects.create(
        doctor=doctor,
        name="Check-up",
        duration=dt.timedelta(minutes=30),
        slot_step=dt.timedelta(minutes=15),
    )

    slots = free(doctor, appointment_type=staggered)

    assert local_times(slots)[:4] == ["09:00", "09:15", "09:30", "09:45"]
    assert local_times(slots)[-1] == "16:30"
    assert len(slots) == 31


def test_it_adds_extra_hours_on_a_saturday(frozen_now):
    doctor = make_doctor()
    ExtraHours.objects.create(
        doctor=doctor, date=SATURDAY, start_time=dt.time(10), end_time=dt.time(12)
    )

    assert local_times(free(doctor, first_day=SATURDAY)) == ["10:00", "10:30", "11:00", "11:30"]


def test_it_ignores_extra_hours_of_another_doctor(frozen_now):
    doctor, colleague = make_doctor(), make_doctor()
    ExtraHours.objects.create(
        doctor=colleague, date=SATURDAY, start_time=dt.time(10), end_time=dt.time(12)
    )

    assert free(doctor, first_day=SATURDAY) == []


def test_it_ignores_extra_hours_outside_the_range(frozen_now):
    doctor = make_doctor(weekdays=())
    ExtraHours.objects.create(
        doctor=doctor, date=SATURDAY, start_time=dt.time(10), end_time=dt.time(12)
    )

    assert free(doctor, first_day=MONDAY, last_day=TUESDAY) == []


def test_a_whole_day_off_removes_that_day_only(frozen_now):
    doctor = make_doctor()
    TimeOff.objects.create(doctor=doctor, start_date=MONDAY, end_date=MONDAY, reason="Congress")

    slots = free(doctor, first_day=MONDAY, last_day=TUESDAY)

    assert {slot.start.astimezone(BERLIN).date() for slot in slots} == {TUESDAY}
    assert len(slots) == 16


def test_time_off_that_began_before_the_range_and_ends_after_it_is_found(frozen_now):
    doctor = make_doctor()
    TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 3, 20)
    )

    assert free(doctor, first_day=MONDAY, last_day=TUESDAY) == []


def test_timed_time_off_spanning_days_blocks_from_its_start_to_its_end(frozen_now):
    doctor = make_doctor()
    TimeOff.objects.create(
        doctor=doctor,
        start_date=dt.date(2026, 3, 8),
        start_time=dt.time(12),
        end_date=TUESDAY,
        end_time=dt.time(12),
    )

    slots = free(doctor, first_day=MONDAY, last_day=TUESDAY)

    assert local_days_and_times(slots)[0] == "Tue 12:00"
    assert len(slots) == 10


def test_an_afternoon_off_leaves_the_morning_free(frozen_now):
    doctor = make_doctor()
    TimeOff.objects.create(
        doctor=doctor,
        start_date=MONDAY,
        end_date=MONDAY,
        start_time=dt.time(14),
        end_time=dt.time(17),
    )

    assert local_times(free(doctor))[-1] == "13:30"
    assert len(free(doctor)) == 10


def test_time_off_that_ended_before_the_range_changes_nothing(frozen_now):
    doctor = make_doctor()
    TimeOff.objects.create(doctor=doctor, start_date=dt.date(2026, 3, 5), end_date=SATURDAY)

    assert len(free(doctor)) == 16


def test_another_doctors_time_off_changes_nothing(frozen_now):
    doctor, colleague = make_doctor(), make_doctor()
    TimeOff.objects.create(doctor=colleague, start_date=MONDAY, end_date=MONDAY)

    assert len(free(doctor)) == 16


def test_a_booked_appointment_takes_its_slot(frozen_now):
    doctor = make_doctor()
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))

    times = local_times(free(doctor))

    assert "10:00" not in times
    assert "09:30" in times
    assert "10:30" in times
    assert len(times) == 15


def test_a_longer_appointment_takes_every_slot_it_covers(frozen_now):
    doctor = make_doctor()
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10), make_type(doctor, 60))

    times = local_times(free(doctor))

    assert "10:00" not in times
    assert "10:30" not in times
    assert len(times) == 14


def test_a_booked_appointment_blocks_a_slot_of_another_type_that_overlaps_it(frozen_now):
    doctor = make_doctor()
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10, 30))

    long_slots = local_times(free(doctor, appointment_type=make_type(doctor, 60)))

    assert "10:00" not in long_slots
    assert "09:00" in long_slots
    assert "11:00" in long_slots


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.NO_SHOW])
def test_a_completed_or_missed_appointment_still_took_its_time(frozen_now, status):
    doctor = make_doctor()
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    appointment.status = status
    appointment.save()

    assert "10:00" not in local_times(free(doctor))


@pytest.mark.parametrize("by_clinic", [False, True])
def test_a_cancelled_appointment_frees_its_slot(frozen_now, by_clinic):
    doctor = make_doctor()
    patient = make_patient()
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    cancel_appointment(
        appointment=appointment, cancelled_by=patient.user, reason="Ill", by_clinic=by_clinic
    )

    times = local_times(free(doctor))

    assert "10:00" in times
    assert len(times) == 16


def test_ignoring_an_appointment_frees_its_own_time(frozen_now):
    doctor = make_doctor()
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))

    times = local_times(free(doctor, ignore_appointment_id=appointment.pk))

    assert "10:00" in times
    assert len(times) == 16


def test_ignoring_one_appointment_still_counts_the_others(frozen_now):
    doctor = make_doctor()
    moving = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 11))

    times = local_times(free(doctor, ignore_appointment_id=moving.pk))

    assert "10:00" in times
    assert "11:00" not in times


def test_another_doctors_appointment_does_not_block(frozen_now):
    doctor, colleague = make_doctor(), make_doctor()
    book(make_patient(), colleague, local(colleague.clinic, 2026, 3, 9, 10))

    assert "10:00" in local_times(free(doctor))


def test_an_appointment_on_another_day_does_not_block(frozen_now):
    doctor = make_doctor()
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 10, 10))

    assert len(free(doctor)) == 16
    assert "10:00" not in local_times(free(doctor, first_day=TUESDAY))


def test_appointments_count_across_a_range_of_days(frozen_now):
    doctor = make_doctor()
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 16, 30))
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 10, 9))

    slots = local_days_and_times(free(doctor, first_day=MONDAY, last_day=TUESDAY))

    assert "Mon 16:30" not in slots
    assert "Tue 09:00" not in slots
    assert len(slots) == 30


def test_it_keeps_the_clinics_minimum_notice_from_the_frozen_now(frozen_now):
    # Now is 09:00 in Berlin on Wednesday; two hours' notice leaves 11:00 onwards.
    doctor = make_doctor()

    slots = free(doctor, first_day=dt.date(2026, 3, 4))

    assert local_times(slots)[0] == "11:00"


def test_it_measures_the_notice_from_an_explicit_now():
    doctor = make_doctor()

    slots = free(doctor, now=local(doctor.clinic, 2026, 3, 9, 10))

    assert local_times(slots)[0] == "12:00"
    assert len(slots) == 10


def test_it_offers_nothing_beyond_the_clinics_booking_horizon(frozen_now):
    doctor = make_doctor(make_clinic(booking_horizon=dt.timedelta(days=7)))

    # The horizon ends Wednesday 11 March at 09:00 Berlin time, a slot start included.
    assert len(free(doctor, first_day=dt.date(2026, 3, 10))) == 16
    assert local_times(free(doctor, first_day=dt.date(2026, 3, 11))) == ["09:00"]
    assert free(doctor, first_day=dt.date(2026, 3, 12)) == []


def test_it_keeps_local_hours_on_the_monday_after_the_clocks_change():
    doctor = make_doctor()
    now = dt.datetime(2026, 3, 20, 8, tzinfo=dt.UTC)

    before = free(doctor, first_day=dt.date(2026, 3, 23), now=now)
    after = free(doctor, first_day=dt.date(2026, 3, 30), now=now)

    assert local_times(before)[0] == local_times(after)[0] == "09:00"
    assert before[0].start.hour == 8
    assert after[0].start.hour == 7
