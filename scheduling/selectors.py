"""Reads of scheduling data: the database side of ``availability.free_slots``."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from appointments.models import Appointment
from scheduling.availability import (
    BookingWindow,
    DateHours,
    Interval,
    LocalPeriod,
    WeeklyHours,
    free_slots,
)
from scheduling.models import AppointmentType, Clinic, Doctor, ExtraHours, TimeOff


def booking_window(clinic: Clinic, now: dt.datetime | None = None) -> BookingWindow:
    return BookingWindow(
        now=now or timezone.now(), min_notice=clinic.min_notice, horizon=clinic.booking_horizon
    )


def local_day_bounds(
    first_day: dt.date, last_day: dt.date, zone: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants at which local date ``first_day`` starts and ``last_day`` ends."""
    start = dt.datetime.combine(first_day, dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end.astimezone(dt.UTC)


def doctor_free_slots(
    *,
    doctor: Doctor,
    appointment_type: AppointmentType,
    first_day: dt.date,
    last_day: dt.date,
    ignore_appointment_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[Interval]:
    """Bookable slots of ``appointment_type`` with ``doctor`` on the clinic's local dates
    ``first_day`` through ``last_day``. ``ignore_appointment_id`` leaves one appointment
    out of the booked time, so a reschedule can move an appointment within its own slot."""
    clinic = doctor.clinic
    zone = clinic.zone
    range_start, range_end = local_day_bounds(first_day, last_day, zone)

    weekly = [
        WeeklyHours(weekday, start, end)
        for weekday, start, end in doctor.weekly_rules.values_list(
            "weekday", "start_time", "end_time"
        )
    ]
    extra = [
        DateHours(day, start, end)
        for day, start, end in ExtraHours.objects.filter(
            doctor=doctor, date__range=(first_day, last_day)
        ).values_list("date", "start_time", "end_time")
    ]
    time_off = [
        LocalPeriod(period.local_start, period.local_end)
        for period in TimeOff.objects.filter(
            doctor=doctor, start_date__lte=last_day, end_date__gte=first_day
        )
    ]
    booked_rows = Appointment.objects.active().filter(doctor=doctor)
    if ignore_appointment_id is not None:
        booked_rows = booked_rows.exclude(pk=ignore_appointment_id)
    booked = [
        Interval(start, end)
        for start, end in booked_rows.overlapping(range_start, range_end).values_list(
            "starts_at", "ends_at"
        )
    ]

    return free_slots(
        weekly=weekly,
        extra=extra,
        time_off=time_off,
        booked=booked,
        zone=zone,
        first_day=first_day,
        last_day=last_day,
        duration=appointment_type.duration,
        step=appointment_type.step,
        window=booking_window(clinic, now),
    )
