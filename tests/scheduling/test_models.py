"""Scheduling models: the validation an admin sees and the constraints behind it."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from scheduling.models import (
    AppointmentType,
    Clinic,
    Doctor,
    ExtraHours,
    TimeOff,
    WeeklyAvailability,
)
from tests.factories import make_doctor

pytestmark = pytest.mark.django_db

MONDAY, SATURDAY = 0, 5


def rule(doctor: Doctor, weekday: int, start: str, end: str) -> WeeklyAvailability:
    return WeeklyAvailability(
        doctor=doctor,
        weekday=weekday,
        start_time=dt.time.fromisoformat(start),
        end_time=dt.time.fromisoformat(end),
    )


# Weekly availability ----------------------------------------------------------------


@pytest.mark.parametrize(("start", "end"), [("12:00", "12:00"), ("12:00", "11:00")])
def test_a_weekly_rule_must_end_after_it_starts(start, end):
    doctor = make_doctor(weekdays=())

    with pytest.raises(ValidationError) as error:
        rule(doctor, MONDAY, start, end).full_clean()

    assert error.value.message_dict["end_time"] == ["The end must be after the start."]


@pytest.mark.parametrize(
    ("start", "end"),
    [("16:00", "18:00"), ("08:00", "09:30"), ("10:00", "11:00"), ("08:00", "18:00")],
)
def test_a_weekly_rule_may_not_overlap_another_on_the_same_weekday(start, end):
    doctor = make_doctor(weekdays=(MONDAY,))  # Monday 9:00-17:00

    with pytest.raises(ValidationError, match="overlaps another one on the same weekday"):
        rule(doctor, MONDAY, start, end).full_clean()


def test_another_doctor_may_work_the_same_hours():
    make_doctor(weekdays=(MONDAY,))
    colleague = make_doctor(weekdays=())

    rule(colleague, MONDAY, "09:00", "17:00").full_clean()


def test_the_same_hours_on_another_weekday_are_allowed():
    doctor = make_doctor(weekdays=(MONDAY,))

    rule(doctor, SATURDAY, "09:00", "17:00").full_clean()


@pytest.mark.parametrize(("start", "end"), [("17:00", "19:00"), ("07:00", "09:00")])
def test_a_rule_that_only_touches_another_is_allowed(start, end):
    doctor = make_doctor(weekdays=(MONDAY,))

    rule(doctor, MONDAY, start, end).full_clean()


def test_editing_a_rule_does_not_count_as_overlapping_itself():
    doctor = make_doctor(weekdays=(MONDAY,))
    existing = doctor.weekly_rules.get()
    existing.end_time = dt.time(18)

    existing.full_clean()


def test_the_database_refuses_a_weekly_rule_that_ends_before_it_starts():
    doctor = make_doctor(weekdays=())

    with pytest.raises(IntegrityError), transaction.atomic():
        rule(doctor, MONDAY, "12:00", "11:00").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        rule(doctor, MONDAY, "12:00", "12:00").save()
    assert not WeeklyAvailability.objects.filter(doctor=doctor).exists()


def test_the_database_refuses_a_weekday_beyond_sunday():
    doctor = make_doctor(weekdays=())

    with pytest.raises(IntegrityError), transaction.atomic():
        rule(doctor, 7, "09:00", "17:00").save()


# Extra hours ------------------------------------------------------------------------


def test_extra_hours_must_end_after_they_start():
    doctor = make_doctor()
    hours = ExtraHours(
        doctor=doctor, date=dt.date(2026, 3, 7), start_time=dt.time(12), end_time=dt.time(12)
    )

    with pytest.raises(ValidationError) as error:
        hours.full_clean()

    assert error.value.message_dict["end_time"] == ["The end must be after the start."]


def test_the_database_refuses_extra_hours_that_end_before_they_start():
    doctor = make_doctor()

    with pytest.raises(IntegrityError), transaction.atomic():
        ExtraHours.objects.create(
            doctor=doctor, date=dt.date(2026, 3, 7), start_time=dt.time(12), end_time=dt.time(10)
        )


# Clinic -----------------------------------------------------------------------------


def test_a_clinic_time_zone_must_be_an_iana_zone():
    clinic = Clinic(name="Olympus Mons", slug="olympus-mons", timezone="Mars/Olympus")

    with pytest.raises(ValidationError) as error:
        clinic.full_clean()

    assert "Mars/Olympus is not an IANA time zone" in error.value.message_dict["timezone"][0]


def test_a_clinic_accepts_new_york_and_uses_it_as_its_zone():
    clinic = Clinic(name="Midtown", slug="midtown", timezone="America/New_York")

    clinic.full_clean()

    assert clinic.zone == ZoneInfo("America/New_York")


def test_a_clinic_is_in_berlin_unless_told_otherwise():
    clinic = Clinic(name="Mitte", slug="mitte")

    assert clinic.zone == ZoneInfo("Europe/Berlin")


# Time off ---------------------------------------------------------------------------


def test_time_off_may_not_end_before_it_starts():
    doctor = make_doctor()
    period = TimeOff(doctor=doctor, start_date=dt.date(2026, 3, 10), end_date=dt.date(2026, 3, 9))

    with pytest.raises(ValidationError) as error:
        period.full_clean()

    assert error.value.message_dict["end_date"] == ["The end date cannot be before the start."]


@pytest.mark.parametrize("end_time", [dt.time(14), dt.time(13)])
def test_time_off_on_one_day_must_end_after_it_starts(end_time):
    doctor = make_doctor()
    period = TimeOff(
        doctor=doctor,
        start_date=dt.date(2026, 3, 9),
        end_date=dt.date(2026, 3, 9),
        start_time=dt.time(14),
        end_time=end_time,
    )

    with pytest.raises(ValidationError) as error:
        period.full_clean()

    assert error.value.message_dict["end_time"] == ["The end must be after the start."]


def test_time_off_over_two_days_may_end_earlier_in_the_day_than_it_started():
    doctor = make_doctor()
    period = TimeOff(
        doctor=doctor,
        start_date=dt.date(2026, 3, 9),
        end_date=dt.date(2026, 3, 10),
        start_time=dt.time(14),
        end_time=dt.time(10),
    )

    period.full_clean()


def test_the_database_refuses_time_off_that_ends_before_it_starts():
    doctor = make_doctor()

    with pytest.raises(IntegrityError), transaction.atomic():
        TimeOff.objects.create(
            doctor=doctor, start_date=dt.date(2026, 3, 10), end_date=dt.date(2026, 3, 9)
        )


def test_whole_days_off_run_from_the_first_midnight_to_the_midnight_after_the_last_day():
    period = TimeOff(start_date=dt.date(2026, 3, 9), end_date=dt.date(2026, 3, 10))

    assert period.local_start == dt.datetime(2026, 3, 9, 0, 0)
    assert period.local_end == dt.datetime(2026, 3, 11, 0, 0)


def test_one_whole_day_off_lasts_until_the_next_midnight():
    period = TimeOff(start_date=dt.date(2026, 3, 31), end_date=dt.date(2026, 3, 31))

    assert period.local_start == dt.datetime(2026, 3, 31, 0, 0)
    assert period.local_end == dt.datetime(2026, 4, 1, 0, 0)


def test_timed_time_off_runs_from_its_start_time_to_its_end_time():
    period = TimeOff(
        start_date=dt.date(2026, 3, 9),
        end_date=dt.date(2026, 3, 10),
        start_time=dt.time(14, 30),
        end_time=dt.time(12),
    )

    assert period.local_start == dt.datetime(2026, 3, 9, 14, 30)
    assert period.local_end == dt.datetime(2026, 3, 10, 12, 0)


def test_time_off_with_only_a_start_time_lasts_until_the_day_ends():
    period = TimeOff(
        start_date=dt.date(2026, 3, 9), end_date=dt.date(2026, 3, 9), start_time=dt.time(14)
    )

    assert period.local_start == dt.datetime(2026, 3, 9, 14, 0)
    assert period.local_end == dt.datetime(2026, 3, 10, 0, 0)


def test_time_off_with_only_an_end_time_starts_at_midnight():
    period = TimeOff(
        start_date=dt.date(2026, 3, 9), end_date=dt.date(2026, 3, 9), end_time=dt.time(12)
    )

    assert period.local_start == dt.datetime(2026, 3, 9, 0, 0)
    assert period.local_end == dt.datetime(2026, 3, 9, 12, 0)


# Appointment types ------------------------------------------------------------------


def test_an_appointment_types_step_is_its_duration_unless_set():
    doctor = make_doctor()
    visit = AppointmentType.objects.create(
        doctor=doctor, name="Visit", duration=dt.timedelta(minutes=40)
    )

    assert visit.step == dt.timedelta(minutes=40)


def test_an_appointment_types_own_step_wins_over_its_duration():
    doctor = make_doctor()
    visit = AppointmentType.objects.create(
        doctor=doctor,
        name="Visit",
        duration=dt.timedelta(minutes=40),
        slot_step=dt.timedelta(minutes=20),
    )

    assert visit.step == dt.timedelta(minutes=20)


@pytest.mark.parametrize(
    "duration",
    [dt.timedelta(0), dt.timedelta(minutes=4), dt.timedelta(hours=12, minutes=5)],
    ids=["0 min", "4 min", "12 h 5 min"],
)
def test_the_database_refuses_a_duration_outside_5_minutes_to_12_hours(duration):
    doctor = make_doctor()

    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentType.objects.create(doctor=doctor, name="Odd", duration=duration)


@pytest.mark.parametrize("duration", [dt.timedelta(minutes=5), dt.timedelta(hours=12)])
def test_the_database_accepts_durations_at_the_limits(duration):
    doctor = make_doctor()

    AppointmentType.objects.create(doctor=doctor, name="Edge", duration=duration)

    assert doctor.appointment_types.filter(duration=duration).exists()


def test_the_database_refuses_a_step_under_5_minutes():
    doctor = make_doctor()

    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentType.objects.create(
            doctor=doctor,
            name="Odd",
            duration=dt.timedelta(minutes=30),
            slot_step=dt.timedelta(minutes=1),
        )


def test_an_admin_sees_a_zero_duration_refused_before_saving():
    doctor = make_doctor()
    visit = AppointmentType(doctor=doctor, name="Nothing", duration=dt.timedelta(0))

    with pytest.raises(ValidationError):
        visit.full_clean()
