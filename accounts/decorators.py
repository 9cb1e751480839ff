from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import Patient

View = Callable[..., HttpResponse]


def patient_required(view: View) -> View:
    """Let in patients logged in by emailed code; send others to the login page.

    Staff accounts are refused: they act for patients through the staff pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        user = request.user
        # django-otp's middleware adds is_verified(): true once a code was accepted.
        if not user.is_authenticated or not user.is_verified():  # type: ignore[attr-defined]
            return redirect_to_login(request.get_full_path())
        if user.is_staff:
            raise PermissionDenied("Staff accounts cannot use the patient pages.")
        return view(request, *args, **kwargs)

    return wrapper


def current_patient(request: HttpRequest) -> Patient:
    """The patient profile of the logged-in user (created on first login)."""
    assert request.user.pk is not None, "call only behind patient_required"
    patient, _created = Patient.objects.get_or_create(user_id=request.user.pk)
    return patient
