"""Small factories: each makes one valid object with sensible defaults.

Times: the default clinic is in Europe/Berlin and its doctors work Monday to Friday,
9:00-17:00 local, with a 30-minute consultation as their first appointment type.
"""

import datetime as dt
import itertools
import re
from zoneinfo import ZoneInfo

from django.core import mail
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.models import Authenticator, Dependant, Patient, User
from appointments.models import Appointment
from appointments.services import book_appointment
from scheduling.models import (
    AppointmentType,
    Clinic,
    Doctor,
    StaffMembership,
    StaffRole,
    WeeklyAvailability,
)

_numbers = itertools.count(1)


def make_clinic(**fields) -> Clinic:
    number = next(_numbers)
    defaults = {
        "name": f"Clinic {number}",
        "slug": f"clinic-{number}",
        "timezone": "Europe/Berlin",
        "phone": "+49 30 1234567",
        "address": "Hauptstraße 1, Berlin",
    }
    return Clinic.objects.create(**(defaults | fields))


def make_doctor(
    clinic: Clinic | None = None,
    *,
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4),
    hours: tuple[dt.time, dt.time] = (dt.time(9), dt.time(17)),
    duration: dt.timedelta = dt.timedelta(minutes=30),
    **fields,
) -> Doctor:
    number = next(_numbers)
    doctor = Doctor.objects.create(
        clinic=clinic or make_clinic(),
        **({"name": f"Dr. Test {number}", "specialty": "General practice"} | fields),
    )
    AppointmentType.objects.create(doctor=doctor, name="Consultation", duration=duration)
    for weekday in weekdays:
        WeeklyAvailability.objects.create(
            doctor=doctor, weekday=weekday, start_time=hours[0], end_time=hours[1]
        )
    return doctor


def make_type(doctor: Doctor, minutes: int, name: str = "Other") -> AppointmentType:
    return AppointmentType.objects.create(
        doctor=doctor, name=name, duration=dt.timedelta(minutes=minutes)
    )


def consultation(doctor: Doctor) -> AppointmentType:
    return doctor.appointment_types.order_by("pk").first()  # type: ignore[return-value]


def make_user(email: str | None = None, **fields) -> User:
    return User.objects.create_user(email or f"user{next(_numbers)}@example.com", **fields)


def make_patient(email: str | None = None, **fields) -> Patient:
    user = make_user(email)
    defaults = {
        "full_name": f"Patient {user.pk}",
        "phone": "+49 170 0000000",
        "date_of_birth": dt.date(1980, 1, 1),
    }
    return Patient.objects.create(user=user, **(defaults | fields))


def make_dependant(patient: Patient, full_name: str = "Mia Wolf", **fields) -> Dependant:
    defaults = {"date_of_birth": dt.date(2019, 6, 1), "relationship": "child"}
    return Dependant.objects.create(patient=patient, full_name=full_name, **(defaults | fields))


def local(clinic: Clinic, year: int, month: int, day: int, hour: int, minute: int = 0):
    """An aware datetime at a wall-clock time in the clinic's zone."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(clinic.timezone))


def book(
    patient: Patient,
    doctor: Doctor,
    starts_at: dt.datetime,
    appointment_type: AppointmentType | None = None,
    **kwargs,
) -> Appointment:
    return book_appointment(
        patient=patient,
        doctor=doctor,
        appointment_type=appointment_type or consultation(doctor),
        starts_at=starts_at,
        booked_by=patient.user,
        **kwargs,
    )


def last_emailed_code() -> str:
    """The 6-digit sign-in code in the newest email of Django's test outbox."""
    match = re.search(r"\b(\d{6})\b", str(mail.outbox[-1].body))
    assert match, "no 6-digit code in the last email"
    return match.group(1)


def log_in(client, patient):
    """Log in as a patient whose emailed code has been verified (django-otp's middleware
    lets only verified devices through ``patient_required``)."""
    device = EmailDevice.objects.create(user=patient.user, name="email", confirmed=True)
    client.force_login(patient.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def make_staff(email: str | None = None, *, clinics: tuple[Clinic, ...] = (), **fields) -> User:
    """A staff user (password "staff-password") who is a member of ``clinics``."""
    user = make_user(email, password="staff-password", is_staff=True, **fields)
    for clinic in clinics:
        StaffMembership.objects.create(user=user, clinic=clinic, role=StaffRole.STAFF)
    return user


def make_authenticator(user: User) -> Authenticator:
    """A confirmed authenticator app (TOTP device) for ``user``."""
    device: Authenticator = Authenticator.objects.create(
        user=user, name="Authenticator app", confirmed=True
    )
    return device


def authenticator_of(user: User) -> Authenticator:
    """``user``'s confirmed authenticator, set up now if they have none."""
    device = Authenticator.objects.filter(user=user, confirmed=True).first()
    return device or make_authenticator(user)


def log_in_staff(client, user: User) -> Authenticator:
    """Log in as staff who entered their password and an authenticator code (the admin
    and the staff pages let in only sessions verified by an authenticator)."""
    device = authenticator_of(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
