"""Reads of appointments for the staff pages: a clinic's calendar and one appointment's
record (its audit history, its emails, the patient's attendance).

Every read starts from ``selectors.appointments_for_staff`` or ``calendar_clinic``, which
see only the clinics the user works for (``scheduling.selectors.staff_clinics``): another
clinic's appointment or calendar is simply not found.
"""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts import phones
from accounts.models import Dependant, Patient, User
from appointments.free_times import conflicts_of, grid_free_slots, next_free_slots
from appointments.models import Appointment, AppointmentQuerySet, Notification, Status
from scheduling.availability import (
    DoctorHours,
    Interval,
    LocalPeriod,
    periods_to_utc,
    working_intervals,
)
from scheduling.models import AppointmentType, Clinic, Doctor, TimeOff
from scheduling.selectors import (
    active_types,
    active_types_prefetch,
    bookable_doctors,
    load_hours,
    local_day_bounds,
    local_today,
    monday_of,
    staff_clinics,
)

CalendarView = Literal["day", "week"]
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)


def calendar_clinic(user: User | AnonymousUser, clinic_id: int | None) -> Clinic:
    """The clinic ``clinic_id``, or the user's first clinic when None.

    Raises ``Clinic.DoesNotExist`` for a clinic the user does not work for."""
    clinics = staff_clinics(user)
    if clinic_id is not None:
        clinics = clinics.filter(pk=clinic_id)
    clinic = clinics.first()
    if clinic is None:
        raise Clinic.DoesNotExist()
    return clinic


# The grid's vertical scale: minutes of the clinic's wall clock, shown from the earliest
# hour anyone works (or is booked) to the latest, 8:00-18:00 when nobody works.
DEFAULT_AXIS = (8 * 60, 18 * 60)
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class GridBlock:
    """An appointment on the grid: ``top`` minutes after local midnight, ``length`` long."""

    appointment: Appointment
    top: int
    length: int
    can_mark: bool


@dataclass(frozen=True, slots=True)
class GridFreeTime:
    """A bookable start time of the doctor's default type, named in full for the button."""

    start: dt.datetime
    top: int
    length: int
    label: str


@dataclass(frozen=True, slots=True)
class GridShade:
    """Time the doctor cannot be booked: outside their hours (``closed``) or time off."""

    top: int
    length: int
    kind: Literal["closed", "time_off"]


@dataclass(frozen=True, slots=True)
class GridColumn:
    """One doctor on one local date: a doctor in the day view, a day in the week view."""

    doctor: Doctor
    date: dt.date
    blocks: list[GridBlock]
    free: list[GridFreeTime]
    shades: list[GridShade]
    cancelled: list[Appointment]
    appointment_type: AppointmentType | None
    now_top: int | None
    # The first and last minute the doctor works or is booked that day (empty: neither).
    extent: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StaffCalendar:
    """A day of one clinic (a column per doctor) or a week of one doctor (a column per
    day, Monday to Sunday), on one time axis in the clinic's local time."""

    clinic: Clinic
    view: CalendarView
    first_day: dt.date
    last_day: dt.date
    today: dt.date
    doctors: list[Doctor]
    specialties: list[str]
    specialty: str
    doctor: Doctor | None
    columns: list[GridColumn]
    axis_start: int
    axis_end: int

    @property
    def previous_query(self) -> str:
        return self.query_for(self.first_day - self.step)

    @property
    def next_query(self) -> str:
        return self.query_for(self.first_day + self.step)

    @property
    def today_query(self) -> str:
        return self.query_for(self.today)

    @property
    def step(self) -> dt.timedelta:
        return WEEK if self.view == "week" else DAY

    def query_for(self, day: dt.date, **changes: str | int) -> str:
        """The calendar's query string for ``day``, the rest as it is now."""
        query: dict[str, str | int] = {"clinic": self.clinic.pk, "view": self.view}
        if self.specialty:
            query["specialty"] = self.specialty
        if self.doctor is not None:
            query["doctor"] = self.doctor.pk
        return urlencode(query | changes | {"date": day.isoformat()})

    @property
    def shows_today(self) -> bool:
        return self.first_day <= self.today <= self.last_day

    @property
    def axis_length(self) -> int:
        return self.axis_end - self.axis_start

    @property
    def hours(self) -> list[tuple[int, str]]:
        """Each full hour on the axis: (minutes from the axis start, "09:00")."""
        return [
            (minute - self.axis_start, f"{minute // 60:02}:00")
            for minute in range(self.axis_start, self.axis_end, 60)
        ]

    @property
    def appointment_count(self) -> int:
        return sum(len(column.blocks) for column in self.columns)

    @property
    def cancelled(self) -> list[Appointment]:
        return [each for column in self.columns for each in column.cancelled]


def clinic_calendar(
    *,
    clinic: Clinic,
    view: CalendarView,
    day: dt.date | None = None,
    doctor_id: int | None = None,
    specialty: str = "",
    now: dt.datetime | None = None,
) -> StaffCalendar:
    """The grid of ``clinic`` for the local date ``day`` (today by default): every doctor
    (of ``specialty``, or ``doctor_id`` alone) that day, or ``doctor_id``'s week (the
    first doctor's when none is given). Appointments as blocks, free times of each
    doctor's default type (``free_times.grid_free_slots``: hours minus bookings), the
    time outside their hours and their time off shaded, a line at ``now`` today.

    Seven queries, however many doctors and appointments: doctors, their types, their
    hours (three), the appointments. Raises ``Doctor.DoesNotExist`` for a ``doctor_id``
    not of this clinic."""
    now = now or timezone.now()
    zone = clinic.zone
    today = now.astimezone(zone).date()
    day = day or today
    first_day = monday_of(day) if view == "week" else day
    last_day = first_day + (WEEK - DAY if view == "week" else dt.timedelta(0))

    all_doctors = list(
        clinic.doctors.order_by("name", "pk").prefetch_related(active_types_prefetch())
    )
    doctor = None
    if doctor_id is not None:
        doctor = next((each for each in all_doctors if each.pk == doctor_id), None)
        if doctor is None:
            raise Doctor.DoesNotExist()
    candidates = [each for each in all_doctors if not specialty or each.specialty == specialty]
    if view == "week" and doctor is None and candidates:
        doctor = next((each for each in candidates if each.is_active), candidates[0])

    start, end = local_day_bounds(first_day, last_day, zone)
    appointments = (
        Appointment.objects.filter(doctor__clinic=clinic)
        .overlapping(start, end)
        .select_related("patient__user", "dependant", "appointment_type", "doctor")
        .order_by("starts_at", "pk")
    )
    if doctor is not None:
        appointments = appointments.filter(doctor=doctor)
    elif specialty:
        appointments = appointments.filter(doctor__specialty=specialty)
    by_cell: dict[tuple[dt.date, int], list[Appointment]] = defaultdict(list)
    for appointment in appointments:
        by_cell[(appointment.starts_at.astimezone(zone).date(), appointment.doctor_id)].append(
            appointment
        )
    booked_doctor_ids = {doctor_id for _date, doctor_id in by_cell}
    # Inactive doctors get a column only when they still have appointments to show.
    shown = (
        [doctor]
        if doctor
        else [each for each in candidates if each.is_active or each.pk in booked_doctor_ids]
    )
    hours = load_hours([each.pk for each in shown], first_day, last_day)
    booked: dict[int, list[Interval]] = defaultdict(list)
    for (_date, booked_id), cell in by_cell.items():
        booked[booked_id] += [Interval(a.starts_at, a.ends_at) for a in cell if a.is_active]
    free = grid_free_slots(
        doctors=shown, hours=hours, booked=booked, first_day=first_day, last_day=last_day, now=now
    )
    days = [first_day + DAY * offset for offset in range((last_day - first_day).days + 1)]
    columns = [
        _grid_column(
            doctor=each,
            date=date,
            appointments=by_cell.get((date, each.pk), []),
            hours=hours[each.pk],
            free=[slot for slot in free[each.pk] if slot.start.astimezone(zone).date() == date],
            zone=zone,
            now=now,
        )
        for date in days
        for each in shown
    ]
    axis_start, axis_end = _axis(columns)
    return StaffCalendar(
        clinic=clinic,
        view=view,
        first_day=first_day,
        last_day=last_day,
        today=today,
        doctors=all_doctors,
        specialties=sorted({each.specialty for each in all_doctors if each.specialty}),
        specialty=specialty,
        doctor=doctor if doctor_id is not None or view == "week" else None,
        columns=[_on_axis(column, axis_start) for column in columns],
        axis_start=axis_start,
        axis_end=axis_end,
    )


def _minute_of_day(instant: dt.datetime, zone: ZoneInfo, date: dt.date) -> int:
    """Minutes after local midnight of ``date``, clipped to the day."""
    local = instant.astimezone(zone)
    if local.date() < date:
        return 0
    if local.date() > date:
        return MINUTES_PER_DAY
    return local.hour * 60 + local.minute


def _grid_time(local: dt.datetime) -> str:
    """'Mon 9 Mar 10:30' ('Mo, 9. Mär 10:30'): a free time's label on the grid."""
    return f"{formats.date_format(local, 'SHORT_WEEKDAY_DAY_MONTH_FORMAT')} {local:%H:%M}"


def _span(start: dt.datetime, end: dt.datetime, zone: ZoneInfo, date: dt.date) -> tuple[int, int]:
    top = _minute_of_day(start, zone, date)
    return top, max(_minute_of_day(end, zone, date) - top, 0)


def _grid_column(
    *,
    doctor: Doctor,
    date: dt.date,
    appointments: list[Appointment],
    hours: DoctorHours,
    free: list[Interval],
    zone: ZoneInfo,
    now: dt.datetime,
) -> GridColumn:
    working = working_intervals(
        weekly=hours.weekly, extra=hours.extra, zone=zone, first_day=date, last_day=date
    )
    shades: list[GridShade] = []
    edges: list[int] = []
    cursor = 0
    for interval in working:
        top, length = _span(interval.start, interval.end, zone, date)
        edges += [top, top + length]
        if top > cursor:
            shades.append(GridShade(cursor, top - cursor, "closed"))
        cursor = max(cursor, top + length)
    if cursor < MINUTES_PER_DAY:
        shades.append(GridShade(cursor, MINUTES_PER_DAY - cursor, "closed"))
    day_start, day_end = local_day_bounds(date, date, zone)
    for period in periods_to_utc(hours.time_off, zone):
        if period.start < day_end and period.end > day_start:
            top, length = _span(period.start, period.end, zone, date)
            shades.append(GridShade(top, length, "time_off"))
    types = active_types(doctor)
    blocks = [
        GridBlock(
            appointment,
            *_span(appointment.starts_at, appointment.ends_at, zone, date),
            can_mark=can_mark_attendance(appointment, now),
        )
        for appointment in appointments
        if not appointment.is_cancelled
    ]
    name = doctor.name
    free_times = [
        GridFreeTime(
            slot.start,
            *_span(slot.start, slot.start + min(slot.end - slot.start, types[0].step), zone, date),
            label=str(_("Book %(doctor)s, %(when)s"))
            % {"doctor": name, "when": _grid_time(slot.start.astimezone(zone))},
        )
        for slot in free
    ]
    now_top = _minute_of_day(now, zone, date) if now.astimezone(zone).date() == date else None
    edges += [edge for block in blocks for edge in (block.top, block.top + block.length)]
    return GridColumn(
        doctor=doctor,
        date=date,
        blocks=blocks,
        free=free_times,
        shades=shades,
        cancelled=[each for each in appointments if each.is_cancelled],
        appointment_type=types[0] if types else None,
        now_top=now_top,
        extent=(min(edges), max(edges)) if edges else (),
    )


def _axis(columns: list[GridColumn]) -> tuple[int, int]:
    """From the earliest full hour anyone works or is booked to the latest."""
    edges = [edge for column in columns for edge in column.extent]
    if not edges:
        return DEFAULT_AXIS
    return (min(edges) // 60) * 60, min(-(-max(edges) // 60) * 60, MINUTES_PER_DAY)


def _on_axis(column: GridColumn, axis_start: int) -> GridColumn:
    """The column's positions counted from the axis start instead of local midnight."""

    def moved[T: (GridBlock, GridFreeTime, GridShade)](item: T) -> T:
        return replace(item, top=item.top - axis_start)

    return replace(
        column,
        blocks=[moved(each) for each in column.blocks],
        free=[moved(each) for each in column.free],
        shades=[moved(each) for each in column.shades],
        now_top=None if column.now_top is None else column.now_top - axis_start,
    )


# How far ahead the today view looks for conflicts; each doctor's hours page lists all.
CONFLICTS_AHEAD = dt.timedelta(days=7)
# The today view lists this many of a kind at most, with a link to the rest.
TODAY_LIST_LIMIT = 25


@dataclass(frozen=True, slots=True)
class ClinicToday:
    """What the desk of one clinic needs to see at the start of the day and during it."""

    clinic: Clinic
    today: dt.date
    total: int
    coming: list[Appointment]
    to_mark: list[Appointment]
    cancelled: list[Appointment]
    conflicts: list[Appointment]

    @property
    def calendar_query(self) -> str:
        query: dict[str, str | int] = {"clinic": self.clinic.pk, "date": self.today.isoformat()}
        return urlencode(query)


def clinics_today(user: User | AnonymousUser, now: dt.datetime) -> list[ClinicToday]:
    """For each of the user's clinics: today's appointments (how many; the next ones),
    those that started and still wait to be marked, today's cancelled ones, and the
    conflicts of the next seven days (``free_times.conflicts_of``)."""
    overview = []
    for clinic in staff_clinics(user):
        today = local_today(clinic, now)
        start, end = local_day_bounds(today, today, clinic.zone)
        todays = list(
            Appointment.objects.filter(
                doctor__clinic=clinic, starts_at__gte=start, starts_at__lt=end
            )
            .select_related("patient__user", "dependant", "appointment_type", "doctor__clinic")
            .order_by("starts_at", "pk")
        )
        active = [each for each in todays if each.is_active]
        doctors = list(clinic.doctors.filter(is_active=True))
        overview.append(
            ClinicToday(
                clinic=clinic,
                today=today,
                total=len(active),
                coming=[
                    each for each in active if each.status == Status.BOOKED and each.starts_at > now
                ][:TODAY_LIST_LIMIT],
                to_mark=[each for each in active if can_mark_attendance(each, now)][
                    :TODAY_LIST_LIMIT
                ],
                cancelled=[each for each in todays if each.is_cancelled][:TODAY_LIST_LIMIT],
                conflicts=conflicts_of(
                    clinic=clinic,
                    doctors=doctors,
                    now=now,
                    last_day=(now + CONFLICTS_AHEAD).astimezone(clinic.zone).date(),
                )[:TODAY_LIST_LIMIT],
            )
        )
    return overview


@dataclass(frozen=True, slots=True)
class Attendance:
    """How often the patient came, or did not, to this clinic's appointments."""

    completed: int
    no_shows: int


@dataclass(frozen=True, slots=True)
class AppointmentRecord:
    appointment: Appointment
    history: list[Any]
    notifications: list[Notification]
    attendance: Attendance


def appointment_record(appointment: Appointment) -> AppointmentRecord:
    """What the staff detail page shows beside the appointment itself."""
    history = list(appointment.history.select_related("history_user").order_by("-history_date"))
    counts = Appointment.objects.filter(
        patient_id=appointment.patient_id, doctor__clinic_id=appointment.doctor.clinic_id
    ).aggregate(
        completed=Count("pk", filter=Q(status=Status.COMPLETED)),
        no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
    )
    return AppointmentRecord(
        appointment=appointment,
        history=history,
        notifications=list(appointment.notifications.order_by("due_at", "pk")),
        attendance=Attendance(completed=counts["completed"], no_shows=counts["no_shows"]),
    )


def can_mark_attendance(appointment: Appointment, now: dt.datetime) -> bool:
    """Whether ``mark_attendance`` would accept it now (it stays the authority)."""
    return appointment.status == Status.BOOKED and appointment.starts_at <= now


def can_correct_attendance(appointment: Appointment, now: dt.datetime) -> bool:
    """Whether a marked attendance (completed or no-show) may still be corrected: on the
    appointment's own day, in the clinic's zone (``mark_attendance`` stays the authority)."""
    zone = appointment.doctor.clinic.zone
    return (
        appointment.status in (Status.COMPLETED, Status.NO_SHOW)
        and appointment.starts_at.astimezone(zone).date() == now.astimezone(zone).date()
    )


def remaining_booked_on_day(
    *, doctor: Doctor, day: dt.date, now: dt.datetime
) -> AppointmentQuerySet:
    """The booked appointments of ``doctor`` starting on the clinic-local date ``day``
    and after ``now``: what a sick day cancels."""
    start, end = local_day_bounds(day, day, doctor.clinic.zone)
    return (
        Appointment.objects.filter(
            doctor=doctor,
            status=Status.BOOKED,
            starts_at__gte=start,
            starts_at__lt=end,
            starts_at__gt=now,
        )
        .select_related("patient__user", "dependant", "appointment_type")
        .order_by("starts_at", "pk")
    )


def booked_during(*, doctor: Doctor, time_off: TimeOff, now: dt.datetime) -> AppointmentQuerySet:
    """The booked appointments of ``doctor`` that overlap ``time_off`` (saved or not) and
    have not started by ``now``: what the time off would cancel, or leave in conflict."""
    (period,) = periods_to_utc(
        [LocalPeriod(time_off.local_start, time_off.local_end)], doctor.clinic.zone
    )
    return (
        Appointment.objects.filter(doctor=doctor, status=Status.BOOKED, starts_at__gt=now)
        .overlapping(period.start, period.end)
        .select_related("patient__user", "dependant", "appointment_type", "doctor__clinic")
        .order_by("starts_at", "pk")
    )


def patients_for_staff(user: User | AnonymousUser) -> QuerySet[Patient]:
    """The patients a staff member may see: those with an appointment at one of their
    clinics, and those with no appointment anywhere yet (a first-time caller, or someone
    who signed up online and has not booked). A patient known only to another clinic
    stays that clinic's data."""
    clinics = staff_clinics(user).values("pk")
    return Patient.objects.filter(
        Q(appointments__doctor__clinic__in=clinics) | Q(appointments__isnull=True)
    ).distinct()


# Dates of birth as staff type them: 1980-01-31, 31.01.1980, 31/1/1980.
BIRTH_DATE = re.compile(
    r"(?<!\d)(?:(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})"
    r"|(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4}))(?!\d)"
)


@dataclass(frozen=True, slots=True)
class PatientQuery:
    """What a search box's text asks for: words of the name (or email), a phone number,
    a date of birth. Parsed by ``parse_patient_query``."""

    words: list[str]
    phone: str
    born: dt.date | None

    @property
    def is_empty(self) -> bool:
        return not (self.words or self.phone or self.born)


def parse_patient_query(text: str) -> PatientQuery:
    """Dates of birth first (they look like phone numbers); then either a phone number
    (only digits and separators) or words."""
    born = None
    for match in BIRTH_DATE.finditer(text):
        parts = match.groupdict()
        year, month, day = (
            (parts["iso_y"], parts["iso_m"], parts["iso_d"])
            if parts["iso_y"]
            else (parts["y"], parts["m"], parts["d"])
        )
        try:
            born = dt.date(int(year), int(month), int(day))
        except ValueError:
            continue
        text = text.replace(match.group(0), " ")
    text = " ".join(text.split())
    if phones.PHONE_LIKE.match(text):
        return PatientQuery(words=[], phone=text, born=born)
    return PatientQuery(words=text.split(), phone="", born=born)


def search_patients(user: User | AnonymousUser, query: str) -> QuerySet[Patient]:
    """Of ``patients_for_staff``, those the query finds (all of them when blank):

    - a phone number, however it is spelled, by the keyed hash of its E.164 form
      (``Patient.phone_lookup``); one without a country code is read in the country of
      each of the user's clinics and in ``PHONE_DEFAULT_REGION``;
    - words, in any order, each in the folded name (case and accents ignored,
      ``Patient.name_search``) or the email; or all of them in the folded name of one
      of the people the patient books for (``Dependant.name_search``): a parent who
      phones about their child may give the child's name (``family_members_found`` says
      which one matched);
    - a date of birth, which narrows either: the patient's own with their own name, the
      family member's with theirs (in Python: it is encrypted at rest).

    On PostgreSQL trigram indexes serve the ``LIKE '%word%'`` (docs/data-model.md)."""
    patients = patients_for_staff(user).select_related("user").order_by("full_name", "pk")
    wanted = parse_patient_query(query)
    if wanted.phone:
        regions = {*staff_clinics(user).values_list("country", flat=True)}
        regions.add(settings.PHONE_DEFAULT_REGION)
        numbers = {phones.normalise_or_none(wanted.phone, region) for region in regions}
        hashes = [phones.lookup_hash(number) for number in numbers if number]
        return _born_on(patients.filter(phone_lookup__in=hashes), wanted.born)
    if not wanted.words:
        return _born_on(patients, wanted.born)
    by_own_name = Q()
    for word in wanted.words:
        by_own_name &= Q(name_search__contains=phones.fold_name(word)) | Q(
            user__email__icontains=word
        )
    # ``patients`` keeps the search to those the user may see; the family's rows need not.
    family = _family_matching(wanted.words)
    if wanted.born is None:
        return patients.filter(by_own_name | Q(pk__in=family.values("patient_id")))
    # The birth dates are encrypted at rest (clinic.encryption): they narrow in Python,
    # after the names; alone, a date reads every patient the user may see.
    found = {
        pk
        for pk, born in patients.filter(by_own_name).values_list("pk", "date_of_birth")
        if born == wanted.born
    }
    found |= {
        patient_id
        for patient_id, born in family.values_list("patient_id", "date_of_birth")
        if born == wanted.born
    }
    return patients.filter(pk__in=found)


def _born_on(patients: QuerySet[Patient], born: dt.date | None) -> QuerySet[Patient]:
    if born is None:
        return patients
    found = [
        pk
        for pk, date_of_birth in patients.values_list("pk", "date_of_birth")
        if date_of_birth == born
    ]
    return patients.filter(pk__in=found)


def _family_matching(words: list[str]) -> QuerySet[Dependant]:
    """The people booked for (not erased) whose folded name holds every one of ``words``."""
    people = Dependant.objects.filter(erased_at__isnull=True)
    for word in words:
        people = people.filter(name_search__contains=phones.fold_name(word))
    return people


def family_members_found(query: str, patients: Iterable[Patient]) -> dict[int, list[Dependant]]:
    """For the patients a search found (one page of them), the family members whose name
    (and birth date, if the query has one) the query matched, by patient id: what the
    results show beside the account holder, so staff see whom the caller meant. One
    query."""
    wanted = parse_patient_query(query)
    if wanted.phone or not wanted.words:
        return {}
    found: dict[int, list[Dependant]] = defaultdict(list)
    people = _family_matching(wanted.words).filter(patient__in=[patient.pk for patient in patients])
    for person in people.order_by("full_name", "pk"):
        if wanted.born is None or person.date_of_birth == wanted.born:
            found[person.patient_id].append(person)
    return dict(found)


def phone_region(user: User | AnonymousUser) -> str:
    """Where a phone number that staff type without a country code is from: the country
    of the user's (first) clinic, else ``PHONE_DEFAULT_REGION``."""
    country: str | None = staff_clinics(user).values_list("country", flat=True).first()
    return country or settings.PHONE_DEFAULT_REGION


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """A patient's appointments at the user's clinics: upcoming (booked, ahead, soonest
    first) and the rest (past and cancelled, newest first), with the attendance counts."""

    upcoming: list[Appointment]
    past: list[Appointment]
    attendance: Attendance


def patient_record(user: User | AnonymousUser, patient: Patient, now: dt.datetime) -> PatientRecord:
    """What the staff page of one patient shows. Two queries."""
    appointments = list(
        Appointment.objects.filter(
            patient=patient, doctor__clinic__in=staff_clinics(user).values("pk")
        )
        .select_related("doctor__clinic", "appointment_type", "dependant")
        .order_by("starts_at", "pk")
    )
    upcoming = [a for a in appointments if a.status == Status.BOOKED and a.starts_at > now]
    past = [a for a in reversed(appointments) if a not in upcoming]
    statuses = [a.status for a in appointments]
    return PatientRecord(
        upcoming=upcoming,
        past=past,
        attendance=Attendance(
            completed=statuses.count(Status.COMPLETED), no_shows=statuses.count(Status.NO_SHOW)
        ),
    )


@dataclass(frozen=True, slots=True)
class StartedBooking:
    """A phone booking begun from a free time on the calendar: the type (which names the
    doctor) and the start, carried through finding the patient."""

    appointment_type: AppointmentType
    starts_at: dt.datetime

    @property
    def doctor(self) -> Doctor:
        return self.appointment_type.doctor

    @property
    def start_param(self) -> str:
        return self.starts_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# How far ahead "the first free time across a specialty" looks.
FIRST_FREE_DAYS = 28


def doctors_to_book(
    user: User | AnonymousUser, *, name: str = "", specialty: str = ""
) -> list[Doctor]:
    """The active doctors of the user's clinics whose name contains ``name``, of
    ``specialty``, with their clinic and active types (two queries)."""
    doctors = bookable_doctors().filter(clinic__in=staff_clinics(user).values("pk"))
    if name.strip():
        doctors = doctors.filter(name__icontains=name.strip())
    if specialty.strip():
        doctors = doctors.filter(specialty=specialty.strip())
    return [doctor for doctor in doctors.order_by("name", "pk") if active_types(doctor)]


def specialties_for_staff(user: User | AnonymousUser) -> list[str]:
    return sorted(
        set(
            Doctor.objects.filter(is_active=True, clinic__in=staff_clinics(user).values("pk"))
            .exclude(specialty="")
            .values_list("specialty", flat=True)
        )
    )


@dataclass(frozen=True, slots=True)
class FirstFree:
    doctor: Doctor
    appointment_type: AppointmentType
    slot: Interval

    @property
    def start_param(self) -> str:
        return self.slot.start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def first_free_in_specialty(doctors: list[Doctor], now: dt.datetime) -> FirstFree | None:
    """The earliest free time of the doctors' default types (``next_free_slots``), and
    whose it is; None when none of them has one in ``FIRST_FREE_DAYS``."""
    found = next_free_slots(doctors, days=FIRST_FREE_DAYS, now=now)
    candidates = [(slot, doctor) for doctor in doctors if (slot := found[doctor.pk]) is not None]
    if not candidates:
        return None
    slot, doctor = min(candidates, key=lambda pair: (pair[0].start, pair[1].name))
    return FirstFree(doctor=doctor, appointment_type=active_types(doctor)[0], slot=slot)


def bookable_types_for_staff(user: User | AnonymousUser) -> QuerySet[AppointmentType]:
    """The active appointment types of the active doctors of the user's clinics."""
    return (
        AppointmentType.objects.filter(
            is_active=True,
            doctor__is_active=True,
            doctor__clinic__in=staff_clinics(user).values("pk"),
        )
        .select_related("doctor__clinic")
        .order_by("doctor__clinic__name", "doctor__name", "doctor_id", "duration", "pk")
    )
