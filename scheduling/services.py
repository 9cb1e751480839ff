"""Writes of a doctor's availability: weekly intervals, time off, extra hours, types.

Every write of hours records who made it and why in the history (simple-history reads
``_history_user`` and ``_change_reason`` from the instance, on deletes too). Nothing here
touches appointments: a booked appointment that a change leaves outside the doctor's hours
is listed for staff to resolve (``selectors.availability_conflicts``), never cancelled.
"""

import datetime as dt

from django.db.models import F
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from clinic import locking
from clinic.errors import DomainError
from scheduling.availability import WeeklyHours, first_overlap
from scheduling.models import (
    AppointmentType,
    Doctor,
    ExtraHours,
    TimeOff,
    Weekday,
    WeeklyAvailability,
)


class AvailabilityError(DomainError):
    code = "availability_error"
    default_message = _("This change could not be made.")


class EndNotAfterStart(AvailabilityError):
    code = "end_not_after_start"
    default_message = _("The end must be after the start.")


class IntervalOverlaps(AvailabilityError):
    code = "interval_overlaps"
    http_status = 409
    default_message = _("This interval overlaps another one on the same weekday.")


class TimeOffTooLong(AvailabilityError):
    code = "time_off_too_long"
    default_message = _("Time off can last a year at most; add another period after it.")


class LastActiveType(AvailabilityError):
    code = "last_active_type"
    default_message = _(
        "This is the doctor's only active appointment type; add another before retiring it."
    )


class InactiveType(AvailabilityError):
    code = "inactive_type"
    default_message = _("This appointment type is retired: it cannot be offered first.")


def describe_interval(weekday: int, start_time: dt.time, end_time: dt.time) -> str:
    """'Mon 09:00-12:00' ('Mo 09:00-12:00' in German), for messages."""
    return f"{WEEKDAYS_ABBR[weekday]} {start_time:%H:%M}-{end_time:%H:%M}"


def recorded_interval(weekday: int, start_time: dt.time, end_time: dt.time) -> str:
    """'Mon 09:00-12:00' whatever the language, for the audit trail's change reasons,
    which are records (like the appointments' reasons), not messages."""
    return f"{Weekday(weekday).name[:3].title()} {start_time:%H:%M}-{end_time:%H:%M}"


def _lock_doctor(doctor: Doctor) -> Doctor:
    # One lock per doctor serialises every change of their hours and types, so two staff
    # editing at once cannot both pass the overlap (or last-active-type) check. It is also
    # the lock bookings take, so a booking never reads hours half-changed. Every caller
    # changes the doctor's hours or types, so this is where their cached free times are
    # invalidated, in the change's transaction.
    locked = locking.lock_one(Doctor.objects.select_related("clinic").filter(pk=doctor.pk))
    bump_availability_version(doctor_id=locked.pk)
    return locked


def bump_availability_version(*, doctor_id: int) -> None:
    """Mark every cached free time of the doctor stale (``Doctor.availability_version``).
    Call inside the transaction of the change, holding the doctor's row lock: the
    UPDATE takes that row's lock, and taking it here rather than in the lock order
    could deadlock."""
    Doctor.objects.filter(pk=doctor_id).update(availability_version=F("availability_version") + 1)


def _check_interval(
    *,
    doctor: Doctor,
    weekday: int,
    start_time: dt.time,
    end_time: dt.time,
    exclude_pk: int | None = None,
) -> None:
    if end_time <= start_time:
        raise EndNotAfterStart()
    rule = WeeklyAvailability(
        pk=exclude_pk, doctor=doctor, weekday=weekday, start_time=start_time, end_time=end_time
    )
    other = rule.overlapped_by()
    if other is not None:
        raise IntervalOverlaps(
            _("This interval overlaps %(other)s; change or remove that one first.")
            % {"other": describe_interval(other.weekday, other.start_time, other.end_time)}
        )


def _save_with_history(
    instance: ExtraHours | TimeOff | WeeklyAvailability, *, user: User, reason: str
) -> None:
    instance._history_user = user  # type: ignore[union-attr]
    instance._change_reason = reason  # type: ignore[union-attr]
    instance.save()


def _delete_with_history(
    instance: ExtraHours | TimeOff | WeeklyAvailability, *, user: User, reason: str
) -> None:
    instance._history_user = user  # type: ignore[union-attr]
    instance._change_reason = reason  # type: ignore[union-attr]
    instance.delete()


def add_weekly_interval(
    *, doctor: Doctor, weekday: int, start_time: dt.time, end_time: dt.time, changed_by: User
) -> WeeklyAvailability:
    with locking.atomic():
        doctor = _lock_doctor(doctor)
        _check_interval(doctor=doctor, weekday=weekday, start_time=start_time, end_time=end_time)
        rule = WeeklyAvailability(
            doctor=doctor, weekday=weekday, start_time=start_time, end_time=end_time
        )
        reason = f"added {recorded_interval(weekday, start_time, end_time)}"
        _save_with_history(rule, user=changed_by, reason=reason)
    return rule


def change_weekly_interval(
    *, rule: WeeklyAvailability, start_time: dt.time, end_time: dt.time, changed_by: User
) -> WeeklyAvailability:
    with locking.atomic():
        doctor = _lock_doctor(rule.doctor)
        rule = WeeklyAvailability.objects.get(pk=rule.pk)
        _check_interval(
            doctor=doctor,
            weekday=rule.weekday,
            start_time=start_time,
            end_time=end_time,
            exclude_pk=rule.pk,
        )
        before = recorded_interval(rule.weekday, rule.start_time, rule.end_time)
        rule.start_time, rule.end_time = start_time, end_time
        reason = f"changed {before} to {start_time:%H:%M}-{end_time:%H:%M}"
        _save_with_history(rule, user=changed_by, reason=reason)
    return rule


def remove_weekly_interval(*, rule: WeeklyAvailability, changed_by: User) -> None:
    with locking.atomic():
        _lock_doctor(rule.doctor)
        reason = f"removed {recorded_interval(rule.weekday, rule.start_time, rule.end_time)}"
        _delete_with_history(rule, user=changed_by, reason=reason)


def replace_weekly_hours(
    *, doctor: Doctor, intervals: list[tuple[int, dt.time, dt.time]], changed_by: User
) -> list[WeeklyAvailability]:
    """Make ``intervals`` (weekday, start, end) the doctor's whole weekly hours, in one
    transaction: intervals that stay are kept as they are, the others are removed or
    added, each with its own history record. Refused whole if an interval ends before
    it starts or two overlap on one weekday."""
    # Sorted with duplicates kept: the same interval sent twice overlaps itself, as it
    # would when added twice one by one (add_weekly_interval).
    wanted = sorted(intervals)
    for weekday, start_time, end_time in wanted:
        if end_time <= start_time:
            raise EndNotAfterStart(
                _("%(interval)s: the end must be after the start.")
                % {"interval": describe_interval(weekday, start_time, end_time)}
            )
    overlap = first_overlap(WeeklyHours(*interval) for interval in wanted)
    if overlap is not None:
        first, second = overlap
        raise IntervalOverlaps(
            _("%(first)s overlaps %(second)s.")
            % {
                "first": describe_interval(first.weekday, first.start, first.end),
                "second": describe_interval(second.weekday, second.start, second.end),
            }
        )
    with locking.atomic():
        doctor = _lock_doctor(doctor)
        current = {
            (rule.weekday, rule.start_time, rule.end_time): rule
            for rule in doctor.weekly_rules.all()
        }
        for interval, rule in current.items():
            if interval not in wanted:
                reason = f"removed {recorded_interval(*interval)}"
                _delete_with_history(rule, user=changed_by, reason=reason)
        for weekday, start_time, end_time in wanted:
            if (weekday, start_time, end_time) not in current:
                rule = WeeklyAvailability(
                    doctor=doctor, weekday=weekday, start_time=start_time, end_time=end_time
                )
                reason = f"added {recorded_interval(weekday, start_time, end_time)}"
                _save_with_history(rule, user=changed_by, reason=reason)
        return list(doctor.weekly_rules.order_by("weekday", "start_time"))


def add_time_off(
    *,
    doctor: Doctor,
    start_date: dt.date,
    end_date: dt.date,
    start_time: dt.time | None,
    end_time: dt.time | None,
    reason: str,
    changed_by: User,
) -> TimeOff:
    time_off = TimeOff(
        doctor=doctor,
        start_date=start_date,
        end_date=end_date,
        start_time=start_time,
        end_time=end_time,
        reason=reason,
    )
    # The model's rules (TimeOff.clean, which the admin applies), as domain errors.
    if time_off.lasts_no_time():
        raise EndNotAfterStart()
    if time_off.lasts_too_long():
        raise TimeOffTooLong()
    with locking.atomic():
        _lock_doctor(doctor)
        _save_with_history(time_off, user=changed_by, reason=f"added time off {time_off}")
    return time_off


def remove_time_off(*, time_off: TimeOff, changed_by: User) -> None:
    with locking.atomic():
        _lock_doctor(time_off.doctor)
        _delete_with_history(time_off, user=changed_by, reason=f"removed time off {time_off}")


def add_extra_hours(
    *, doctor: Doctor, date: dt.date, start_time: dt.time, end_time: dt.time, changed_by: User
) -> ExtraHours:
    if end_time <= start_time:
        raise EndNotAfterStart()
    hours = ExtraHours(doctor=doctor, date=date, start_time=start_time, end_time=end_time)
    with locking.atomic():
        _lock_doctor(doctor)
        _save_with_history(hours, user=changed_by, reason=f"added extra hours {hours}")
    return hours


def remove_extra_hours(*, extra_hours: ExtraHours, changed_by: User) -> None:
    with locking.atomic():
        _lock_doctor(extra_hours.doctor)
        reason = f"removed extra hours {extra_hours}"
        _delete_with_history(extra_hours, user=changed_by, reason=reason)


def add_appointment_type(*, doctor: Doctor, name: str, duration: dt.timedelta) -> AppointmentType:
    # A new type can become the default one (the shortest) and is listed with the
    # doctor: the lists kept whole stand on the version for the types they show.
    with locking.atomic():
        _lock_doctor(doctor)
        return AppointmentType.objects.create(doctor=doctor, name=name, duration=duration)


def mark_first_visit_type(*, appointment_type: AppointmentType) -> AppointmentType:
    """Make ``appointment_type`` its doctor's first-visit type, the one offered by default
    (``scheduling.selectors.active_types``), and unmark the doctor's other one, in one
    transaction: the database allows at most one per doctor. Marking it again changes
    nothing."""
    with locking.atomic():
        _lock_doctor(appointment_type.doctor)
        appointment_type = AppointmentType.objects.get(pk=appointment_type.pk)
        if not appointment_type.is_active:
            raise InactiveType()
        if appointment_type.is_first_visit:
            return appointment_type
        # Unmarking first: the unique index is checked row by row.
        AppointmentType.objects.filter(
            doctor_id=appointment_type.doctor_id, is_first_visit=True
        ).update(is_first_visit=False)
        appointment_type.is_first_visit = True
        appointment_type.save(update_fields=["is_first_visit"])
    return appointment_type


def deactivate_appointment_type(*, appointment_type: AppointmentType) -> AppointmentType:
    """Retire a type: booked appointments keep pointing at it, new ones cannot use it. A
    retired first-visit type is unmarked, so the default falls back to the shortest."""
    with locking.atomic():
        _lock_doctor(appointment_type.doctor)
        appointment_type = AppointmentType.objects.get(pk=appointment_type.pk)
        if not appointment_type.is_active:
            return appointment_type
        others = AppointmentType.objects.filter(
            doctor_id=appointment_type.doctor_id, is_active=True
        ).exclude(pk=appointment_type.pk)
        if not others.exists():
            raise LastActiveType()
        appointment_type.is_active = False
        appointment_type.is_first_visit = False
        appointment_type.save(update_fields=["is_active", "is_first_visit"])
    return appointment_type
