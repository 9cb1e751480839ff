"""Reads of scheduling data: the database side of ``availability.free_slots``."""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from appointments.models import Appointment, Status
from scheduling.availability import (
    BookingWindow,
    DateHours,
    Interval,
    LocalPeriod,
    WeeklyHours,
    free_slots,
    periods_to_utc,
    working_intervals,
)
from scheduling.models import (
    AppointmentType,
    Clinic,
    Doctor,
    ExtraHours,
    TimeOff,
    WeeklyAvailability,
)


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


@dataclass(frozen=True, slots=True)
class DaySlots:
    """The free slots of one local date, for the slot picker."""

    date: dt.date
    slots: list[Interval]


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_of_slots(
    *,
    doctor: Doctor,
    appointment_type: AppointmentType,
    week_start: dt.date,
    ignore_appointment_id: int | None = None,
) -> list[DaySlots]:
    """Seven days from ``week_start`` (the clinic's local dates), each with its free slots."""
    days = [week_start + dt.timedelta(days=offset) for offset in range(7)]
    slots = doctor_free_slots(
        doctor=doctor,
        appointment_type=appointment_type,
        first_day=days[0],
        last_day=days[-1],
        ignore_appointment_id=ignore_appointment_id,
    )
    by_day: dict[dt.date, list[Interval]] = {day: [] for day in days}
    zone = doctor.clinic.zone
    for slot in slots:
        by_day[slot.start.astimezone(zone).date()].append(slot)
    return [DaySlots(day, by_day[day]) for day in days]


# --- Finding a doctor -------------------------------------------------------------------


def active_types_prefetch() -> "Prefetch[str, QuerySet[AppointmentType], str]":
    return Prefetch(
        "appointment_types",
        queryset=AppointmentType.objects.filter(is_active=True),
        to_attr="active_types",
    )


def bookable_doctors() -> QuerySet[Doctor]:
    """Active doctors with their clinic and their active appointment types (in
    ``AppointmentType`` order: shortest first), in two queries however many there are."""
    return (
        Doctor.objects.filter(is_active=True)
        .select_related("clinic")
        .prefetch_related(active_types_prefetch())
    )


def active_types(doctor: Doctor) -> list[AppointmentType]:
    """The doctor's active appointment types; the first is the one offered by default."""
    prefetched: list[AppointmentType] | None = getattr(doctor, "active_types", None)
    if prefetched is None:
        return list(doctor.appointment_types.filter(is_active=True))
    return prefetched


def find_doctors(*, name: str = "", specialty: str = "", clinic_slug: str = "") -> QuerySet[Doctor]:
    """Bookable doctors whose name contains ``name``, of ``specialty``, in the clinic
    ``clinic_slug``; an empty argument does not filter."""
    doctors = bookable_doctors()
    if name:
        doctors = doctors.filter(name__icontains=name)
    if specialty:
        doctors = doctors.filter(specialty=specialty)
    if clinic_slug:
        doctors = doctors.filter(clinic__slug=clinic_slug)
    return doctors.order_by("name", "pk")


def specialties() -> list[str]:
    """The specialties of active doctors, for the search form."""
    return list(
        Doctor.objects.filter(is_active=True)
        .exclude(specialty="")
        .order_by("specialty")
        .values_list("specialty", flat=True)
        .distinct()
    )


def next_free_slots(
    doctors: Sequence[Doctor], days: int = 14, *, now: dt.datetime | None = None
) -> dict[int, Interval | None]:
    """The first free slot of each doctor's first active appointment type on the clinic's
    next ``days`` local dates (today included), by doctor id; None when there is none.

    Equal to ``doctor_free_slots(...)[0]`` for every doctor, in a number of queries that
    does not grow with the number of doctors: one each for the weekly hours, extra hours
    and time off of all of them, and at most five for their appointments (see below);
    one more for the clinics and one for the types when they were not loaded with the
    doctors, as ``bookable_doctors`` does."""
    now = now or timezone.now()
    doctors = list(doctors)
    prefetch_related_objects(doctors, "clinic")  # no query when select_related
    untyped = [doctor for doctor in doctors if not hasattr(doctor, "active_types")]
    if untyped:
        prefetch_related_objects(untyped, active_types_prefetch())
    found: dict[int, Interval | None] = {doctor.pk: None for doctor in doctors}
    pending = {doctor.pk: doctor for doctor in doctors if active_types(doctor)}
    if not pending or days < 1:
        return found

    # Each clinic has its own "today".
    first_days = {pk: now.astimezone(doctor.clinic.zone).date() for pk, doctor in pending.items()}
    earliest = min(first_days.values())
    last_day = max(first_days.values()) + dt.timedelta(days=days - 1)
    ids = list(pending)
    weekly: dict[int, list[WeeklyHours]] = defaultdict(list)
    for doctor_id, weekday, start, end in WeeklyAvailability.objects.filter(
        doctor_id__in=ids
    ).values_list("doctor_id", "weekday", "start_time", "end_time"):
        weekly[doctor_id].append(WeeklyHours(weekday, start, end))
    extra: dict[int, list[DateHours]] = defaultdict(list)
    for doctor_id, day, start, end in ExtraHours.objects.filter(
        doctor_id__in=ids, date__range=(earliest, last_day)
    ).values_list("doctor_id", "date", "start_time", "end_time"):
        extra[doctor_id].append(DateHours(day, start, end))
    time_off: dict[int, list[LocalPeriod]] = defaultdict(list)
    for period in TimeOff.objects.filter(
        doctor_id__in=ids, start_date__lte=last_day, end_date__gte=earliest
    ):
        time_off[period.doctor_id].append(LocalPeriod(period.local_start, period.local_end))

    # Appointments are most of the rows, and on SQLite turning their text into datetimes
    # is most of the time: a busy fortnight of fifty doctors is ~3,000 rows, ~15 ms. So
    # they are read in windows of 1, 2, 4, 8... days, each for the doctors still without
    # a free slot: most doctors have one within a day or two. A slot of one local date
    # never starts before one of an earlier date, so the first found is the first.
    offset, span = 0, 1
    while pending and offset < days:
        span = min(span, days - offset)
        bounds = {
            pk: local_day_bounds(
                first_days[pk] + dt.timedelta(days=offset),
                first_days[pk] + dt.timedelta(days=offset + span - 1),
                doctor.clinic.zone,
            )
            for pk, doctor in pending.items()
        }
        booked = booked_intervals(
            doctor_ids=list(pending),
            start=min(start for start, _ in bounds.values()),
            end=max(end for _, end in bounds.values()),
        )
        for pk, doctor in list(pending.items()):
            slot = first_free_slot(
                weekly=weekly[pk],
                extra=extra[pk],
                time_off=time_off[pk],
                booked=booked[pk],
                clinic=doctor.clinic,
                appointment_type=active_types(doctor)[0],
                first_day=first_days[pk] + dt.timedelta(days=offset),
                days=span,
                now=now,
            )
            if slot is not None:
                found[pk] = slot
                del pending[pk]
        offset, span = offset + span, span * 2
    return found


# Appointment types last at most 12 hours (a check constraint on AppointmentType), so an
# appointment that overlaps a range starts less than that before it. Saying so lets the
# database walk the starts_at index from there instead of from the first appointment.
LONGEST_APPOINTMENT = dt.timedelta(hours=12)


def booked_intervals(
    *, doctor_ids: list[int], start: dt.datetime, end: dt.datetime
) -> dict[int, list[Interval]]:
    """The active appointments of the doctors that overlap [start, end), by doctor id."""
    booked: dict[int, list[Interval]] = defaultdict(list)
    for doctor_id, starts_at, ends_at in (
        Appointment.objects.active()
        .filter(doctor_id__in=doctor_ids, starts_at__gt=start - LONGEST_APPOINTMENT)
        .overlapping(start, end)
        .values_list("doctor_id", "starts_at", "ends_at")
    ):
        booked[doctor_id].append(Interval(starts_at, ends_at))
    return booked


def first_free_slot(
    *,
    weekly: list[WeeklyHours],
    extra: list[DateHours],
    time_off: list[LocalPeriod],
    booked: list[Interval],
    clinic: Clinic,
    appointment_type: AppointmentType,
    first_day: dt.date,
    days: int,
    now: dt.datetime,
) -> Interval | None:
    """The first free slot on local dates ``first_day`` and the ``days - 1`` after it;
    ``booked`` must hold the appointments of those dates."""
    # Day by day, stopping at the first day with a slot: laying out every slot of a
    # fortnight to keep only the first would cost more than the queries do.
    window = booking_window(clinic, now)
    zone = clinic.zone
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        day_start, day_end = local_day_bounds(day, day, zone)
        slots = free_slots(
            weekly=weekly,
            extra=extra,
            time_off=time_off,
            # Only that day's appointments: free_slots sorts what it is given.
            booked=[b for b in booked if b.start < day_end and b.end > day_start],
            zone=zone,
            first_day=day,
            last_day=day,
            duration=appointment_type.duration,
            step=appointment_type.step,
            window=window,
        )
        if slots:
            return slots[0]
    return None


def booking_weeks(clinic: Clinic, now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The Mondays (the clinic's local dates) of the first and the last week in which
    patients can book: this week, and the week the booking horizon ends in."""
    window = booking_window(clinic, now)
    zone = clinic.zone
    return (
        monday_of(window.now.astimezone(zone).date()),
        monday_of(window.latest.astimezone(zone).date()),
    )


# --- Staff: what a change of hours leaves uncovered -------------------------------------


def availability_conflicts(doctor: Doctor, now: dt.datetime) -> list[Appointment]:
    """The doctor's booked appointments from ``now`` to the end of the booking horizon
    that lie outside the doctor's hours: not inside one working interval (weekly or
    extra hours), or overlapping time off. Changing hours never cancels appointments;
    staff resolve these one by one."""
    clinic = doctor.clinic
    zone = clinic.zone
    first_day = now.astimezone(zone).date()
    last_day = (now + clinic.booking_horizon).astimezone(zone).date()
    range_start, range_end = local_day_bounds(first_day, last_day, zone)
    appointments = list(
        Appointment.objects.filter(doctor=doctor, status=Status.BOOKED, starts_at__gt=now)
        .overlapping(range_start, range_end)
        .order_by("starts_at", "pk")
    )
    if not appointments:
        return []
    working = working_intervals(
        weekly=[
            WeeklyHours(weekday, start, end)
            for weekday, start, end in doctor.weekly_rules.values_list(
                "weekday", "start_time", "end_time"
            )
        ],
        extra=[
            DateHours(day, start, end)
            for day, start, end in ExtraHours.objects.filter(
                doctor=doctor, date__range=(first_day, last_day)
            ).values_list("date", "start_time", "end_time")
        ],
        zone=zone,
        first_day=first_day,
        last_day=last_day,
    )
    time_off = periods_to_utc(
        [
            LocalPeriod(period.local_start, period.local_end)
            for period in TimeOff.objects.filter(
                doctor=doctor, start_date__lte=last_day, end_date__gte=first_day
            )
        ],
        zone,
    )
    conflicts = []
    for appointment in appointments:
        booked = Interval(appointment.starts_at, appointment.ends_at)
        covered = any(hours.start <= booked.start and booked.end <= hours.end for hours in working)
        if not covered or any(booked.overlaps(period) for period in time_off):
            conflicts.append(appointment)
    return conflicts
