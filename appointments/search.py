"""Search across doctors: the soonest free times of every doctor who fits, in one list.

The same free times a doctor's own page shows (``scheduling.availability.free_slots``
over the same rows, each clinic's booking window: minimum notice and horizon), for many
doctors at once, in a number of queries that does not grow with the number of doctors:
two for the doctors and their types, three for their hours (``load_hours``) and at most
five for their appointments (windows of 1, 2, 4, 8 and 16 days, as ``next_free_slots``
reads them, stopping as soon as the first ``limit`` times are known).
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from appointments.free_times import booked_intervals
from scheduling.availability import Interval, free_slots
from scheduling.models import AppointmentType, Doctor
from scheduling.selectors import (
    active_types,
    booking_window,
    find_doctors,
    load_hours,
    local_day_bounds,
    local_today,
)

# The widest range one search may cover, in local dates, both ends included.
MAX_SEARCH_DAYS = 31
# Without `to`: a week from the first date.
DEFAULT_SEARCH_DAYS = 7
# The most times one search returns (five API pages of 200): enough to choose from, and a
# bound on the work of one request however many doctors fit.
MAX_RESULTS = 1000


@dataclass(frozen=True, slots=True)
class FoundTime:
    """One free time of one doctor, of the appointment type it was found for."""

    doctor: Doctor
    appointment_type: AppointmentType
    slot: Interval

    @property
    def start(self) -> dt.datetime:
        return self.slot.start

    @property
    def end(self) -> dt.datetime:
        return self.slot.end


def offered_type(doctor: Doctor, type_name: str = "") -> AppointmentType | None:
    """The doctor's active type called ``type_name`` (any case), or without a name their
    default (first active) type; None when they have no such type."""
    types = active_types(doctor)
    if not type_name:
        return types[0] if types else None
    wanted = type_name.casefold()
    return next((kind for kind in types if kind.name.casefold() == wanted), None)


def search_free_times(
    *,
    specialty: str = "",
    clinic_id: int | None = None,
    clinic_slug: str = "",
    language: str = "",
    type_name: str = "",
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    now: dt.datetime | None = None,
    limit: int = MAX_RESULTS,
) -> list[FoundTime]:
    """The first ``limit`` free times, soonest first (then by the doctor's surname), of
    the bookable doctors of ``specialty`` in the clinic ``clinic_id``/``clinic_slug`` who
    speak ``language``, each of the type ``type_name`` or the doctor's default type, on
    local dates ``first_day`` (default: today in each clinic's zone) through
    ``last_day`` (default: a week) in each doctor's clinic's zone. An empty filter does
    not filter. The caller keeps the range within ``MAX_SEARCH_DAYS``."""
    now = now or timezone.now()
    doctors = find_doctors(specialty=specialty, clinic_slug=clinic_slug, language=language)
    if clinic_id is not None:
        doctors = doctors.filter(clinic_id=clinic_id)

    offers: dict[int, tuple[Doctor, AppointmentType]] = {}
    ranges: dict[int, tuple[dt.date, dt.date]] = {}
    for doctor in doctors:
        kind = offered_type(doctor, type_name)
        if kind is None:
            continue
        clinic, zone = doctor.clinic, doctor.clinic.zone
        first = first_day or local_today(clinic, now)
        last = last_day or first + dt.timedelta(days=DEFAULT_SEARCH_DAYS - 1)
        # Days outside the booking window hold no bookable time: not worth reading.
        window = booking_window(clinic, now)
        first = max(first, window.earliest.astimezone(zone).date())
        last = min(last, window.latest.astimezone(zone).date())
        if first <= last:
            offers[doctor.pk] = (doctor, kind)
            ranges[doctor.pk] = (first, last)
    if not offers or limit < 1:
        return []

    hours = load_hours(
        ranges, min(first for first, _ in ranges.values()), max(last for _, last in ranges.values())
    )
    found: list[FoundTime] = []
    pending = dict(ranges)
    offset, span = 0, 1
    while True:
        windows = {
            pk: (
                first + dt.timedelta(days=offset),
                min(last, first + dt.timedelta(days=offset + span - 1)),
            )
            for pk, (first, last) in pending.items()
        }
        bounds = {
            pk: local_day_bounds(start, end, offers[pk][0].clinic.zone)
            for pk, (start, end) in windows.items()
        }
        booked = booked_intervals(
            doctor_ids=list(windows),
            start=min(start for start, _ in bounds.values()),
            end=max(end for _, end in bounds.values()),
        )
        for pk, (window_first, window_last) in windows.items():
            doctor, kind = offers[pk]
            doctor_hours = hours[pk]
            found += [
                FoundTime(doctor, kind, slot)
                for slot in free_slots(
                    weekly=doctor_hours.weekly,
                    extra=doctor_hours.extra,
                    time_off=doctor_hours.time_off,
                    booked=booked.get(pk, []),
                    zone=doctor.clinic.zone,
                    first_day=window_first,
                    last_day=window_last,
                    duration=kind.duration,
                    step=kind.step,
                    window=booking_window(doctor.clinic, now),
                )
            ]
        pending = {
            pk: (first, last)
            for pk, (first, last) in pending.items()
            if first + dt.timedelta(days=offset + span) <= last
        }
        found.sort(key=lambda each: (each.start, each.doctor.sort_name, each.doctor.pk))
        if not pending:
            return found[:limit]
        # Clinics' days start at different instants: a time is known to be among the
        # soonest only before the earliest end of a window still to be continued.
        settled_until = min(bounds[pk][1] for pk in pending)
        settled = [each for each in found if each.start < settled_until]
        if len(settled) >= limit:
            return settled[:limit]
        offset, span = offset + span, span * 2
