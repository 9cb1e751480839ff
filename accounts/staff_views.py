"""The staff sign-in: a password, then a code from an authenticator app.

Between the two steps nobody is signed in: the session only remembers whose password was
right, for ``PENDING_LOGIN_MAX_AGE``. Django's ``login()`` runs once both steps passed.
"""

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from accounts import languages, staff_services
from accounts.authenticator import manual_key, qr_code_svg
from accounts.decorators import is_verified_staff
from accounts.forms import AuthenticatorCodeForm, StaffPasswordForm
from accounts.models import Authenticator, User
from accounts.selectors import confirmed_authenticator
from accounts.services import LoginError
from accounts.views import safe_next
from clinic.client_address import client_address

# Long enough to install an authenticator app during a first sign-in.
PENDING_LOGIN_MAX_AGE = dt.timedelta(minutes=15)
SESSION_PENDING_USER = "staff_login_user"
SESSION_PENDING_SINCE = "staff_login_since"
SESSION_ENROLMENT_DEVICE = "staff_login_enrolment_device"
SESSION_NEXT = "staff_login_next"
PENDING_KEYS = (SESSION_PENDING_USER, SESSION_PENDING_SINCE, SESSION_ENROLMENT_DEVICE, SESSION_NEXT)


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if is_verified_staff(request.user):
        return redirect(next_url or settings.STAFF_LOGIN_REDIRECT_URL)
    form = StaffPasswordForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = staff_services.authenticate_staff(
                request=request,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                client_address=client_address(request),
            )
        except LoginError as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            _start_pending_login(request, user, next_url)
            if confirmed_authenticator(user) is None:
                return redirect("staff:login-enrol")
            return redirect("staff:login-code")
    return render(
        request,
        "accounts/staff_login.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("staff:login")
    form = AuthenticatorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = staff_services.verify_authenticator_code(
                user=user, code=form.cleaned_data["code"]
            )
        except LoginError as error:
            form.add_error("code", error.message)
            status = error.http_status
        else:
            return _sign_in(request, user, device)
    return render(request, "accounts/staff_login_code.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def login_enrol(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("staff:login")
    if confirmed_authenticator(user) is not None:
        return redirect("staff:login-code")
    device = Authenticator.objects.filter(
        pk=request.session.get(SESSION_ENROLMENT_DEVICE), user=user, confirmed=False
    ).first()
    if device is None and request.method == "POST":
        # The key this page showed was replaced by a newer sign-in (elsewhere, perhaps).
        return _start_again(request, staff_services.EnrolmentClosed())
    if device is None:
        try:
            device = staff_services.start_authenticator_enrolment(user=user)
        except staff_services.AuthenticatorAlreadySetUp:  # just now, in another tab
            return redirect("staff:login-code")
        request.session[SESSION_ENROLMENT_DEVICE] = device.pk
    form = AuthenticatorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = staff_services.confirm_authenticator_enrolment(
                device=device, code=form.cleaned_data["code"]
            )
        except staff_services.EnrolmentClosed as error:
            return _start_again(request, error)
        except LoginError as error:
            form.add_error("code", error.message)
            status = error.http_status
        else:
            return _sign_in(request, user, device)
    return render(
        request,
        "accounts/staff_login_enrol.html",
        {"form": form, "qr_code": qr_code_svg(device), "manual_key": manual_key(device)},
        status=status,
    )


def _start_pending_login(request: HttpRequest, user: User, next_url: str | None) -> None:
    # A new session key before the key of a first-time set-up is shown in it: a session
    # id planted in this browser beforehand must not be able to read that key.
    request.session.cycle_key()
    for key in PENDING_KEYS:
        request.session.pop(key, None)
    request.session[SESSION_PENDING_USER] = user.pk
    request.session[SESSION_PENDING_SINCE] = timezone.now().timestamp()
    if next_url:
        request.session[SESSION_NEXT] = next_url


def _pending_user(request: HttpRequest) -> User | None:
    """The staff user whose password this session gave, if that was recently enough."""
    since = request.session.get(SESSION_PENDING_SINCE)
    user_id = request.session.get(SESSION_PENDING_USER)
    if since is None or user_id is None:
        return None
    if timezone.now().timestamp() - since > PENDING_LOGIN_MAX_AGE.total_seconds():
        return None
    user: User | None = User.objects.filter(pk=user_id, is_active=True, is_staff=True).first()
    return user


def _start_again(request: HttpRequest, error: LoginError) -> HttpResponse:
    messages.warning(request, error.message)
    return redirect("staff:login")


def _sign_in(request: HttpRequest, user: User, device: Authenticator) -> HttpResponse:
    next_url = request.session.get(SESSION_NEXT)
    for key in PENDING_KEYS:
        request.session.pop(key, None)
    # login() rotates the session key again: the signed-in session is a new one.
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    otp_login(request, device)
    language = languages.language_on_sign_in(user=user, language=translation.get_language())
    return languages.remember_language(
        redirect(next_url or settings.STAFF_LOGIN_REDIRECT_URL), language
    )
