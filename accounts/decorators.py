from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Authenticator, Patient, User
from accounts.otp import verified_device
from accounts.selectors import patient_of

View = Callable[..., HttpResponse]


def to_sign_in(request: HttpRequest, login_url: str | None = None) -> HttpResponse:
    """To the sign-in page, and back to this address afterwards. An htmx request (a form
    or link of a page whose session has ended meanwhile) is told to load it as a whole
    page (``HX-Redirect``): a redirect it followed itself would swap the sign-in page into
    a part of the page it came from."""
    redirect = redirect_to_login(request.get_full_path(), login_url)
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(redirect["Location"])
    return redirect


def patient_required(view: View) -> View:
    """Let in patients logged in by emailed code; send others to the login page.

    Staff accounts are refused: they act for patients through the staff pages."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        user = request.user
        # The OTP middleware (accounts.otp) adds is_verified(): true once a code was accepted.
        if not user.is_authenticated or not user.is_verified():  # type: ignore[attr-defined]
            return to_sign_in(request)
        if user.is_staff:
            raise PermissionDenied("Staff accounts cannot use the patient pages.")
        return view(request, *args, **kwargs)

    return wrapper


def current_patient(request: HttpRequest) -> Patient:
    """The patient profile of the logged-in user (created on first login)."""
    assert isinstance(request.user, User), "call only behind patient_required"
    return patient_of(request.user)


def is_verified_staff(user: User | AnonymousUser) -> bool:
    """Active staff who signed in with their password and their authenticator app.

    A session verified by an emailed code (the patients' second step) does not count,
    even if the account was made staff since."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        # The device that verified the session (accounts.otp: loaded when asked).
        and isinstance(verified_device(user), Authenticator)
    )


def staff_required(view: View) -> View:
    """Let in staff signed in with password and authenticator code (``is_verified_staff``);
    send everyone else to the staff sign-in, which brings them back afterwards."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not is_verified_staff(request.user):
            return to_sign_in(request, reverse("staff:login"))
        return view(request, *args, **kwargs)

    return wrapper
