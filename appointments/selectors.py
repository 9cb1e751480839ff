"""Reads of appointments: who may see which, and what the patient pages show.

The services in ``services.py`` decide; these only look. Where a page needs to know in
advance whether a service would refuse (to hide a button, to warn before a form is
filled in), the check here mirrors the service's and the service stays the authority.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AnonymousUser
from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Q
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.urls import Resolver404, resolve
from django.utils import timezone

from accounts.models import Dependant, Patient, User
from accounts.selectors import patient_of
from appointments.exceptions import NotBookable
from appointments.forms import BookingQueryForm
from appointments.free_times import doctor_free_slots
from appointments.models import CANCELLED_STATUSES, Appointment, AppointmentQuerySet, Status
from clinic.encryption import EncryptedMixin
from clinic.sql import Column, column, concrete_field, converted, table
from scheduling.models import AppointmentType, Clinic, Doctor
from scheduling.selectors import local_day_bounds, staff_clinics

# What every page and the API show of an appointment.
SHOWN_WITH = ("dependant", "patient__user", "doctor__clinic", "appointment_type")
SHOWN_WITH_THE_PATIENT = ("dependant", "doctor__clinic", "appointment_type")


def appointments_of(patient: Patient) -> AppointmentQuerySet:
    """The patient's own appointments."""
    # Through the profile's own manager, each row's ``patient`` is ``patient`` itself
    # (Django's known related objects): not joined, built and decrypted again per row.
    return patient.appointments.select_related(*SHOWN_WITH_THE_PATIENT)


def appointments_for_staff(user: User | AnonymousUser) -> AppointmentQuerySet:
    """The appointments of the clinics ``user`` works for (none for anyone not staff)."""
    return Appointment.objects.filter(
        doctor__clinic__in=staff_clinics(user).values("pk")
    ).select_related(*SHOWN_WITH)


def visible_appointments(user: User) -> AppointmentQuerySet:
    """The appointments ``user`` may see: a patient's own, a staff member's clinics'."""
    if user.is_staff:
        return appointments_for_staff(user)
    return appointments_of(patient_of(user))


def visible_appointment_or_404(user: User, pk: int) -> Appointment:
    """The appointment ``pk`` if ``user`` may see it: the one way the patient pages, the
    staff pages and the API fetch an appointment. Any other is a 404 (``Http404``, which
    the API answers as a problem), as if it did not exist: ids reveal nothing."""
    return get_object_or_404(visible_appointments(user), pk=pk)


def starting_on_local_date(appointments: AppointmentQuerySet, day: dt.date) -> AppointmentQuerySet:
    """Those of ``appointments`` that start on ``day`` in their own clinic's zone (one
    deployment's clinics may differ): one UTC range per clinic, in one query."""
    on_day = Q(pk__in=[])  # matches nothing: no clinic, no appointment
    for clinic_id, zone_name in Clinic.objects.values_list("pk", "timezone"):
        start, end = local_day_bounds(day, day, ZoneInfo(zone_name))
        on_day |= Q(doctor__clinic_id=clinic_id, starts_at__gte=start, starts_at__lt=end)
    return appointments.filter(on_day)


# Past and cancelled appointments per page of "My appointments": the list grows with
# every visit, the page must not.
PAST_PER_PAGE = 20
# Booked ones still ahead are few (each clinic's max_upcoming_per_patient), but a bound
# keeps the page's size fixed whatever the clinics allow.
MAX_UPCOMING_SHOWN = 50


class ListedName(NamedTuple):
    name: str


class ListedClinic(NamedTuple):
    name: str
    timezone: str


class ListedPerson(NamedTuple):
    full_name: str


@dataclass(frozen=True, slots=True)
class ListedAppointment:
    """One row of My appointments: what the list shows of an appointment and no more,
    read as plain values (no model instances, nothing decrypted), under the names the
    templates use for an appointment."""

    pk: int
    starts_at: dt.datetime
    status: str
    doctor: ListedName
    appointment_type: ListedName
    clinic: ListedClinic
    dependant: ListedPerson | None

    @property
    def is_cancelled(self) -> bool:
        return self.status in CANCELLED_STATUSES

    def get_status_display(self) -> str:
        return str(Status(self.status).label)


# The fields of a ListedAppointment, in its order, by the table they are read from:
# a(ppointment), d(octor), t(ype), c(linic), p(erson the visit is for: a dependant).
LISTED_FIELDS = (
    ("a", Appointment, "id"),
    ("a", Appointment, "starts_at"),
    ("a", Appointment, "status"),
    ("d", Doctor, "name"),
    ("t", AppointmentType, "name"),
    ("c", Clinic, "name"),
    ("c", Clinic, "timezone"),
    ("p", Dependant, "full_name"),
)


def _listed(row: tuple[Any, ...]) -> ListedAppointment:
    pk, starts_at, status, doctor, kind, clinic, zone, person = row
    return ListedAppointment(
        pk=pk,
        starts_at=starts_at,
        status=status,
        doctor=ListedName(doctor),
        appointment_type=ListedName(kind),
        clinic=ListedClinic(clinic, zone),
        dependant=None if person is None else ListedPerson(person),
    )


@dataclass(frozen=True, slots=True)
class PastPage:
    """One page of a patient's past and cancelled appointments, newest first."""

    appointments: list[ListedAppointment]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def patient_appointments(
    user: User, now: dt.datetime, *, page: object = None
) -> tuple[list[ListedAppointment], PastPage]:
    """The appointments of ``user``'s patient profile (none without one) as two lists,
    (upcoming, a page of the rest): booked ones still ahead, soonest first (at most
    ``MAX_UPCOMING_SHOWN``); then past and cancelled ones, newest first, ``PAST_PER_PAGE``
    a page (``page``: the number asked for; anything but a whole number from 1 is the
    first). One query however many appointments there are: no count, one more row than
    a page says whether another follows."""
    # The list shows only these columns: read as values, they cost no model instances
    # and decrypt nothing (the reasons are not shown), and they are all the rendered
    # rows depend on (views.appointment_list keys the rendered list by them).
    # By the user, joined to the profile: the profile's own row (and its encrypted
    # columns) is not read.
    number = page_number(page)
    connection = connections[router.db_for_read(Appointment)]
    sql, columns = _listed_query(connection)
    at = Appointment._meta.get_field("starts_at").get_db_prep_value(now, connection)
    booked = Status.BOOKED.value
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *(user.pk, booked, at, MAX_UPCOMING_SHOWN),
                *(user.pk, booked, at, PAST_PER_PAGE + 1, (number - 1) * PAST_PER_PAGE),
            ],
        )
        raw_rows = cursor.fetchall()
    upcoming: list[ListedAppointment] = []
    rest: list[ListedAppointment] = []
    for part, *row in raw_rows:
        (upcoming if part == 0 else rest).append(_listed(converted(row, columns, connection)))
    # A UNION ALL promises no order of its own: each part is sorted again here.
    upcoming.sort(key=lambda each: (each.starts_at, each.pk))
    rest.sort(key=lambda each: (each.starts_at, each.pk), reverse=True)
    return upcoming, PastPage(rest[:PAST_PER_PAGE], number, len(rest) > PAST_PER_PAGE)


# By database vendor: the text of patient_appointments' query and its columns.
_listed_queries: dict[str, tuple[str, list[Column]]] = {}


def _listed_query(connection: BaseDatabaseWrapper) -> tuple[str, list[Column]]:
    """The upcoming ones and a page of the rest, in ONE hand-written query (clinic/sql.py):
    the ORM took about five times as long to build and compile its two queries as the
    database took to answer them. Parameters: the user, "booked" and now, the bound;
    again, and the page's offset."""
    if connection.vendor not in _listed_queries:
        columns = [
            column(connection, alias, concrete_field(model, name))
            for alias, model, name in LISTED_FIELDS
        ]
        selected = ", ".join(f"{each.sql} AS v{number}" for number, each in enumerate(columns))
        # exclude() had negated the conjunction: NOT (booked AND ahead) is the rest.
        # Names from the models' metadata, quoted; the values are parameters.
        joined = (
            f"FROM {table(Appointment, connection)} a "
            f"JOIN {table(Patient, connection)} me ON me.id = a.patient_id "
            f"JOIN {table(Doctor, connection)} d ON d.id = a.doctor_id "
            f"JOIN {table(Clinic, connection)} c ON c.id = d.clinic_id "
            f"JOIN {table(AppointmentType, connection)} t ON t.id = a.appointment_type_id "
            f"LEFT JOIN {table(Dependant, connection)} p ON p.id = a.dependant_id "
            "WHERE me.user_id = %s AND "
        )
        sql = (
            f"SELECT * FROM (SELECT 0 AS part, {selected} {joined}"  # noqa: S608
            "a.status = %s AND a.starts_at > %s ORDER BY a.starts_at, a.id LIMIT %s) upcoming "
            f"UNION ALL SELECT * FROM (SELECT 1 AS part, {selected} {joined}"
            "NOT (a.status = %s AND a.starts_at > %s) "
            "ORDER BY a.starts_at DESC, a.id DESC LIMIT %s OFFSET %s) rest"
        )
        _listed_queries[connection.vendor] = (sql, columns)
    return _listed_queries[connection.vendor]


class ShownAppointment(NamedTuple):
    """What the API shows of an appointment, as plain values (appointments/api.py
    ``appointment_data``): taken from a model instance (``of``), or read by
    ``own_appointment_rows`` with the reasons still encrypted."""

    id: int
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    doctor_id: int
    doctor_name: str
    clinic_id: int
    clinic_name: str
    clinic_timezone: str
    cancellation_cutoff: dt.timedelta
    type_id: int
    type_name: str
    duration: dt.timedelta
    dependant_id: int | None
    dependant_name: str | None
    relationship: str | None
    reason: str
    cancellation_reason: str
    cancelled_at: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def of(cls, appointment: Appointment) -> "ShownAppointment":
        doctor, kind, person = (
            appointment.doctor,
            appointment.appointment_type,
            appointment.dependant,
        )
        clinic = doctor.clinic
        return cls(
            appointment.pk,
            appointment.status,
            appointment.starts_at,
            appointment.ends_at,
            doctor.pk,
            doctor.name,
            clinic.pk,
            clinic.name,
            clinic.timezone,
            clinic.cancellation_cutoff,
            kind.pk,
            kind.name,
            kind.duration,
            person.pk if person else None,
            person.full_name if person else None,
            person.relationship if person else None,
            appointment.reason,
            appointment.cancellation_reason,
            appointment.cancelled_at,
            appointment.created_at,
        )

    @property
    def change_deadline(self) -> dt.datetime:
        """``Appointment.patient_change_deadline``."""
        return self.starts_at - self.cancellation_cutoff

    def decrypted(self) -> "ShownAppointment":
        """As read by ``own_appointment_rows`` (the reasons as stored), with the reasons."""
        return self._replace(
            reason=decrypted(self.reason, Appointment, "reason"),
            cancellation_reason=decrypted(
                self.cancellation_reason, Appointment, "cancellation_reason"
            ),
        )


class ShownPatient(NamedTuple):
    """What the API shows of an appointment's patient (the phone as stored when read by
    ``own_appointment_rows``)."""

    id: int
    full_name: str
    phone: str
    email: str


@dataclass(frozen=True, slots=True)
class OwnAppointmentRows:
    """The first page of a patient's appointments for the API, as the database holds
    them (``own_appointment_rows``), and how many there are in all. The phone and the
    reasons are still encrypted: as they are, with every other value, they are the key of
    the answer kept whole (appointments/api.py); only a miss decrypts them."""

    patient: ShownPatient
    rows: list[ShownAppointment]
    count: int


# Where each of ShownAppointment's values is read from, by table: a(ppointment),
# d(octor), c(linic), t(ype), p(erson the visit is for). The reasons as stored.
SHOWN_FIELDS = (
    ("a", Appointment, "id"),
    ("a", Appointment, "status"),
    ("a", Appointment, "starts_at"),
    ("a", Appointment, "ends_at"),
    ("d", Doctor, "id"),
    ("d", Doctor, "name"),
    ("c", Clinic, "id"),
    ("c", Clinic, "name"),
    ("c", Clinic, "timezone"),
    ("c", Clinic, "cancellation_cutoff"),
    ("t", AppointmentType, "id"),
    ("t", AppointmentType, "name"),
    ("t", AppointmentType, "duration"),
    ("p", Dependant, "id"),
    ("p", Dependant, "full_name"),
    ("p", Dependant, "relationship"),
    ("a", Appointment, "reason"),
    ("a", Appointment, "cancellation_reason"),
    ("a", Appointment, "cancelled_at"),
    ("a", Appointment, "created_at"),
)
# ShownPatient's: the patient's, as stored (the phone encrypted), and their user's email.
SHOWN_PATIENT_FIELDS = (
    ("me", Patient, "id"),
    ("me", Patient, "full_name"),
    ("me", Patient, "phone"),
    ("u", User, "email"),
)


def own_appointment_rows(user: User, *, limit: int) -> OwnAppointmentRows | None:
    """The first ``limit`` appointments of ``user``'s patient profile, soonest first (as
    ``appointments_of(...).order_by("starts_at", "pk")``), with the profile and the
    count, in ONE query; None when the user has no profile yet (``patient_of`` makes
    it). Nothing is decrypted."""
    connection = connections[router.db_for_read(Appointment)]
    sql, owner_columns, columns = _own_query(connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk, limit])
        raw_rows = cursor.fetchall()
    if not raw_rows:
        return None
    owners = len(owner_columns)
    patient = ShownPatient(*converted(raw_rows[0][:owners], owner_columns, connection))
    count = raw_rows[0][-1]
    rows = [
        ShownAppointment(*converted(row[owners:-1], columns, connection))
        for row in raw_rows
        if count  # else the one row of the LEFT JOIN's nulls
    ]
    return OwnAppointmentRows(patient, rows, count)


def decrypted(value: str, model: type[Any], name: str) -> str:
    """A stored value of the encrypted ``model.name`` (as ``own_appointment_rows`` reads
    it) decrypted, as the field reads it."""
    field = concrete_field(model, name)
    assert isinstance(field, EncryptedMixin), (model, name)
    text: str = field.from_db_value(value, None, connections[router.db_for_read(model)])
    return text


def _stored_column(
    connection: BaseDatabaseWrapper, alias: str, model: type[Any], name: str
) -> Column:
    """The column, its value as the ORM reads it, but encrypted as stored."""
    field = concrete_field(model, name)
    return column(connection, alias, field, as_stored=isinstance(field, EncryptedMixin))


# By database vendor: the text of own_appointment_rows' query and its columns.
_own_queries: dict[str, tuple[str, list[Column], list[Column]]] = {}


def _own_query(connection: BaseDatabaseWrapper) -> tuple[str, list[Column], list[Column]]:
    """Hand-written (clinic/sql.py): the ORM's three queries (the profile, a count, the
    page with its joins) cost about three times the rest of the API's answer to build.
    The profile LEFT JOINed to its appointments: one row of nulls without any, none
    without a profile; the window count is taken before the LIMIT. Parameters: the user,
    the page's size."""
    if connection.vendor not in _own_queries:
        owner_columns = [_stored_column(connection, *each) for each in SHOWN_PATIENT_FIELDS]
        columns = [_stored_column(connection, *each) for each in SHOWN_FIELDS]
        inner = ", ".join(f"{each.sql} AS v{number}" for number, each in enumerate(columns))
        outer = ", ".join(f"r.v{number}" for number in range(len(columns)))
        starts = ShownAppointment._fields.index("starts_at")
        # Names from the models' metadata, quoted; the values are parameters.
        sql = (
            f"SELECT {', '.join(each.sql for each in owner_columns)}, {outer}, "  # noqa: S608
            "COUNT(r.v0) OVER () "
            f"FROM {table(Patient, connection)} me "
            f"JOIN {table(User, connection)} u ON u.id = me.user_id "
            f"LEFT JOIN (SELECT a.patient_id AS owner, {inner} "
            f"FROM {table(Appointment, connection)} a "
            f"JOIN {table(Doctor, connection)} d ON d.id = a.doctor_id "
            f"JOIN {table(Clinic, connection)} c ON c.id = d.clinic_id "
            f"JOIN {table(AppointmentType, connection)} t ON t.id = a.appointment_type_id "
            f"LEFT JOIN {table(Dependant, connection)} p ON p.id = a.dependant_id) r "
            "ON r.owner = me.id "
            f"WHERE me.user_id = %s ORDER BY r.v{starts}, r.v0 LIMIT %s"
        )
        _own_queries[connection.vendor] = (sql, owner_columns, columns)
    return _own_queries[connection.vendor]


def page_number(value: object, *, last: int = 10_000) -> int:
    """A page number from a query string: a whole number from 1 to ``last``, else 1."""
    text = str(value or "")
    if not (text.isdecimal() and len(text) <= len(str(last))):
        return 1
    number = int(text)
    return number if 1 <= number <= last else 1


def can_change_online(appointment: Appointment, now: dt.datetime) -> bool:
    """Whether the patient may still cancel or reschedule ``appointment`` themselves
    (the services refuse it otherwise)."""
    return changeable_online(appointment.status, appointment.patient_change_deadline, now)


def changeable_online(status: str, change_deadline: dt.datetime, now: dt.datetime) -> bool:
    """``can_change_online`` of an appointment's status and ``patient_change_deadline``."""
    return status == Status.BOOKED and now <= change_deadline


def must_call_to_change(appointment: Appointment, now: dt.datetime) -> bool:
    """Booked and not started, but past the cutoff: only the clinic can change it now."""
    return (
        appointment.status == Status.BOOKED
        and appointment.starts_at > now
        and not can_change_online(appointment, now)
    )


@dataclass(frozen=True, slots=True)
class BookingOffer:
    """What a patient is about to book: a type with a doctor at a time."""

    doctor: Doctor
    appointment_type: AppointmentType
    starts_at: dt.datetime

    @property
    def clinic(self) -> Clinic:
        return self.doctor.clinic

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + self.appointment_type.duration

    @property
    def change_deadline(self) -> dt.datetime:
        """Until when the patient could cancel or reschedule it online once booked
        (``Appointment.patient_change_deadline``): the confirm page says so exactly."""
        return self.starts_at - self.clinic.cancellation_cutoff

    @property
    def can_change_online(self) -> bool:
        """Whether, booked now, it could still be changed online: not when the clinic's
        cancellation cutoff is longer than its booking notice and the time is near."""
        return self.change_deadline > timezone.now()


def booking_offer(
    *, doctor_id: int, appointment_type_id: int, starts_at: dt.datetime
) -> BookingOffer:
    """Look up a booking's doctor and type.

    Raises ``Doctor.DoesNotExist`` / ``AppointmentType.DoesNotExist`` for unknown ids and
    ``NotBookable`` for an inactive doctor or type, or a type of another doctor (the
    same refusal ``book_appointment`` makes)."""
    doctor = Doctor.objects.select_related("clinic").get(pk=doctor_id)
    appointment_type = AppointmentType.objects.get(pk=appointment_type_id)
    if (
        not doctor.is_active
        or not appointment_type.is_active
        or appointment_type.doctor_id != doctor.pk
    ):
        raise NotBookable()
    return BookingOffer(doctor=doctor, appointment_type=appointment_type, starts_at=starts_at)


# Longer is not a link this site made: the booking page's address is under 200 characters.
NEXT_URL_MAX_LENGTH = 500


def booking_offer_in_url(url: str | None) -> BookingOffer | None:
    """What the booking page at ``url`` would offer, for the sign-in and profile steps a
    booking passes through on its way there (their ``next``): only for an address of
    this site (a path, no host) that is the booking page with an existing doctor and
    type that can be booked. Anything else (another site, another page, garbage, an
    unknown or retired doctor) is None, never an error: the steps then show nothing."""
    if not url or len(url) > NEXT_URL_MAX_LENGTH:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    if match.view_name != "appointments:book":
        return None
    query = BookingQueryForm(QueryDict(parts.query))
    if not query.is_valid():
        return None
    try:
        return booking_offer(
            doctor_id=query.cleaned_data["doctor"],
            appointment_type_id=query.cleaned_data["type"],
            starts_at=query.cleaned_data["start"],
        )
    except (Doctor.DoesNotExist, AppointmentType.DoesNotExist, NotBookable):
        return None


def offer_is_free(offer: BookingOffer, now: dt.datetime | None = None) -> bool:
    """Whether ``offer`` is one of the free slots patients are shown right now."""
    local_day = offer.starts_at.astimezone(offer.clinic.zone).date()
    slots = doctor_free_slots(
        doctor=offer.doctor,
        appointment_type=offer.appointment_type,
        first_day=local_day,
        last_day=local_day,
        now=now,
    )
    return any(slot.start == offer.starts_at for slot in slots)


def is_free_to_move_to(
    appointment: Appointment, starts_at: dt.datetime, now: dt.datetime | None = None
) -> bool:
    """Whether ``starts_at`` is one of the free times the patient is offered for moving
    ``appointment`` (its own time left out of the booked ones), as the reschedule page
    shows them: the confirm step asks only about a time the service would take."""
    clinic = appointment.doctor.clinic
    local_day = starts_at.astimezone(clinic.zone).date()
    slots = doctor_free_slots(
        doctor=appointment.doctor,
        appointment_type=appointment.appointment_type,
        first_day=local_day,
        last_day=local_day,
        ignore_appointment_id=appointment.pk,
        now=now,
    )
    return any(slot.start == starts_at for slot in slots)


def own_booking_of(patient: Patient, offer: BookingOffer) -> Appointment | None:
    """The patient's booked appointment at the offer's time with the offer's doctor, if
    they made it already (Back after booking, a second tab): the booking page says "you
    have booked this time" rather than "taken"."""
    return (
        Appointment.objects.filter(
            patient=patient,
            doctor=offer.doctor,
            starts_at=offer.starts_at,
            status=Status.BOOKED,
        )
        .order_by("pk")
        .first()
    )
