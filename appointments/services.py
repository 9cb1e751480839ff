"""Booking, cancelling, rescheduling and marking attendance: the only code that writes appointments.

Locking duties, in the one order every function here follows so that no two of them
can deadlock: the patient row, then the doctor row, then the appointment row.

Every change of what is free with a doctor bumps ``Doctor.availability_version`` in its
transaction, holding the doctor's lock (``_changed_free_times``): the version the free
time caches are keyed by (``free_times``). So cancelling and marking attendance lock the
doctor row too, before the appointment row. The services never read those caches: every
check here is made against the database, under the locks.

- The patient lock serializes one patient's bookings (overlap and upcoming-count rules
  read the patient's other appointments).
- The doctor lock serializes bookings of one doctor, so the availability re-check made
  after taking it sees every committed booking.
- Behind both stand the database's overlap guards (``db_guards``): if Python were ever
  wrong, the INSERT or UPDATE fails and is reported as ``SlotUnavailable``.

Every lock is taken through ``clinic.locking``, so no wait is endless: a lock not granted
in time is ``Busy`` ("try again"), never a hang. On SQLite ``select_for_update`` is a
no-op; the database runs in IMMEDIATE transaction mode instead, which takes the
(database-wide) write lock at BEGIN.

Every save records who acted and why in the audit trail (django-simple-history), and
queues the patient's emails in the outbox in the same transaction (``notifications``).
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import phones
from accounts.models import Dependant, Patient, User
from appointments import db_guards, notifications, staff_selectors
from appointments.exceptions import (
    ChangeWindowClosed,
    CorrectionTooLate,
    DayIsOver,
    IdempotencyKeyReused,
    InvalidTransition,
    NotBookable,
    NotStartedYet,
    NotYourDependant,
    ProfileIncomplete,
    ReasonRequired,
    SlotUnavailable,
    TooFarAhead,
    TooSoon,
    overlap_for,
    too_many_upcoming_for,
)
from appointments.free_times import doctor_free_slots
from appointments.models import ACTIVE_STATUSES, Appointment, Notification, Status
from appointments.selectors import SHOWN_WITH
from clinic import locking
from clinic.errors import DomainError
from scheduling import services as scheduling_services
from scheduling.models import AppointmentType, Doctor, TimeOff
from scheduling.selectors import booking_window


def lock_patient_and_doctor(*, patient_id: int, doctor_id: int) -> None:
    """Take the row locks, patient first. A seam the race tests' control disables."""
    locking.lock_in_order(
        Patient.objects.filter(pk=patient_id).only("pk"),
        Doctor.objects.filter(pk=doctor_id).only("pk"),
    )


def _lock_appointment(appointment: Appointment) -> Appointment:
    """The appointment's row, locked (the joined rows it is read with are not), with
    everything an answer about it shows (``selectors.SHOWN_WITH``), so that the caller
    can answer with it as it is after the change, without reading it again."""
    return locking.lock_one(
        Appointment.objects.select_related(*SHOWN_WITH).filter(pk=appointment.pk)
    )


def book_appointment(
    *,
    patient: Patient,
    doctor: Doctor,
    appointment_type: AppointmentType,
    starts_at: dt.datetime,
    reason: str = "",
    booked_by: User | None = None,
    booking_key: str | None = None,
    dependant: Dependant | None = None,
) -> Appointment:
    """Book ``appointment_type`` with ``doctor`` at ``starts_at`` for ``patient``, or,
    with ``dependant``, for one of the people ``patient`` books for (the account holder
    still books, and receives the emails). The overlap and upcoming-count rules hold per
    person: a parent and their child may be seen at the same time, the child not twice.

    With a ``booking_key`` the call is idempotent: a retry with the same key returns the
    appointment the first call made, even if it has since been cancelled.
    """
    if dependant is not None and (
        dependant.patient_id != patient.pk or dependant.erased_at is not None
    ):
        raise NotYourDependant()
    if appointment_type.doctor_id != doctor.pk or not appointment_type.is_active:
        raise NotBookable()
    if not doctor.is_active:
        raise NotBookable()
    if not patient.is_complete:
        raise ProfileIncomplete()
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must be timezone-aware")

    with locking.atomic():
        if booking_key and (earlier := _booked_with_key(patient, booking_key)):
            return _same_booking_or_raise(earlier, doctor, appointment_type, starts_at, dependant)

        # A time already taken is refused before any lock is waited for: when many
        # patients want one slot, all but the first need not queue for the doctor's row.
        # Only ever a refusal; what is accepted is decided under the locks below.
        _refuse_a_taken_slot(doctor=doctor, appointment_type=appointment_type, starts_at=starts_at)
        lock_patient_and_doctor(patient_id=patient.pk, doctor_id=doctor.pk)

        # Re-check everything now that no competing booking can commit.
        if booking_key and (earlier := _booked_with_key(patient, booking_key)):
            return _same_booking_or_raise(earlier, doctor, appointment_type, starts_at, dependant)
        _check_slot(doctor=doctor, appointment_type=appointment_type, starts_at=starts_at)
        ends_at = starts_at + appointment_type.duration
        _check_patient_rules(
            patient=patient,
            dependant=dependant,
            doctor=doctor,
            starts_at=starts_at,
            ends_at=ends_at,
        )

        appointment = Appointment(
            patient=patient,
            dependant=dependant,
            doctor=doctor,
            appointment_type=appointment_type,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason.strip(),
            booked_by=booked_by,
            booking_key=booking_key or None,
        )
        with _guard_violations_as_domain_errors(dependant):
            _audited_save(appointment, actor=booked_by, why="booked")
        _changed_free_times(doctor.pk)
        notifications.queue_for_change(appointment, Notification.Kind.BOOKED)
    return appointment


def cancel_appointment(
    *,
    appointment: Appointment,
    cancelled_by: User | None,
    reason: str = "",
    by_clinic: bool = False,
) -> Appointment:
    """Cancel a booked appointment. Cancelling a cancelled one changes nothing and
    returns it as it is, so a retried cancel is safe. Patients can cancel only until the
    clinic's cutoff; the clinic can cancel any time, and must say why (the patient's
    email tells them)."""
    with locking.atomic():
        # The doctor's row first (the documented order; the appointment's doctor never
        # changes), for the version bump; then the appointment's own row, without the
        # joined doctor and clinic rows, which would take them out of that order.
        lock_doctor(appointment.doctor_id)
        locked = _lock_appointment(appointment)
        if locked.is_cancelled:
            return locked
        if locked.status != Status.BOOKED:
            raise InvalidTransition()
        reason = reason.strip()
        if by_clinic and not reason:
            raise ReasonRequired()
        if not by_clinic:
            _check_change_window(locked)

        locked.status = Status.CANCELLED_BY_CLINIC if by_clinic else Status.CANCELLED_BY_PATIENT
        locked.cancellation_reason = reason
        locked.cancelled_at = timezone.now()
        locked.sequence += 1
        who = "clinic" if by_clinic else "patient"
        _audited_save(
            locked,
            actor=cancelled_by,
            why=f"cancelled by {who}: {reason}" if reason else f"cancelled by {who}",
        )
        _changed_free_times(locked.doctor_id)
        notifications.queue_for_change(locked, Notification.Kind(locked.status))
    return locked


def lock_doctor(doctor_id: int) -> None:
    """The doctor's row lock alone (closing hours). A seam the race tests' control disables."""
    locking.lock_one(Doctor.objects.filter(pk=doctor_id).only("pk"))


@dataclass(frozen=True, slots=True)
class ClosedTime:
    """Time off just added, and what became of the booked appointments inside it: all
    cancelled (``cancelled``), or all still booked (``conflicts``), for staff to move."""

    time_off: TimeOff
    cancelled: list[Appointment]
    conflicts: list[Appointment]


def close_doctor_time(
    *,
    doctor: Doctor,
    start_date: dt.date,
    end_date: dt.date,
    start_time: dt.time | None,
    end_time: dt.time | None,
    reason: str,
    cancel_booked: bool,
    changed_by: User,
) -> ClosedTime:
    """Add time off for ``doctor`` (``scheduling.services.add_time_off``) and, with
    ``cancel_booked``, cancel for the clinic every booked appointment inside it that has
    not started, each patient emailed ``reason``. One transaction: all of it or none.

    The doctor's lock comes first and is held to the commit, so no booking of that doctor
    can commit meanwhile: a booking that committed before is found and cancelled, one
    waiting for the lock re-checks after the commit and finds the hours closed. Then each
    appointment row through ``cancel_appointment`` (savepoints in this transaction): the
    documented order, doctor before appointment; no patient row is locked."""
    reason = reason.strip()
    if cancel_booked and not reason:
        raise ReasonRequired()
    with locking.atomic():
        lock_doctor(doctor.pk)
        time_off = scheduling_services.add_time_off(
            doctor=doctor,
            start_date=start_date,
            end_date=end_date,
            start_time=start_time,
            end_time=end_time,
            reason=reason,
            changed_by=changed_by,
        )
        inside = list(
            staff_selectors.booked_during(doctor=doctor, time_off=time_off, now=timezone.now())
        )
        if not cancel_booked:
            return ClosedTime(time_off=time_off, cancelled=[], conflicts=inside)
        cancelled = [
            cancel_appointment(
                appointment=appointment, cancelled_by=changed_by, reason=reason, by_clinic=True
            )
            for appointment in inside
        ]
    return ClosedTime(time_off=time_off, cancelled=cancelled, conflicts=[])


def cancel_doctor_day(
    *, doctor: Doctor, day: dt.date, reason: str, cancelled_by: User
) -> list[Appointment]:
    """A sick day: close the rest of ``doctor``'s clinic-local date ``day`` (time off from
    now, or from midnight for a day ahead, to the day's end) and cancel, for the clinic,
    every booked appointment in it that has not started. ``close_doctor_time`` does both
    in one transaction, under the doctor's lock. Raises ``DayIsOver`` for a past day."""
    reason = reason.strip()
    if not reason:
        raise ValueError("a sick day needs a reason: the patients are told it")
    now_local = timezone.now().astimezone(doctor.clinic.zone)
    if day < now_local.date():
        raise DayIsOver()
    # From this minute on (floored: the minute under way is closed too).
    start_time = (
        now_local.time().replace(second=0, microsecond=0) if day == now_local.date() else None
    )
    return close_doctor_time(
        doctor=doctor,
        start_date=day,
        end_date=day,
        start_time=start_time,
        end_time=None,
        reason=reason,
        cancel_booked=True,
        changed_by=cancelled_by,
    ).cancelled


class EmailTaken(DomainError):
    code = "email_taken"
    http_status = 409
    default_message = _(
        "Someone already has an account with this email address. Search for them instead."
    )


def create_patient(
    *, email: str, full_name: str, phone: str, date_of_birth: dt.date, region: str
) -> Patient:
    """Register a patient for the clinic (a booking taken by phone).

    The phone is stored in E.164, read in ``region`` (the clinic's country) when it has
    no country code; ``ValidationError`` if it is no phone number. The account gets an
    unusable password: the patient signs in later with a code emailed to ``email``.
    Raises ``EmailTaken`` when the address is in use, also when a concurrent
    registration wins the race (the unique index decides)."""
    phone = phones.normalise(phone, region)
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email=email).exists():
        raise EmailTaken()
    try:
        with transaction.atomic():
            user = User.objects.create_user(email)  # no password: set unusable
            return Patient.objects.create(
                user=user,
                full_name=full_name.strip(),
                phone=phone,
                date_of_birth=date_of_birth,
            )
    except IntegrityError as error:
        raise EmailTaken() from error


def reschedule_appointment(
    *,
    appointment: Appointment,
    starts_at: dt.datetime,
    rescheduled_by: User | None,
    by_clinic: bool = False,
    reason: str = "",
) -> Appointment:
    """Move a booked appointment to ``starts_at`` with the same doctor and type. The
    clinic (``by_clinic``) may move it at any time, the patient only until the cutoff;
    ``reason`` goes into the audit trail. The patient is emailed the change, with the
    updated invite.

    Atomic: the new time is taken and the old one released in one UPDATE of one row, or
    nothing changes. Moving to the time it already has is a no-op (safe to retry)."""
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must be timezone-aware")

    with locking.atomic():
        lock_patient_and_doctor(patient_id=appointment.patient_id, doctor_id=appointment.doctor_id)
        locked = _lock_appointment(appointment)
        if locked.status != Status.BOOKED:
            raise InvalidTransition()
        if locked.starts_at == starts_at:
            return locked
        if not by_clinic:
            _check_change_window(locked)

        _check_slot(
            doctor=locked.doctor,
            appointment_type=locked.appointment_type,
            starts_at=starts_at,
            ignore_appointment_id=locked.pk,
        )
        ends_at = starts_at + locked.appointment_type.duration
        _check_patient_rules(
            patient=locked.patient,
            dependant=locked.dependant,
            doctor=locked.doctor,
            starts_at=starts_at,
            ends_at=ends_at,
            ignore_appointment_id=locked.pk,
        )

        zone = locked.doctor.clinic.zone
        why = (
            f"rescheduled{' by clinic' if by_clinic else ''} "
            f"from {locked.starts_at.astimezone(zone):%Y-%m-%d %H:%M %Z} "
            f"to {starts_at.astimezone(zone):%Y-%m-%d %H:%M %Z}"
        )
        if reason.strip():
            why += f": {reason.strip()}"
        locked.starts_at, locked.ends_at = starts_at, ends_at
        locked.sequence += 1
        with _guard_violations_as_domain_errors(locked.dependant):
            _audited_save(locked, actor=rescheduled_by, why=why)
        _changed_free_times(locked.doctor_id)
        notifications.queue_for_change(locked, Notification.Kind.RESCHEDULED)
    return locked


# The audit reason recorded for each attendance outcome, and for a same-day correction.
ATTENDANCE_REASONS = {Status.COMPLETED: "marked completed", Status.NO_SHOW: "marked no-show"}
CORRECTION_REASONS = {
    Status.COMPLETED: "corrected to completed (was no-show)",
    Status.NO_SHOW: "corrected to no-show (was completed)",
}


def mark_attendance(
    *, appointment: Appointment, status: Status, marked_by: User | None
) -> Appointment:
    """Record that a booked appointment took place (``COMPLETED``) or that the patient did
    not come (``NO_SHOW``). Only once it has started; no email is sent. A mis-click can be
    corrected (completed to no-show, or back) on the appointment's own day in the
    clinic's zone, audited as a correction; later it stands (``CorrectionTooLate``).

    The slot stays taken either way, so neither the patient's nor the doctor's other
    bookings are read; the doctor's row is locked (before the appointment's) only for the
    version bump. Marking it again with the same outcome changes nothing, so a retried
    POST is safe."""
    if status not in ATTENDANCE_REASONS:
        raise ValueError("status must be COMPLETED or NO_SHOW")
    with locking.atomic():
        lock_doctor(appointment.doctor_id)
        locked = _lock_appointment(appointment)
        if locked.status == status:
            return locked
        if locked.status in CORRECTION_REASONS:
            if not staff_selectors.can_correct_attendance(locked, timezone.now()):
                raise CorrectionTooLate()
            why = CORRECTION_REASONS[status]
        elif locked.status != Status.BOOKED:
            raise InvalidTransition()
        elif locked.starts_at > timezone.now():
            raise NotStartedYet()
        else:
            why = ATTENDANCE_REASONS[status]
        locked.status = status
        locked.sequence += 1
        _audited_save(locked, actor=marked_by, why=why)
        _changed_free_times(locked.doctor_id)
    return locked


def _changed_free_times(doctor_id: int) -> None:
    """The doctor's cached free times are stale from this transaction's commit on. The
    caller holds the doctor's row lock, which the UPDATE needs."""
    scheduling_services.bump_availability_version(doctor_id=doctor_id)


def _booked_with_key(patient: Patient, booking_key: str) -> Appointment | None:
    return Appointment.objects.filter(patient=patient, booking_key=booking_key).first()


def _same_booking_or_raise(
    earlier: Appointment,
    doctor: Doctor,
    appointment_type: AppointmentType,
    starts_at: dt.datetime,
    dependant: Dependant | None,
) -> Appointment:
    if (
        earlier.doctor_id,
        earlier.appointment_type_id,
        earlier.starts_at,
        earlier.dependant_id,
    ) != (doctor.pk, appointment_type.pk, starts_at, dependant.pk if dependant else None):
        raise IdempotencyKeyReused()
    return earlier


def refuse_a_taken_start(*, doctor_id: int, starts_at: dt.datetime) -> None:
    """``SlotUnavailable`` when an active appointment of the doctor covers ``starts_at``
    itself, asked with the ids alone (one indexed query; no patient, doctor or type read,
    no lock, no savepoint) — a booking of any length starting then would overlap it. For
    the many who ask for one time at once (the API calls it first): all but the first
    are refused at a fraction of a full booking's cost. It only ever refuses; whatever it
    lets through, ``book_appointment`` checks in full, under the locks.

    Hand-written (the text made once per database vendor): the ORM took three times as
    long to build this ``EXISTS`` as the database took to answer it. On the primary, as
    every booking path reads."""
    connection = connections[router.db_for_write(Appointment)]
    sql = _TAKEN_START_SQL.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        meta = Appointment._meta
        doctor, status, starts, ends = (
            quote(str(meta.get_field(name).column))  # type: ignore[union-attr]  # concrete
            for name in ("doctor", "status", "starts_at", "ends_at")
        )
        statuses = ", ".join(["%s"] * len(ACTIVE_STATUSES))
        sql = _TAKEN_START_SQL[connection.vendor] = (
            f"SELECT 1 FROM {quote(meta.db_table)} WHERE {doctor} = %s "  # noqa: S608  # names, not values
            f"AND {status} IN ({statuses}) AND {starts} <= %s AND {ends} > %s LIMIT 1"
        )
    at = connection.ops.adapt_datetimefield_value(starts_at)
    with connection.cursor() as cursor:
        cursor.execute(sql, [doctor_id, *(str(s) for s in ACTIVE_STATUSES), at, at])
        if cursor.fetchone() is not None:
            raise SlotUnavailable()


# By database vendor: the text of refuse_a_taken_start's question.
_TAKEN_START_SQL: dict[str, str] = {}


def _refuse_a_taken_slot(
    *, doctor: Doctor, appointment_type: AppointmentType, starts_at: dt.datetime
) -> None:
    """``SlotUnavailable`` when a committed active appointment of ``doctor`` overlaps the
    time (after the window's refusals, in ``_check_slot``'s order): one indexed query, no
    lock. It cannot accept anything, so a booking committed just after it read is still
    caught by ``_check_slot`` under the doctor's lock."""
    window = booking_window(doctor.clinic)
    if starts_at < window.earliest:
        raise TooSoon()
    if starts_at > window.latest:
        raise TooFarAhead()
    ends_at = starts_at + appointment_type.duration
    taken = Appointment.objects.active().filter(doctor_id=doctor.pk).overlapping(starts_at, ends_at)
    if taken.exists():
        raise SlotUnavailable()


def _check_slot(
    *,
    doctor: Doctor,
    appointment_type: AppointmentType,
    starts_at: dt.datetime,
    ignore_appointment_id: int | None = None,
) -> None:
    clinic = doctor.clinic
    window = booking_window(clinic)
    if starts_at < window.earliest:
        raise TooSoon()
    if starts_at > window.latest:
        raise TooFarAhead()
    local_day = starts_at.astimezone(clinic.zone).date()
    slots = doctor_free_slots(
        doctor=doctor,
        appointment_type=appointment_type,
        first_day=local_day,
        last_day=local_day,
        ignore_appointment_id=ignore_appointment_id,
        now=window.now,
    )
    if not any(slot.start == starts_at for slot in slots):
        raise SlotUnavailable()


def _check_patient_rules(
    *,
    patient: Patient,
    dependant: Dependant | None,
    doctor: Doctor,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    ignore_appointment_id: int | None = None,
) -> None:
    """The rules per person: the patient's own appointments, or one dependant's (the
    patient's lock, held by the caller, serializes the whole family's bookings)."""
    # dependant=None filters on "dependant IS NULL": the patient's own appointments.
    others = Appointment.objects.filter(patient=patient, dependant=dependant)
    if ignore_appointment_id is not None:
        others = others.exclude(pk=ignore_appointment_id)
    person = dependant.full_name if dependant else None
    if others.active().overlapping(starts_at, ends_at).exists():
        raise overlap_for(person)
    if ignore_appointment_id is None:
        limit = doctor.clinic.max_upcoming_per_patient
        if others.upcoming(timezone.now()).count() >= limit:
            raise too_many_upcoming_for(person)


def _check_change_window(appointment: Appointment) -> None:
    if timezone.now() > appointment.patient_change_deadline:
        raise ChangeWindowClosed()


def _audited_save(appointment: Appointment, *, actor: User | None, why: str) -> None:
    # simple-history reads these two attributes when it writes the history row.
    appointment._history_user = actor  # type: ignore[attr-defined]
    appointment._change_reason = why  # type: ignore[attr-defined]
    appointment.save()


@contextmanager
def _guard_violations_as_domain_errors(dependant: Dependant | None = None) -> Iterator[None]:
    """Report a violated overlap guard as the domain error it means.

    The savepoint keeps the surrounding transaction usable on PostgreSQL."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        guard = db_guards.violated_guard(error)
        if guard == db_guards.DOCTOR_GUARD:
            raise SlotUnavailable() from error
        if guard == db_guards.PATIENT_GUARD:
            raise overlap_for(dependant.full_name if dependant else None) from error
        raise
