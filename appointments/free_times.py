"""Free times: a doctor's hours minus their bookings, the database side of
``scheduling.availability.free_slots``.

What patients are shown and what the booking services re-check under their locks is
the same function over the same rows, so a time shown free can be booked unless someone
booked it since. Also the reverse question, for staff: which bookings a change of hours
left outside them (``availability_conflicts``).

What is shown (``shown_free_slots`` and ``shown_free_slots_of``, ``free_week``,
``next_free_slots``, and through them the search across doctors) comes through the
shared cache (docs/performance.md). An entry is keyed by the doctor's
``availability_version``, which every change of bookings or hours bumps in its own
transaction, and is read from the doctor's row on each request: after a commit the next
request, anyone's, builds a new key and never sees the old entry (read-your-writes
without invalidation). An entry holds the slots of whole local dates laid out without
the booking window; the window (which moves with the clock) is applied when the entry is
read, so the entry never goes stale by itself. The booking services never read the cache:
``doctor_free_slots`` goes to the database, under their locks.
"""

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db.models import prefetch_related_objects
from django.utils import formats, timezone
from django.utils.translation import gettext

from appointments.models import Appointment, Status
from clinic.answers import earliest, next_date_change
from scheduling.availability import (
    BookingWindow,
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
# How long a cached entry lives. Correctness does not depend on it (the version does);
# it only bounds how long entries of old versions and past dates take room.
FREE_TIMES_CACHE_SECONDS = 60 * 60

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


def shown_free_slots(
    *,
    doctor: Doctor,
    appointment_type: AppointmentType,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime | None = None,
) -> list[Interval]:
    """``doctor_free_slots`` for showing (pages, API), through the cache: equal to it,
    in no query when the entry is there. Never for deciding a booking."""
    return shown_free_slots_until(
        doctor=doctor,
        appointment_type=appointment_type,
        first_day=first_day,
        last_day=last_day,
        now=now,
    )[0]


def shown_free_slots_until(
    *,
    doctor: Doctor,
    appointment_type: AppointmentType,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime | None = None,
) -> tuple[list[Interval], dt.datetime | None]:
    """``shown_free_slots``, and the first moment at which the clock alone changes them
    (``changes_at``; None: never within these dates), for answers kept whole
    (clinic/answers.py)."""
    wanted = {doctor.pk: ShownRange(doctor, appointment_type, first_day, last_day)}
    reader = ShownFreeSlots(now=now)
    found = reader.slots(wanted)
    reader.save()
    return found[doctor.pk], reader.changes_at[doctor.pk]


@dataclass(frozen=True, slots=True)
class ShownRange:
    """What ``shown_free_slots_of`` is asked for one doctor: the free times of
    ``appointment_type`` on the clinic's local dates ``first_day`` through ``last_day``."""

    doctor: Doctor
    appointment_type: AppointmentType
    first_day: dt.date
    last_day: dt.date


HoursLoader = Callable[[list[int], dt.date, dt.date], dict[int, DoctorHours]]


def shown_free_slots_of(
    wanted: Mapping[int, ShownRange],
    *,
    now: dt.datetime | None = None,
    hours_of: HoursLoader = load_hours,
) -> dict[int, list[Interval]]:
    """``shown_free_slots`` of many doctors at once, by doctor id: one ``get_many`` for all
    the entries, and for the missing ones the hours (``hours_of``: ``load_hours``, three
    queries), their appointments (one query) and one ``set_many``, however many doctors.
    The doctors need their clinic loaded. Never for deciding a booking."""
    reader = ShownFreeSlots(now=now, hours_of=hours_of)
    found = reader.slots(wanted)
    reader.save()
    return found


class ShownFreeSlots:
    """Free times for showing, through the cache, in several batches of one request (the
    search's widening windows): ``slots`` reads a batch's entries in one ``get_many`` and
    lays out the missing ones; ``save`` writes every entry made in one ``set_many``."""

    def __init__(self, *, now: dt.datetime | None = None, hours_of: HoursLoader = load_hours):
        self.now = now or timezone.now()
        self.hours_of = hours_of
        self.made: dict[str, list[int]] = {}
        # By doctor id, for the last ``slots``: when the clock alone changes what is shown.
        self.changes_at: dict[int, dt.datetime | None] = {}

    def slots(self, wanted: Mapping[int, ShownRange]) -> dict[int, list[Interval]]:
        keys = {
            pk: _cache_key(
                "free", each.doctor, each.appointment_type, each.first_day, each.last_day
            )
            for pk, each in wanted.items()
        }
        cached: dict[str, list[int]] = cache.get_many(list(keys.values())) if keys else {}
        starts = {pk: cached[key] for pk, key in keys.items() if key in cached}
        missing = {pk: each for pk, each in wanted.items() if pk not in starts}
        if missing:
            for pk, slots in _unwindowed_free_slots(missing, self.hours_of).items():
                starts[pk] = self.made[keys[pk]] = _encode(slots)
        found = {}
        for pk, each in wanted.items():
            window = booking_window(each.doctor.clinic, self.now)
            found[pk] = _decode(starts[pk], each.appointment_type.duration, window)
            self.changes_at[pk] = _changes_at(starts[pk], window)
        return found

    def save(self) -> None:
        if self.made:
            cache.set_many(self.made, FREE_TIMES_CACHE_SECONDS)
            self.made = {}


def _cache_key(kind: str, doctor: Doctor, appointment_type: AppointmentType, *days: object) -> str:
    # Everything the unwindowed slots depend on: the version (bookings, hours, time off),
    # the type's length and step, the clinic's zone, the dates.
    step = appointment_type.step
    return ":".join(
        str(part)
        for part in (
            kind,
            doctor.pk,
            doctor.availability_version,
            appointment_type.pk,
            int(appointment_type.duration.total_seconds()),
            int(step.total_seconds()),
            doctor.clinic.zone,
            *days,
        )
    )


def _open_window(first_day: dt.date, last_day: dt.date, zone: ZoneInfo) -> BookingWindow:
    """A window that lets every slot of those local dates through."""
    start, end = local_day_bounds(first_day, last_day, zone)
    return BookingWindow(now=start, min_notice=dt.timedelta(0), horizon=end - start)


def _unwindowed_free_slots(
    wanted: Mapping[int, ShownRange], hours_of: HoursLoader
) -> dict[int, list[Interval]]:
    first_day = min(each.first_day for each in wanted.values())
    last_day = max(each.last_day for each in wanted.values())
    hours = hours_of(list(wanted), first_day, last_day)
    bounds = {
        pk: local_day_bounds(each.first_day, each.last_day, each.doctor.clinic.zone)
        for pk, each in wanted.items()
    }
    booked = booked_intervals(
        doctor_ids=list(wanted),
        start=min(start for start, _ in bounds.values()),
        end=max(end for _, end in bounds.values()),
    )
    found = {}
    for pk, each in wanted.items():
        zone = each.doctor.clinic.zone
        start, end = bounds[pk]
        found[pk] = free_slots(
            weekly=hours[pk].weekly,
            extra=hours[pk].extra,
            time_off=hours[pk].time_off,
            # Only the doctor's appointments of these dates: free_slots sorts them.
            booked=[b for b in booked.get(pk, []) if b.start < end and b.end > start],
            zone=zone,
            first_day=each.first_day,
            last_day=each.last_day,
            duration=each.appointment_type.duration,
            step=each.appointment_type.step,
            window=_open_window(each.first_day, each.last_day, zone),
        )
    return found


def _encode(slots: Sequence[Interval]) -> list[int]:
    # Every slot of one type lasts the type's duration: the starts say it all, and a list
    # of integers is small in the cache and quick to unpickle.
    return [int(slot.start.timestamp()) for slot in slots]


def _decode(starts: Sequence[int], duration: dt.timedelta, window: BookingWindow) -> list[Interval]:
    earliest, latest = window.earliest.timestamp(), window.latest.timestamp()
    slots = []
    for start in starts:
        if earliest <= start <= latest:
            at = dt.datetime.fromtimestamp(start, dt.UTC)
            slots.append(Interval(at, at + duration))
    return slots


def _changes_at(starts: Sequence[int], window: BookingWindow) -> dt.datetime | None:
    """When the clock alone changes which of ``starts`` (unwindowed) the window lets
    through: the first one shown comes within the minimum notice, or the horizon reaches
    the first one beyond it (those already too soon never come back). Until then, as
    the clock moves, ``_decode`` gives the same slots."""
    earliest, latest = window.earliest.timestamp(), window.latest.timestamp()
    moments = []
    shown = [start for start in starts if earliest <= start <= latest]
    if shown:
        moments.append(min(shown) - window.min_notice.total_seconds())
    beyond = [start for start in starts if start > latest]
    if beyond:
        moments.append(min(beyond) - window.horizon.total_seconds())
    return dt.datetime.fromtimestamp(min(moments), dt.UTC) if moments else None


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
    # Before today on the clinic's wall clock: shown as "past", not as "no free times".
    is_past: bool = False


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
    # When the clock alone changes this week (a time too soon, or the horizon reaching
    # one, "today" or the bookable weeks moving on): how long a page showing it may be
    # kept whole (clinic/answers.py). None for a reschedule's own week (not kept).
    changes_at: dt.datetime | None = None

    @property
    def week_end(self) -> dt.date:
        return self.week_start + dt.timedelta(days=6)

    @property
    def has_free_slots(self) -> bool:
        return any(day.slots for day in self.days)

    @property
    def fingerprint(self) -> str:
        """Everything the week's days show (zone, dates, slot starts), as a short key for
        the rendered fragment's cache (templates/appointments/_free_week.html)."""
        shown = "|".join(
            f"{day.date}{'p' if day.is_past else ''}:"
            + ",".join(str(int(slot.start.timestamp())) for slot in day.slots)
            for day in self.days
        )
        return hashlib.sha256(f"{self.zone_note}|{shown}".encode()).hexdigest()[:32]


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
    # One moment for every reading of the clock, so that ``changes_at`` holds for all.
    now = timezone.now()
    clinic = doctor.clinic
    first_week, last_week = bookable_weeks(clinic, now)
    requested = monday_of(day or local_today(clinic, now))
    week_start = min(max(requested, first_week), last_week)
    days = [week_start + dt.timedelta(days=offset) for offset in range(7)]
    changes_at = None
    if ignore_appointment_id is None:
        slots, slots_change_at = shown_free_slots_until(
            doctor=doctor,
            appointment_type=appointment_type,
            first_day=days[0],
            last_day=days[-1],
            now=now,
        )
        dates_change_at = next_date_change(
            clinic.zone, now, clinic.min_notice, clinic.booking_horizon
        )
        changes_at = earliest(slots_change_at, dates_change_at)
    else:  # a reschedule's own week: rare, and not worth an entry of its own
        slots = doctor_free_slots(
            doctor=doctor,
            appointment_type=appointment_type,
            first_day=days[0],
            last_day=days[-1],
            ignore_appointment_id=ignore_appointment_id,
            now=now,
        )
    by_day: dict[dt.date, list[Interval]] = {each: [] for each in days}
    today = local_today(clinic, now)
    zone = clinic.zone
    for slot in slots:
        by_day[slot.start.astimezone(zone).date()].append(slot)
    return FreeWeek(
        week_start=week_start,
        days=[DaySlots(each, by_day[each], each < today) for each in days],
        previous_week=week_start - WEEK if week_start > first_week else None,
        next_week=week_start + WEEK if week_start < last_week else None,
        zone_note=zone_note(zone, week_start),
        changes_at=changes_at,
    )


def zone_note(zone: ZoneInfo, week_start: dt.date) -> str:
    """'Berlin time (CET)'; in a week with a clock change, 'Berlin time (CET, and CEST
    from Sunday 29 March)'; in the active language."""
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
            names.append(
                gettext("%(zone)s from %(day)s")
                % {"zone": name, "day": formats.date_format(day, "WEEKDAY_DAY_MONTH_FORMAT")}
            )
        previous = name
    return gettext("%(place)s time (%(zones)s)") % {
        "place": place,
        "zones": gettext(", and ").join(names),
    }


# --- Each doctor's next free time, for the lists -----------------------------------------


def next_free_slots(
    doctors: Sequence[Doctor], days: int = 14, *, now: dt.datetime | None = None
) -> dict[int, Interval | None]:
    """The first free slot of each doctor's first active appointment type on the clinic's
    next ``days`` local dates (today included), by doctor id; None when there is none.

    Equal to ``doctor_free_slots(...)[0]`` for every doctor, through the cache: one
    ``get_many`` for all of them, and for the doctors whose entry is missing (or used up,
    below) three queries for their hours (``load_hours``), one for their appointments
    and one ``set_many``, however many doctors; one more for the clinics and one for the
    types when they were not loaded with the doctors, as ``bookable_doctors`` does.

    An entry holds a doctor's slots from today up to the first local date that has a
    slot still bookable when it was made (whole dates, unwindowed): enough to answer
    until that slot is too soon, when the entry counts as missing and is made again."""
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
    keys = {
        pk: _cache_key("next", doctor, active_types(doctor)[0], first_days[pk], days)
        for pk, doctor in pending.items()
    }
    cached: dict[str, tuple[int, list[int]]] = cache.get_many(list(keys.values()))
    missing = []
    for pk, doctor in pending.items():
        entry = cached.get(keys[pk])
        answer = _first_of_entry(entry, doctor, days, now) if entry is not None else None
        if answer is None:
            missing.append(doctor)
        else:
            found[pk] = answer[0]
    if missing:
        made = _next_free_entries(missing, first_days, days, now)
        cache.set_many({keys[pk]: entry for pk, entry in made.items()}, FREE_TIMES_CACHE_SECONDS)
        for doctor in missing:
            answer = _first_of_entry(made[doctor.pk], doctor, days, now)
            found[doctor.pk] = answer[0] if answer else None
    return found


def _first_of_entry(
    entry: tuple[int, list[int]], doctor: Doctor, days: int, now: dt.datetime
) -> tuple[Interval | None] | None:
    """``(slot,)``: the first bookable slot of a next-free entry, or ``(None,)`` when
    there is certainly none; None when the entry cannot tell (it stops at a date whose
    slots are all too soon by now), so it must be made again."""
    days_covered, starts = entry
    window = booking_window(doctor.clinic, now)
    slots = _decode(starts, active_types(doctor)[0].duration, window)
    if slots:
        return (slots[0],)
    if days_covered >= days or (starts and starts[-1] > window.latest.timestamp()):
        return (None,)
    return None


def _next_free_entries(
    doctors: Sequence[Doctor], first_days: dict[int, dt.date], days: int, now: dt.datetime
) -> dict[int, tuple[int, list[int]]]:
    """Next-free entries of ``doctors``: (local dates covered, unwindowed slot starts)."""
    earliest = min(first_days[doctor.pk] for doctor in doctors)
    last_day = max(first_days[doctor.pk] for doctor in doctors) + dt.timedelta(days=days - 1)
    hours = load_hours([doctor.pk for doctor in doctors], earliest, last_day)
    bounds = {
        doctor.pk: local_day_bounds(
            first_days[doctor.pk],
            first_days[doctor.pk] + dt.timedelta(days=days - 1),
            doctor.clinic.zone,
        )
        for doctor in doctors
    }
    booked = booked_intervals(
        doctor_ids=[doctor.pk for doctor in doctors],
        start=min(start for start, _ in bounds.values()),
        end=max(end for _, end in bounds.values()),
    )
    entries = {}
    for doctor in doctors:
        entries[doctor.pk] = _next_free_entry(
            hours=hours[doctor.pk],
            booked=booked[doctor.pk],
            clinic=doctor.clinic,
            appointment_type=active_types(doctor)[0],
            first_day=first_days[doctor.pk],
            days=days,
            now=now,
        )
    return entries


def _next_free_entry(
    *,
    hours: DoctorHours,
    booked: list[Interval],
    clinic: Clinic,
    appointment_type: AppointmentType,
    first_day: dt.date,
    days: int,
    now: dt.datetime,
) -> tuple[int, list[int]]:
    # Day by day, stopping after the first day with a slot bookable now: laying out every
    # slot of a fortnight to keep only the first would cost more than the queries do.
    window = booking_window(clinic, now)
    zone = clinic.zone
    starts: list[int] = []
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
            window=_open_window(day, day, zone),
        )
        starts += _encode(slots)
        if any(window.earliest <= slot.start for slot in slots) or (
            slots and slots[-1].start > window.latest
        ):
            return offset + 1, starts
    return days, starts


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
        .select_related("patient__user", "dependant", "appointment_type", "doctor__clinic")
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
