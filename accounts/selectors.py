"""Reads about users: a staff member's authenticator app, a patient's profile.

Which clinics a staff member works for is scheduling's business
(``scheduling.selectors.staff_clinics``).
"""

from django.db.models import QuerySet

from accounts.models import Authenticator, Dependant, Patient, User


def confirmed_authenticator(user: User) -> Authenticator | None:
    """The authenticator app ``user`` signs in with, if one has been set up."""
    device: Authenticator | None = (
        Authenticator.objects.filter(user=user, confirmed=True).order_by("pk").first()
    )
    return device


def patient_of(user: User) -> Patient:
    """The patient profile of ``user``, made on first use (after the first sign-in)."""
    # With its user (the same row as ``user``, read with the profile): the API's
    # ``request.user`` may hold only its id and flags (accounts/api_tokens.py).
    patient, _created = Patient.objects.select_related("user").get_or_create(user=user)
    return patient


def dependants_of(patient: Patient) -> QuerySet[Dependant]:
    """The people ``patient`` books for, by name (erased ones are gone from the list)."""
    return patient.dependants.filter(erased_at__isnull=True).order_by("full_name", "pk")


def own_dependant(patient: Patient, dependant_id: int) -> Dependant | None:
    """``patient``'s dependant with this id, or None (someone else's, or erased)."""
    found: Dependant | None = patient.dependants.filter(
        pk=dependant_id, erased_at__isnull=True
    ).first()
    return found
