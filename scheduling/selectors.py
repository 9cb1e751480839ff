"""Reads of scheduling data: who works where, doctors and their hours.

What is free (hours minus bookings) is the appointments app's business
(``appointments.free_times``); this module only says when doctors work.
"""

import datetime as dt
import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard, overload
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Count, Field, OuterRef, Prefetch, Q, QuerySet, Subquery, Window
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language

from accounts.models import User
from scheduling.availability import BookingWindow, DateHours, DoctorHours, LocalPeriod, WeeklyHours
from scheduling.languages import (
    language_name,
    language_names,
    parse_languages,
    spoken_language_filter,
)
from scheduling.models import (
    AppointmentType,
    Clinic,
    Doctor,
    ExtraHours,
    StaffMembership,
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


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def local_today(clinic: Clinic, now: dt.datetime | None = None) -> dt.date:
    """Today's date on the clinic's wall clock."""
    return (now or timezone.now()).astimezone(clinic.zone).date()


# --- Who works where: the staff pages' and the staff API's one way in ---------------------


def staff_clinics(user: User | AnonymousUser) -> QuerySet[Clinic]:
    """The clinics ``user`` works for, by name, each annotated with ``staff_role``: the
    user's role there (a ``StaffRole`` value), or None for a superuser who is no member.

    Superusers get every clinic; anyone who is not active staff gets none."""
    if not _is_active_staff(user):
        return Clinic.objects.none()
    role = StaffMembership.objects.filter(user=user, clinic=OuterRef("pk")).values("role")
    clinics = Clinic.objects.annotate(staff_role=Subquery(role[:1])).order_by("name", "pk")
    if user.is_superuser:
        return clinics
    return clinics.filter(staff_memberships__user=user)


def staff_can_access(user: User | AnonymousUser, clinic: Clinic) -> bool:
    """Whether ``user`` may see and act on ``clinic``'s data in the staff pages."""
    if not _is_active_staff(user):
        return False
    if user.is_superuser:
        return True
    return StaffMembership.objects.filter(user=user, clinic=clinic).exists()


def staff_doctors(user: User | AnonymousUser) -> QuerySet[Doctor]:
    """The doctors of the clinics ``user`` works for, with their clinic."""
    return Doctor.objects.filter(clinic__in=staff_clinics(user).values("pk")).select_related(
        "clinic"
    )


def staff_doctor_or_404(user: User | AnonymousUser, doctor_id: int) -> Doctor:
    """The doctor ``doctor_id`` of a clinic ``user`` works for: the one way the staff
    pages and the staff API fetch a doctor. Any other doctor is a 404 (``Http404``, which
    the API answers as a problem): staff of one clinic need not learn which ids exist in
    another."""
    return get_object_or_404(staff_doctors(user), pk=doctor_id)


def _is_active_staff(user: User | AnonymousUser) -> TypeGuard[User]:
    return isinstance(user, User) and user.is_active and user.is_staff


# --- Hours ----------------------------------------------------------------------------------


def load_hours(
    doctor_ids: Iterable[int], first_day: dt.date, last_day: dt.date
) -> dict[int, DoctorHours]:
    """Each doctor's weekly hours, and the extra hours and time off that touch the local
    dates ``first_day`` through ``last_day``, by doctor id: three queries however many
    doctors. The one loader of hours, for free times, conflicts and the calendar."""
    ids = list(doctor_ids)
    weekly: dict[int, list[WeeklyHours]] = defaultdict(list)
    for doctor_id, weekday, start, end in WeeklyAvailability.objects.filter(
        doctor_id__in=ids
    ).values_list("doctor_id", "weekday", "start_time", "end_time"):
        weekly[doctor_id].append(WeeklyHours(weekday, start, end))
    extra: dict[int, list[DateHours]] = defaultdict(list)
    for doctor_id, day, start, end in ExtraHours.objects.filter(
        doctor_id__in=ids, date__range=(first_day, last_day)
    ).values_list("doctor_id", "date", "start_time", "end_time"):
        extra[doctor_id].append(DateHours(day, start, end))
    time_off: dict[int, list[LocalPeriod]] = defaultdict(list)
    for period in TimeOff.objects.filter(
        doctor_id__in=ids, start_date__lte=last_day, end_date__gte=first_day
    ):
        time_off[period.doctor_id].append(LocalPeriod(period.local_start, period.local_end))
    return {
        doctor_id: DoctorHours(weekly[doctor_id], extra[doctor_id], time_off[doctor_id])
        for doctor_id in ids
    }


def doctor_hours(doctor: Doctor, first_day: dt.date, last_day: dt.date) -> DoctorHours:
    """``load_hours`` for one doctor."""
    return load_hours([doctor.pk], first_day, last_day)[doctor.pk]


# --- Finding a doctor -------------------------------------------------------------------


# The default type first: the doctor's first-visit type if one is marked, else (as
# before there was one) the shortest. The rest in the model's order.
DEFAULT_TYPE_FIRST = ("-is_first_visit", "duration", "name")


def active_types_prefetch() -> "Prefetch[str, QuerySet[AppointmentType], str]":
    return Prefetch(
        "appointment_types",
        queryset=AppointmentType.objects.filter(is_active=True).order_by(*DEFAULT_TYPE_FIRST),
        to_attr="active_types",
    )


def bookable_doctors() -> QuerySet[Doctor]:
    """Active doctors with their clinic and their active appointment types (the
    default first, see ``active_types``), in two queries however many there are."""
    return (
        Doctor.objects.filter(is_active=True)
        .select_related("clinic")
        .prefetch_related(active_types_prefetch())
    )


@dataclass(frozen=True, slots=True)
class DoctorFacts:
    """A bookable doctor read in one query, and a digest of every column of it, its
    clinic and its active types: the part of a kept answer's key (clinic/answers.py) that
    stands for the doctor's page or free times. The version (bookings, hours, time off,
    types) is one of those columns, the clinic's zone, notice and horizon others."""

    doctor: Doctor
    digest: str


def bookable_doctor_facts(doctor_id: int) -> DoctorFacts | None:
    """The active doctor ``doctor_id`` as ``bookable_doctors()`` gives it (clinic and
    ``active_types`` in place), in ONE hand-written query instead of two: the doctor and
    clinic rows joined to the active types (one row each, the default first; one row of
    nulls without any). None when there is no such active doctor.

    Hand-written because the ORM took longer to build this query (a filtered join of 29
    columns) than the database took to answer it; the columns and the converters of
    their values (durations are microseconds on SQLite) are the models' own."""
    if not 0 < doctor_id <= BIGGEST_ID:  # no such row, and no such integer for the database
        return None
    connection = connections[router.db_for_read(Doctor)]
    sql, converters = _facts_query(connection.vendor, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [True, doctor_id, True])
        raw_rows = cursor.fetchall()
    if not raw_rows:
        return None
    rows = [
        tuple(
            _converted(value, column, connection)
            for value, column in zip(row, converters, strict=True)
        )
        for row in raw_rows
    ]
    doctor_fields, clinic_fields, type_fields = _FACTS_FIELDS
    first, clinic_end = len(doctor_fields), len(doctor_fields) + len(clinic_fields)
    db = connection.alias
    doctor = Doctor.from_db(db, [f.attname for f in doctor_fields], rows[0][:first])
    doctor.clinic = Clinic.from_db(
        db, [f.attname for f in clinic_fields], rows[0][first:clinic_end]
    )
    kinds = []
    for row in rows:
        if row[clinic_end] is None:  # the LEFT JOIN's row of a doctor without active types
            continue
        kind = AppointmentType.from_db(db, [f.attname for f in type_fields], row[clinic_end:])
        kind.doctor = doctor
        kinds.append(kind)
    doctor.active_types = kinds  # type: ignore[attr-defined]  # as active_types_prefetch
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:40]
    return DoctorFacts(doctor=doctor, digest=digest)


# The largest primary key any of the databases can hold (a signed 64-bit integer).
BIGGEST_ID = 2**63 - 1
_FACTS_FIELDS = (
    Doctor._meta.concrete_fields,
    Clinic._meta.concrete_fields,
    AppointmentType._meta.concrete_fields,
)
# By database vendor: the query's text and each column's (expression, converters).
_facts_queries: dict[str, tuple[str, list[tuple[Any, list[Any]]]]] = {}


def _facts_query(
    vendor: str, connection: BaseDatabaseWrapper
) -> tuple[str, list[tuple[Any, list[Any]]]]:
    if vendor not in _facts_queries:
        quote = connection.ops.quote_name
        columns, converters = [], []
        for alias, fields in zip(("d", "c", "t"), _FACTS_FIELDS, strict=True):
            for field in fields:
                columns.append(f"{alias}.{quote(_column_of(field))}")
                column = field.get_col(field.model._meta.db_table)
                converters.append(
                    (
                        column,
                        connection.ops.get_db_converters(column)
                        + column.get_db_converters(connection),
                    )
                )
        type_columns = {field.name: _column_of(field) for field in _FACTS_FIELDS[2]}
        order = ", ".join(
            f"t.{quote(type_columns[name.lstrip('-')])}"
            + (" DESC" if name.startswith("-") else " ASC")
            for name in DEFAULT_TYPE_FIRST
        )
        # Names from the models' metadata, quoted; the values are parameters.
        sql = (
            f"SELECT {', '.join(columns)} "  # noqa: S608
            f"FROM {quote(Doctor._meta.db_table)} d "
            f"JOIN {quote(Clinic._meta.db_table)} c ON c.id = d.clinic_id "
            f"LEFT JOIN {quote(AppointmentType._meta.db_table)} t "
            f"ON t.doctor_id = d.id AND t.is_active = %s "
            f"WHERE d.id = %s AND d.is_active = %s ORDER BY {order}"
        )
        _facts_queries[vendor] = (sql, converters)
    return _facts_queries[vendor]


def _column_of(field: "Field[Any, Any]") -> str:
    assert field.column is not None  # a concrete field's
    return field.column


def _converted(
    value: object, column: tuple[Any, list[Any]], connection: BaseDatabaseWrapper
) -> object:
    expression, converters = column
    for converter in converters:
        value = converter(value, expression, connection)
    return value


def active_type_rows(doctor_ids: Iterable[int]) -> dict[int, list[tuple[int, str, dt.timedelta]]]:
    """(id, name, duration) of each doctor's active types, by doctor id, in
    ``active_types``' order: one query, no model instances (the lists' lean path)."""
    rows: dict[int, list[tuple[int, str, dt.timedelta]]] = defaultdict(list)
    for doctor_id, pk, name, duration in (
        AppointmentType.objects.filter(doctor_id__in=list(doctor_ids), is_active=True)
        .order_by("doctor_id", *DEFAULT_TYPE_FIRST)
        .values_list("doctor_id", "pk", "name", "duration")
    ):
        rows[doctor_id].append((pk, name, duration))
    return rows


def active_types(doctor: Doctor) -> list[AppointmentType]:
    """The doctor's active appointment types; the first is the one offered by default
    wherever none is chosen (the doctor's page, the search, the booking page's other
    times, the API, booking by phone): the first-visit type if the doctor has one
    marked, else the shortest."""
    prefetched: list[AppointmentType] | None = getattr(doctor, "active_types", None)
    if prefetched is None:
        return list(doctor.appointment_types.filter(is_active=True).order_by(*DEFAULT_TYPE_FIRST))
    return prefetched


def find_doctors(
    *, name: str = "", specialty: str = "", clinic_slug: str = "", language: str = ""
) -> QuerySet[Doctor]:
    """Bookable doctors whose name contains ``name``, of ``specialty``, in the clinic
    ``clinic_slug``, who speak ``language`` (an ISO 639-1 code; an unknown one finds
    nobody), by surname; an empty argument does not filter."""
    doctors = bookable_doctors()
    if name:
        doctors = doctors.filter(name__icontains=name)
    if specialty:
        doctors = doctors.filter(specialty=specialty)
    if clinic_slug:
        doctors = doctors.filter(clinic__slug=clinic_slug)
    if language:
        if language not in language_names():
            return doctors.none()
        doctors = doctors.filter(spoken_language_filter(language))
    return doctors.order_by("sort_name", "pk")


# --- What the search forms offer: the catalogue ---------------------------------------------

# Every search form and list offers the clinics, specialties, spoken languages and type
# names of the active doctors, and they change when a clinic or a doctor is added or
# edited, a few times a year: each process keeps what it read for this long. A change
# shows at once in the process that saved it (the signals in apps.py drop the copy), and
# in the others within ``settings.CATALOGUE_CHECK_SECONDS``: the save announces itself
# in the shared cache after its commit (``CATALOGUE_VERSION_KEY``), and each process asks
# for that at most so often; at the latest within this long (a change no signal tells
# of: a queryset update). The doctors and times a search finds are never read from this
# copy.
CATALOGUE_SECONDS = 30.0
CATALOGUE_VERSION_KEY = "catalogue-version"


@dataclass(frozen=True, slots=True)
class Catalogue:
    clinics: tuple[Clinic, ...]  # by pk, each with ``doctor_count`` (its active doctors)
    clinics_by_name: tuple[Clinic, ...]  # the same, in the model's order (by name)
    specialty_counts: tuple[tuple[str, int], ...]
    language_codes: frozenset[str]
    type_names: tuple[str, ...]


# (until when it is kept, the catalogue, the shared version it was read under, when the
# shared version was last asked for)
_catalogue: tuple[float, Catalogue, object, float] | None = None


def catalogue() -> Catalogue:
    """The clinics (by pk) and what the active doctors offer, read at most every
    ``CATALOGUE_SECONDS`` by each process (four queries), and again as soon as it finds
    that another process has changed them (see ``CATALOGUE_SECONDS``)."""
    global _catalogue
    now = time.monotonic()
    check_every = settings.CATALOGUE_CHECK_SECONDS
    if _catalogue is not None and _catalogue[0] > now:
        until, kept, version, checked_at = _catalogue
        if not check_every or now - checked_at < check_every:
            return kept
        if cache.get(CATALOGUE_VERSION_KEY) == version:
            _catalogue = (until, kept, version, now)
            return kept
    # The version first: a change committed while the rows are read is read again.
    version = cache.get(CATALOGUE_VERSION_KEY) if check_every else None
    _catalogue = (now + CATALOGUE_SECONDS, _read_catalogue(), version, now)
    return _catalogue[1]


def forget_catalogue(**_: object) -> None:
    """Drop this process's copy; the signals of apps.py call it for every save and
    delete of a clinic, doctor or type, and then announce the change to the other
    processes once it is committed (before, one of them could read the old rows under
    the new version and keep them)."""
    global _catalogue
    _catalogue = None
    if settings.CATALOGUE_CHECK_SECONDS:
        transaction.on_commit(_announce_catalogue_change)


def _announce_catalogue_change() -> None:
    cache.set(CATALOGUE_VERSION_KEY, uuid.uuid4().hex, None)


_catalogue_digest: tuple[Catalogue, str] | None = None


def catalogue_digest() -> str:
    """A short digest of everything in this process's catalogue: part of the key of an
    answer kept whole whose search form offers it (another process may hold another
    copy for up to ``CATALOGUE_SECONDS``; its answers get other keys)."""
    global _catalogue_digest
    current = catalogue()
    if _catalogue_digest is None or _catalogue_digest[0] is not current:
        shown = (
            tuple(
                (
                    clinic.pk,
                    clinic.name,
                    clinic.slug,
                    clinic.timezone,
                    # What the home page shows of each clinic (``scheduling.views.home``).
                    clinic.phone,
                    clinic.address,
                    clinic.email,
                    clinic.doctor_count,  # type: ignore[attr-defined]  # annotated
                )
                for clinic in current.clinics_by_name
            ),
            current.specialty_counts,
            tuple(sorted(current.language_codes)),
            current.type_names,
        )
        _catalogue_digest = (current, hashlib.sha256(repr(shown).encode()).hexdigest()[:32])
    return _catalogue_digest[1]


# What a list of doctors shows of each and what their next free times depend on, for the
# key of an answer kept whole, read in one query. The types
# shown and the free times stand behind ``availability_version``, which every change of
# them bumps in its own transaction.
LISTED_DOCTOR_KEY_COLUMNS = (
    "pk",
    "availability_version",
    "name",
    "specialty",
    "languages",
    "clinic_id",
    "clinic__name",
    "clinic__timezone",
    "clinic__min_notice",
    "clinic__booking_horizon",
)


@dataclass(frozen=True, slots=True)
class DoctorFilters:
    """What a list or search of doctors filters on: ``find_doctors``' arguments, and the
    clinic by id (the API's). Hashable: it keys the compiled queries below."""

    name: str = ""
    specialty: str = ""
    clinic_slug: str = ""
    clinic_id: int | None = None
    language: str = ""

    def doctors(self) -> QuerySet[Doctor]:
        doctors = find_doctors(
            name=self.name,
            specialty=self.specialty,
            clinic_slug=self.clinic_slug,
            language=self.language,
        )
        if self.clinic_id is not None:
            doctors = doctors.filter(clinic_id=self.clinic_id)
        return doctors


def listed_doctor_rows(
    filters: DoctorFilters, columns: tuple[str, ...]
) -> tuple[tuple[Any, ...], ...]:
    """``filters.doctors().values_list(*columns)`` as a tuple of rows, in its order: one
    query, compiled once per process (``_listing_rows``)."""
    return tuple(_listing_rows(filters, columns, None))


class ListedDoctorRows:
    """A page of ``filters.doctors()`` as rows of ``columns``, for a ``Paginator``: its
    ``count()`` (which the paginator asks first) reads the page that will be asked for
    (``page``, the request's page number; per ``per_page``) and the count together, in
    one query (``COUNT(*) OVER ()``); the paginator's slice of that page is then served
    from what was read. Another slice (a page number out of range, "last") is read on
    its own, and so is the count when the page asked for is beyond the end."""

    def __init__(
        self, filters: DoctorFilters, columns: tuple[str, ...], *, page: object, per_page: int
    ) -> None:
        self.filters, self.columns, self.per_page = filters, columns, per_page
        self._offset = (_page_number(page, per_page) - 1) * per_page
        self._rows: list[tuple[Any, ...]] | None = None
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            window = (self._offset, self.per_page)
            memory = (router.db_for_read(Doctor), self.filters)
            if _counts_seen.get(memory, 0) > LONG_LISTING:
                # Thousands of doctors: the window function would sort them all to count
                # them (13 ms for 10,000, against 5 ms for the COUNT and 0.2 ms for the
                # page read apart, on PostgreSQL). Both still read on every request.
                self._rows = _listing_rows(self.filters, self.columns, window, counted=False)
                self._count = self.filters.doctors().count()
            else:
                rows = _listing_rows(self.filters, self.columns, window)
                if rows:
                    self._count = rows[0][-1]
                elif self._offset == 0:  # not even a first row: nobody
                    self._count = 0
                else:  # beyond the end: the paginator goes on with the count alone
                    self._count = self.filters.doctors().count()
                self._rows = [row[:-1] for row in rows]
            if len(_counts_seen) >= MAX_COMPILED_LISTINGS:
                _counts_seen.clear()
            _counts_seen[memory] = self._count
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self[0 : self.count()])

    @overload
    def __getitem__(self, wanted: int) -> tuple[Any, ...]: ...
    @overload
    def __getitem__(self, wanted: slice) -> list[tuple[Any, ...]]: ...
    def __getitem__(self, wanted: int | slice) -> tuple[Any, ...] | list[tuple[Any, ...]]:
        if isinstance(wanted, int):
            return self[wanted : wanted + 1][0]
        # A paginator asks for [bottom:top] of a page, top cut at the count.
        assert wanted.stop is not None
        assert not wanted.step
        self.count()
        assert self._rows is not None
        start, stop = wanted.start or 0, wanted.stop
        if start == self._offset and stop - start <= self.per_page:
            return self._rows[: stop - start]
        return _listing_rows(self.filters, self.columns, (start, stop - start), counted=False)


# Past this many doctors a listing's page and count are read apart (``count``): what each
# process last counted for a set of filters decides, so the first request of a long
# listing still reads both at once.
LONG_LISTING = 1_000
_counts_seen: dict[tuple[str, "DoctorFilters"], int] = {}


def forget_listing_counts() -> None:
    """Forget what this process counted (for tests: their rows are rolled back)."""
    _counts_seen.clear()


def _page_number(page: object, per_page: int) -> int:
    """The page number a paginator will take from ``page``: an integer of at least 1 as
    it is (``Paginator.validate_number``), anything else the first page's (a guess: the
    paginator falls back to the first or the last page, which is then read apart). A
    page whose offset no database integer holds is past the end: the first page's too."""
    try:
        if isinstance(page, float) and not page.is_integer():
            return 1
        number = int(page)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return 1
    return number if 1 <= number <= BIGGEST_ID // per_page else 1


# The compiled listing queries, by (database alias, filters, columns, window, counted):
# (SQL, parameters, each column's converters), or None for a query that finds nobody
# (an unknown language). The ORM took longer to build these queries (joins, ordering,
# the count's aggregation) than the database took to answer them; the SQL of a set of
# filters never changes while the code does not, so each process compiles it once and
# runs it again on every request (the rows themselves are read every time). Free-text
# searches make new entries: past this many the whole store is dropped and refilled.
MAX_COMPILED_LISTINGS = 500
_compiled_listings: dict[tuple[object, ...], tuple[str, tuple[Any, ...], list[Any]] | None] = {}


def _listing_rows(
    filters: DoctorFilters,
    columns: tuple[str, ...],
    window: tuple[int, int] | None,
    *,
    counted: bool = True,
) -> list[tuple[Any, ...]]:
    """The rows of ``columns`` of ``filters.doctors()``, in its order; with ``window``
    (offset, limit) only those, each with the count of all as its last value unless not
    ``counted``."""
    counted = counted and window is not None
    alias = router.db_for_read(Doctor)
    connection = connections[alias]
    key = (alias, filters, columns, window, counted)
    try:  # one lookup: another thread may drop the store between two
        compiled = _compiled_listings[key]
    except KeyError:
        compiled = _compile_listing(alias, filters, columns, window, counted)
        if len(_compiled_listings) >= MAX_COMPILED_LISTINGS:
            _compiled_listings.clear()
        _compiled_listings[key] = compiled
    if compiled is None:
        return []
    sql, params, converters = compiled
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        raw_rows = cursor.fetchall()
    if not converters:
        return [tuple(row) for row in raw_rows]
    rows = []
    for raw in raw_rows:
        row = list(raw)
        for index, (functions, expression) in converters:
            value = row[index]
            for function in functions:
                value = function(value, expression, connection)
            row[index] = value
        rows.append(tuple(row))
    return rows


def _compile_listing(
    alias: str,
    filters: DoctorFilters,
    columns: tuple[str, ...],
    window: tuple[int, int] | None,
    counted: bool,
) -> tuple[str, tuple[Any, ...], list[Any]] | None:
    doctors = filters.doctors().prefetch_related(None)
    names = columns
    if counted:
        doctors = doctors.annotate(listed_count=Window(Count("*")))
        names = (*columns, "listed_count")
    rows = doctors.values_list(*names)
    if window is not None:
        offset, limit = window
        rows = rows[offset : offset + limit]
    compiler = rows.query.get_compiler(using=alias)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    expressions = [selected[0] for selected in compiler.select[: compiler.col_count]]
    converters = list(compiler.get_converters(expressions).items())
    return sql, tuple(params), converters


def _read_catalogue() -> Catalogue:
    active = Doctor.objects.filter(is_active=True)
    codes: set[str] = set()
    # order_by() without fields: the model's ordering would join DISTINCT and make it one
    # row per doctor (10,000 rows with 200 clinics of 50), not one per set of languages.
    for value in (
        active.exclude(languages="").order_by().values_list("languages", flat=True).distinct()
    ):
        codes.update(parse_languages(value))
    type_names = (
        AppointmentType.objects.filter(is_active=True, doctor__is_active=True)
        .order_by()  # as above: one row per name, not per type
        .values_list("name", flat=True)
        .distinct()
    )
    by_name = tuple(
        Clinic.objects.annotate(
            doctor_count=Count("doctors", filter=Q(doctors__is_active=True))
        ).order_by("name", "pk")
    )
    return Catalogue(
        clinics=tuple(sorted(by_name, key=lambda clinic: clinic.pk)),
        clinics_by_name=by_name,
        specialty_counts=tuple(
            active.exclude(specialty="")
            .values_list("specialty")
            .annotate(count=Count("pk"))
            .order_by("specialty")
        ),
        language_codes=frozenset(codes),
        type_names=tuple(sorted(set(type_names), key=str.casefold)),
    )


def clinics() -> list[Clinic]:
    """Every clinic, by pk, from the catalogue."""
    return list(catalogue().clinics)


def clinic_names() -> list[str]:
    return [clinic.name for clinic in catalogue().clinics]


# spoken_languages() by catalogue and active language: sorting the names meant
# translating each of them, every time a search form was made.
_spoken_languages: tuple[Catalogue, dict[str | None, list[tuple[str, Promise | str]]]] | None = None


def spoken_languages() -> list[tuple[str, Promise | str]]:
    """(code, name) of the languages active doctors speak, by name in the active
    language, for the search form; sorted once per catalogue and language."""
    global _spoken_languages
    current = catalogue()
    if _spoken_languages is None or _spoken_languages[0] is not current:
        _spoken_languages = (current, {})
    by_language = _spoken_languages[1]
    language = get_language()
    if language not in by_language:
        named = ((code, language_name(code)) for code in current.language_codes)
        by_language[language] = sorted(named, key=lambda pair: str(pair[1]))
    return list(by_language[language])


def specialty_counts() -> list[tuple[str, int]]:
    """(specialty, number of active doctors) of each specialty, by name."""
    return list(catalogue().specialty_counts)


def specialties() -> list[str]:
    """The specialties of active doctors, for the search form."""
    return [name for name, _count in catalogue().specialty_counts]


def appointment_type_names() -> list[str]:
    """The names of the active types of active doctors, for the search form."""
    return list(catalogue().type_names)
