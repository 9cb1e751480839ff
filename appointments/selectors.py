"""Reads of appointments for the patient pages.

The services in ``services.py`` decide; these only look. Where a page needs to know in
advance whether a service would refuse (to hide a button, to warn before a form is
filled in), the check here mirrors the service's and the service stays the authority.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q

from accounts.models import Patient
from appointments.exceptions import NotBookable
from appointments.models import Appointment, AppointmentQuerySet, Status
from scheduling.models import AppointmentType, Clinic, Doctor
from scheduling.selectors import (
    DaySlots,
    booking_window,
    doctor_free_slots,
    local_day_bounds,
    monday_of,
    week_of_slots,
)

WEEK = dt.timedelta(days=7)


def appointments_of(patient: Patient) -> AppointmentQuerySet:
    """The patient's own appointments, with what every page shows about them."""
    return Appointment.objects.filter(patient=patient).select_related(
        "doctor__clinic", "appointment_type"
    )


def starting_on_local_date(appointments: AppointmentQuerySet, day: dt.date) -> AppointmentQuerySet:
    """Those of ``appointments`` that start on ``day`` in their own clinic's zone (one
    deployment's clinics may differ): one UTC range per clinic, in one query."""
    on_day = Q(pk__in=[])  # matches nothing: no clinic, no appointment
    for clinic_id, zone_name in Clinic.objects.values_list("pk", "timezone"):
        start, end = local_day_bounds(day, day, ZoneInfo(zone_name))
        on_day |= Q(doctor__clinic_id=clinic_id, starts_at__gte=start, starts_at__lt=end)
    return appointments.filter(on_day)


def patient_appointments(
    patient: Patient, now: dt.datetime
) -> tuple[list[Appointment], list[Appointment]]:
    """(upcoming, the rest): booked ones still ahead, soonest first; then past and
    cancelled ones, newest first. Two queries however many appointments there are."""
    mine = appointments_of(patient)
    upcoming = list(mine.upcoming(now).order_by("starts_at"))
    # exclude() with two conditions negates their conjunction: NOT (booked AND ahead).
    rest = list(mine.exclude(status=Status.BOOKED, starts_at__gt=now).order_by("-starts_at"))
    return upcoming, rest


def can_change_online(appointment: Appointment, now: dt.datetime) -> bool:
    """Whether the patient may still cancel or reschedule ``appointment`` themselves
    (the services refuse it otherwise)."""
    return appointment.status == Status.BOOKED and now <= appointment.patient_change_deadline


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


@dataclass(frozen=True, slots=True)
class FreeWeek:
    """One week (Monday to Sunday, the clinic's local dates) of free slots, with the
    neighbouring weeks that can hold bookable times (``None`` where none can)."""

    week_start: dt.date
    days: list[DaySlots]
    previous_week: dt.date | None
    next_week: dt.date | None

    @property
    def has_free_slots(self) -> bool:
        return any(day.slots for day in self.days)


def free_week(
    *,
    doctor: Doctor,
    appointment_type: AppointmentType,
    day: dt.date,
    ignore_appointment_id: int | None = None,
) -> FreeWeek:
    """The week containing the clinic-local date ``day``, moved into the booking window
    (a week before the first or after the last bookable day shows the nearest one)."""
    clinic = doctor.clinic
    window = booking_window(clinic)
    first_week = monday_of(window.earliest.astimezone(clinic.zone).date())
    last_week = monday_of(window.latest.astimezone(clinic.zone).date())
    week_start = min(max(monday_of(day), first_week), last_week)
    days = week_of_slots(
        doctor=doctor,
        appointment_type=appointment_type,
        week_start=week_start,
        ignore_appointment_id=ignore_appointment_id,
    )
    return FreeWeek(
        week_start=week_start,
        days=days,
        previous_week=week_start - WEEK if week_start > first_week else None,
        next_week=week_start + WEEK if week_start < last_week else None,
    )
