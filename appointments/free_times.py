"""Free times: a doctor's hours minus their bookings, the database side of
``scheduling.availability.free_slots``.

What patients are shown and what the booking services re-check under their locks is
the same function over the same rows, so a time shown free can be booked unless someone
booked it since. Also the reverse question, for staff: which bookings a change of hours
left outside them (``availability_conflicts``).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import prefetch_related_objects
from django.utils import timezone

from appointments.models import Appointment, Status
from scheduling.availability import (
    DoctorHours,
    Interval,
    free_slots,
    periods_to_utc,
    working_intervals,
)
from scheduling.models import AppointmentType, Clinic, Doctor
from scheduling.selectors import (
    active_types,
    active_types_prefetch,
    booking_window,
    doctor_hours,
    load_hours,
    local_day_bounds,
    local_today,
    monday_of,
)

WEEK = dt.timedelta(days=7)

# Appointment types last at most 12 hours (a check constraint on AppointmentType), so an
# appointment that overlaps a range starts less than that before it. Saying so lets the
# database walk the starts_at index from there instead of from the first appointment.
LONGEST_APPOINTMENT = dt.timedelta(hours=12)


def booked_intervals(
    *,
    doctor_ids: list[int],
    start: dt.datetime,
    end: dt.datetime,
    ignore_appointment_id: int | None = None,
) -> dict[int, list[Interval]]:
    """The active appointments of the doctors that overlap [start, end), by doctor id.
    ``ignore_appointment_id`` leaves one out (a reschedule may move within its own time)."""
    rows = Appointment.objects.active().filter(
        doctor_id__in=doctor_ids, starts_at__gt=start - LONGEST_APPOINTMENT
    )
    if ignore_appointment_id is not None:
        rows = rows.exclude(pk=ignore_appointment_id)
    booked: dict[int, list[Interval]] = defaultdict(list)
    for doctor_id, starts_at, ends_at in rows.overlapping(start, end).values_list(
        "doctor_id", "starts_at", "ends_at"
    ):
        booked[doctor_id].append(Interval(starts_at, ends_at))
    return booked


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
    hours = doctor_hours(doctor, first_day, last_day)
    booked = booked_intervals(
        doctor_ids=[doctor.pk],
        start=range_start,
        end=range_end,
        ignore_appointment_id=ignore_appointment_id,
    )[doctor.pk]
    return free_slots(
        weekly=hours.weekly,
        extra=hours.extra,
        time_off=hours.time_off,
        booked=booked,
        zone=zone,
        first_day=first_day,
        last_day=last_day,
        duration=appointment_type.duration,
        step=appointment_type.step,
        window=booking_window(clinic, now),
    )


def grid_free_slots(
    *,
    doctors: Sequence[Doctor],
    hours: dict[int, DoctorHours],
    booked: dict[int, list[Interval]],
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime | None = None,
) -> dict[int, list[Interval]]:
    """The free slots of each doctor's default (first active) type on the local dates
    ``first_day`` through ``last_day``, by doctor id, from hours and bookings the caller
    has loaded (``load_hours``, and the active appointments of those dates): the staff
    calendar's free times, in no query of its own. The doctors need their clinic and
    ``active_types`` prefetched."""
    found: dict[int, list[Interval]] = {}
    for doctor in doctors:
        types = active_types(doctor)
        if not types or not doctor.is_active:
            found[doctor.pk] = []
            continue
        doctor_hours_ = hours[doctor.pk]
        found[doctor.pk] = free_slots(
            weekly=doctor_hours_.weekly,
            extra=doctor_hours_.extra,
            time_off=doctor_hours_.time_off,
            booked=booked.get(doctor.pk, []),
            zone=doctor.clinic.zone,
            first_day=first_day,
            last_day=last_day,
            duration=types[0].duration,
            step=types[0].step,
            window=booking_window(doctor.clinic, now),
        )
    return found


# --- A week of free times: the doctor page, rescheduling, booking by phone ----------------


@dataclass(frozen=True, slots=True)
class DaySlots:
    """The free slots of one local date, for the slot picker."""

    date: dt.date
    slots: list[Interval]


@dataclass(frozen=True, slots=True)
class FreeWeek:
    """One week (Monday to Sunday, the clinic's local dates) of free slots, with the
    neighbouring weeks that can hold bookable times (``None`` where none can)."""

    week_start: dt.date
    days: list[DaySlots]
    previous_week: dt.date | None
    next_week: dt.date | None
    # Which zone the times are in, with the week's abbreviations: "Berlin time (CET)".
    zone_note: str

    @property
    def week_end(self) -> dt.date:
        return self.week_start + dt.timedelta(days=6)

    @property
    def has_free_slots(self) -> bool:
        return any(day.slots for day in self.days)


def bookable_weeks(clinic: Clinic, now: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The Mondays (the clinic's local dates) of the first and the last week that can hold
    a bookable time: the weeks of the earliest and the latest start the window allows."""
    window = booking_window(clinic, now)
    zone = clinic.zone
    return (
        monday_of(window.earliest.astimezone(zone).date()),
        monday_of(window.latest.astimezone(zone).date()),
    )


def free_week(
    *,
    doctor: Doctor,
    appointment_type: AppointmentType,
    day: dt.date | None = None,
    ignore_appointment_id: int | None = None,
) -> FreeWeek:
    """The week containing the clinic-local date ``day`` (default today), moved into the
    booking window: a week before the first or after the last bookable day shows the
    nearest one."""
    first_week, last_week = bookable_weeks(doctor.clinic)
    requested = monday_of(day or local_today(doctor.clinic))
    week_start = min(max(requested, first_week), last_week)
    days = [week_start + dt.timedelta(days=offset) for offset in range(7)]
    slots = doctor_free_slots(
        doctor=doctor,
        appointment_type=appointment_type,
        first_day=days[0],
        last_day=days[-1],
        ignore_appointment_id=ignore_appointment_id,
    )
    by_day: dict[dt.date, list[Interval]] = {each: [] for each in days}
    zone = doctor.clinic.zone
    for slot in slots:
        by_day[slot.start.astimezone(zone).date()].append(slot)
    return FreeWeek(
        week_start=week_start,
        days=[DaySlots(each, by_day[each]) for each in days],
        previous_week=week_start - WEEK if week_start > first_week else None,
        next_week=week_start + WEEK if week_start < last_week else None,
        zone_note=zone_note(zone, week_start),
    )


def zone_note(zone: ZoneInfo, week_start: dt.date) -> str:
    """'Berlin time (CET)'; in a week with a clock change, 'Berlin time (CET, and CEST
    from Sunday 29 March)'."""
    place = str(zone).rsplit("/", 1)[-1].replace("_", " ")
    names: list[str] = []
    previous = ""
    for offset in range(7):
        day = week_start + dt.timedelta(days=offset)
        # Noon: clocks change at night, so noon has the abbreviation of the day.
        name = dt.datetime.combine(day, dt.time(12), tzinfo=zone).tzname() or ""
        if not names:
            names.append(name)
        elif name != previous:
            names.append(f"{name} from {day:%A} {day.day} {day:%B}")
        previous = name
    return f"{place} time ({', and '.join(names)})"


# --- Each doctor's next free time, for the lists -----------------------------------------


def next_free_slots(
    doctors: Sequence[Doctor], days: int = 14, *, now: dt.datetime | None = None
) -> dict[int, Interval | None]:
    """The first free slot of each doctor's first active appointment type on the clinic's
    next ``days`` local dates (today included), by doctor id; None when there is none.

    Equal to ``doctor_free_slots(...)[0]`` for every doctor, in a number of queries that
    does not grow with the number of doctors: three for the hours of all of them
    (``load_hours``), and at most five for their appointments (see below); one more for
    the clinics and one for the types when they were not loaded with the doctors, as
    ``bookable_doctors`` does."""
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
    first_days = {pk: local_today(doctor.clinic, now) for pk, doctor in pending.items()}
    earliest = min(first_days.values())
    last_day = max(first_days.values()) + dt.timedelta(days=days - 1)
    hours = load_hours(pending, earliest, last_day)

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
                hours=hours[pk],
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


def first_free_slot(
    *,
    hours: DoctorHours,
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
            weekly=hours.weekly,
            extra=hours.extra,
            time_off=hours.time_off,
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


# --- Staff: what a change of hours leaves uncovered -------------------------------------


def availability_conflicts(doctor: Doctor, now: dt.datetime) -> list[Appointment]:
    """The doctor's booked appointments from ``now`` to the end of the booking horizon
    that lie outside the doctor's hours: not inside one working interval (weekly or
    extra hours), or overlapping time off. Changing hours never cancels appointments;
    staff resolve these one by one."""
    clinic = doctor.clinic
    last_day = (now + clinic.booking_horizon).astimezone(clinic.zone).date()
    return conflicts_of(clinic=clinic, doctors=[doctor], now=now, last_day=last_day)


def conflicts_of(
    *, clinic: Clinic, doctors: Sequence[Doctor], now: dt.datetime, last_day: dt.date
) -> list[Appointment]:
    """``availability_conflicts`` of several doctors of ``clinic``, up to the local date
    ``last_day``: five queries however many doctors (hours, appointments)."""
    zone = clinic.zone
    first_day = local_today(clinic, now)
    range_start, range_end = local_day_bounds(first_day, last_day, zone)
    appointments = list(
        Appointment.objects.filter(
            doctor__in=[doctor.pk for doctor in doctors], status=Status.BOOKED, starts_at__gt=now
        )
        .overlapping(range_start, range_end)
        .select_related("patient__user", "appointment_type", "doctor__clinic")
        .order_by("starts_at", "pk")
    )
    if not appointments:
        return []
    hours = load_hours([doctor.pk for doctor in doctors], first_day, last_day)
    outside: dict[int, tuple[list[Interval], list[Interval]]] = {}
    for doctor_id, doctor_hours_ in hours.items():
        outside[doctor_id] = (
            working_intervals(
                weekly=doctor_hours_.weekly,
                extra=doctor_hours_.extra,
                zone=zone,
                first_day=first_day,
                last_day=last_day,
            ),
            periods_to_utc(doctor_hours_.time_off, zone),
        )
    conflicts = []
    for appointment in appointments:
        working, time_off = outside[appointment.doctor_id]
        booked = Interval(appointment.starts_at, appointment.ends_at)
        covered = any(each.start <= booked.start and booked.end <= each.end for each in working)
        if not covered or any(booked.overlaps(period) for period in time_off):
            conflicts.append(appointment)
    return conflicts
