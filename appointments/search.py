"""Search across doctors: the soonest free times of every doctor who fits, in one list.

The same free times a doctor's own page shows (``scheduling.availability.free_slots``
over the same rows, each clinic's booking window: minimum notice and horizon), for many
doctors at once, through the same cache (``free_times.shown_free_slots_of``), in a number
of queries that does not grow with the number of doctors: two for the doctors and their
types, and for each window (1, 2, 4, 8 and 16 days, as ``next_free_slots`` reads them,
stopping as soon as the first ``limit`` times are known) one read of the cache; on a miss
one query for the appointments and one write, and once per search three for the hours
(``load_hours``).
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.utils import timezone

from appointments.free_times import ShownFreeSlots, ShownRange
from clinic.answers import earliest, next_date_change
from scheduling.availability import DoctorHours, Interval
from scheduling.models import AppointmentType, Doctor
from scheduling.selectors import (
    LISTED_DOCTOR_KEY_COLUMNS,
    DoctorFilters,
    active_types,
    booking_window,
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


def fitting_doctors(
    *, specialty: str = "", clinic_id: int | None = None, clinic_slug: str = "", language: str = ""
) -> QuerySet[Doctor]:
    """The bookable doctors a search with these filters looks at (``find_doctors``)."""
    return DoctorFilters(
        specialty=specialty, clinic_id=clinic_id, clinic_slug=clinic_slug, language=language
    ).doctors()


def searched_clinics(
    rows: Iterable[tuple[object, ...]],
) -> list[tuple[str, dt.timedelta, dt.timedelta]]:
    """(zone, minimum notice, horizon) of the clinics of rows of
    ``LISTED_DOCTOR_KEY_COLUMNS``: what the clock does to a search of them."""
    columns = LISTED_DOCTOR_KEY_COLUMNS
    zone, notice, horizon = (
        columns.index(name)
        for name in ("clinic__timezone", "clinic__min_notice", "clinic__booking_horizon")
    )
    return [(str(row[zone]), row[notice], row[horizon]) for row in rows]  # type: ignore[misc]


def search_changes_at(
    *,
    clinics: Iterable[tuple[str, dt.timedelta, dt.timedelta]],
    found: Sequence[FoundTime],
    first_day: dt.date | None,
    last_day: dt.date | None,
    now: dt.datetime,
) -> dt.datetime | None:
    """When the clock alone changes what ``search_free_times`` found, for keeping the
    answer whole (clinic/answers.py): the soonest time found coming within its clinic's
    minimum notice (the soonest leave first, so they are among those found), or the date
    of today or of the first bookable day changing in one of the ``clinics`` searched
    ((zone, minimum notice, horizon) each). Where the horizon cuts the range, new times
    come in as the clock moves: such an answer is not kept (``now``)."""
    moments = [each.start - each.doctor.clinic.min_notice for each in found]
    for zone_name, min_notice, horizon in set(clinics):
        zone = ZoneInfo(zone_name)
        first = first_day or now.astimezone(zone).date()
        last = last_day or first + dt.timedelta(days=DEFAULT_SEARCH_DAYS - 1)
        if last >= (now + horizon).astimezone(zone).date():
            return now
        moments.append(next_date_change(zone, now, min_notice))
    return earliest(*moments)


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
    doctors = fitting_doctors(
        specialty=specialty, clinic_id=clinic_id, clinic_slug=clinic_slug, language=language
    )

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

    # Each window reads its doctors' free times from the cache (one get_many); on a miss
    # the hours of every doctor for the whole search are loaded, once (three queries),
    # and the window's appointments (one query); what was laid out is stored at the end
    # (one set_many).
    overall = (min(first for first, _ in ranges.values()), max(last for _, last in ranges.values()))
    hours: dict[int, DoctorHours] = {}

    def hours_of(doctor_ids: list[int], first: dt.date, last: dt.date) -> dict[int, DoctorHours]:
        if any(pk not in hours for pk in doctor_ids):
            hours.update(load_hours(list(ranges), *overall))
        return hours

    reader = ShownFreeSlots(now=now, hours_of=hours_of)
    found = _soonest(offers, ranges, reader, limit)
    reader.save()
    return found


def _soonest(
    offers: dict[int, tuple[Doctor, AppointmentType]],
    ranges: dict[int, tuple[dt.date, dt.date]],
    reader: ShownFreeSlots,
    limit: int,
) -> list[FoundTime]:
    found: list[FoundTime] = []
    pending = dict(ranges)
    offset, span = 0, 1
    while True:
        windows = {
            pk: ShownRange(
                offers[pk][0],
                offers[pk][1],
                first + dt.timedelta(days=offset),
                min(last, first + dt.timedelta(days=offset + span - 1)),
            )
            for pk, (first, last) in pending.items()
        }
        bounds = {
            pk: local_day_bounds(each.first_day, each.last_day, each.doctor.clinic.zone)
            for pk, each in windows.items()
        }
        for pk, slots in reader.slots(windows).items():
            doctor, kind = offers[pk]
            found += [FoundTime(doctor, kind, slot) for slot in slots]
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
