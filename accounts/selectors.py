"""Reads about staff: their authenticator app, and which clinics they work for.

The staff pages show and change only what belongs to these clinics; every staff view that
takes a clinic (or something of a clinic's) from the URL checks ``staff_can_access``.
"""

from typing import TypeGuard

from django.contrib.auth.models import AnonymousUser
from django.db.models import OuterRef, QuerySet, Subquery
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Patient, StaffMembership, User
from scheduling.models import Clinic


def confirmed_authenticator(user: User) -> TOTPDevice | None:
    """The authenticator app ``user`` signs in with, if one has been set up."""
    device: TOTPDevice | None = (
        TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    )
    return device


def patient_of(user: User) -> Patient:
    """The patient profile of ``user``, made on first use (after the first sign-in)."""
    patient, _created = Patient.objects.get_or_create(user=user)
    return patient


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


def _is_active_staff(user: User | AnonymousUser) -> TypeGuard[User]:
    return isinstance(user, User) and user.is_active and user.is_staff
