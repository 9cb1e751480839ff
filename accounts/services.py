"""Logging in by a one-time code sent to the patient's email (django-otp's email device).

The rules: a code is 6 digits, single use, valid for ``OTP_EMAIL_TOKEN_VALIDITY``
seconds (10 minutes) and replaced by a newer one; a new code can be requested once per
``OTP_EMAIL_COOLDOWN_DURATION``; wrong codes slow down exponentially and after
``MAX_WRONG_CODES`` in a row the code is void; requests are limited per email and per
client address. Nothing here tells whether an account exists.
"""

import datetime as dt
import math

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.models import Patient, User
from clinic.errors import DomainError
from clinic.rate_limits import allow, seconds_left

MAX_WRONG_CODES = 10
CODE_REQUESTS_PER_EMAIL = (5, dt.timedelta(minutes=15))
CODE_REQUESTS_PER_ADDRESS = (20, dt.timedelta(minutes=15))
VERIFICATIONS_PER_ADDRESS = (30, dt.timedelta(minutes=15))


class LoginError(DomainError):
    code = "login_error"
    http_status = 400
    default_message = _("That did not work. Please try again.")


class TooManyRequests(LoginError):
    code = "too_many_requests"
    http_status = 429
    default_message = _("Too many attempts. Please wait a few minutes and try again.")


class WrongCode(LoginError):
    code = "wrong_code"
    default_message = _("That code is wrong or has expired. Check the latest email we sent.")


class CodeVoid(LoginError):
    code = "code_void"
    default_message = _("Too many wrong codes. Please request a new code.")


class SlowDown(LoginError):
    code = "slow_down"
    http_status = 429
    default_message = _("Please wait a few seconds before trying another code.")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def request_login_code(*, email: str, client_address: str) -> None:
    """Email a login code to ``email``, creating the account if it is new.

    Returns the same way whether or not the account existed, was a staff account, or
    was inside its resend cooldown, so callers cannot reveal any of that."""
    email = normalize_email(email)
    if not allow(
        "login-code-email", email, limit=CODE_REQUESTS_PER_EMAIL[0], per=CODE_REQUESTS_PER_EMAIL[1]
    ):
        raise TooManyRequests(retry_after=seconds_left(CODE_REQUESTS_PER_EMAIL[1]))
    if not allow(
        "login-code-address",
        client_address,
        limit=CODE_REQUESTS_PER_ADDRESS[0],
        per=CODE_REQUESTS_PER_ADDRESS[1],
    ):
        raise TooManyRequests(retry_after=seconds_left(CODE_REQUESTS_PER_ADDRESS[1]))

    with transaction.atomic():
        user, _created = User.objects.get_or_create(
            email=email, defaults={"password": make_password(None)}
        )
        if user.is_staff:
            _send_staff_notice(user)
            return
        if not user.is_active:
            return
        Patient.objects.get_or_create(user=user)
        device = _email_device(user)

    allowed, _details = device.generate_is_allowed()
    if not allowed:
        return  # inside the resend cooldown: the previous code is still on its way
    # A new code starts a new count of wrong attempts.
    device.throttle_reset(commit=False)
    device.generate_challenge()


def verify_login_code(*, email: str, code: str, client_address: str) -> tuple[User, EmailDevice]:
    """The patient whose latest code ``code`` is, and their device, or a LoginError."""
    if not allow(
        "login-verify-address",
        client_address,
        limit=VERIFICATIONS_PER_ADDRESS[0],
        per=VERIFICATIONS_PER_ADDRESS[1],
    ):
        raise TooManyRequests(retry_after=seconds_left(VERIFICATIONS_PER_ADDRESS[1]))
    code = "".join(code.split())
    device = (
        EmailDevice.objects.select_related("user")
        .filter(
            user__email=normalize_email(email),
            user__is_active=True,
            user__is_staff=False,
            name="email",
        )
        .first()
    )
    if device is None or not code.isdigit():
        raise WrongCode()
    if device.throttling_failure_count >= MAX_WRONG_CODES:
        raise CodeVoid()
    allowed, details = device.verify_is_allowed()
    if not allowed:
        locked_until = (details or {}).get("locked_until")
        wait = (locked_until - timezone.now()).total_seconds() if locked_until else 1
        raise SlowDown(retry_after=max(1, math.ceil(wait)))
    if device.verify_token(code):
        return device.user, device
    device.refresh_from_db()
    if device.throttling_failure_count >= MAX_WRONG_CODES:
        device.token = None
        device.save(update_fields=["token"])
        raise CodeVoid()
    raise WrongCode()


def update_patient_profile(
    *, patient: Patient, full_name: str, phone: str, date_of_birth: dt.date
) -> Patient:
    patient.full_name = full_name.strip()
    patient.phone = phone.strip()
    patient.date_of_birth = date_of_birth
    patient.save(update_fields=["full_name", "phone", "date_of_birth"])
    return patient


def _email_device(user: User) -> EmailDevice:
    device, _created = EmailDevice.objects.get_or_create(
        user=user, name="email", defaults={"confirmed": True}
    )
    return device


def _send_staff_notice(user: User) -> None:
    # Staff sign in with a password on the staff sign-in page, never by emailed code;
    # tell them so by email, not on the page, which must look the same for everyone.
    send_mail(
        "Sign in on the staff page",
        render_to_string(
            "accounts/email/staff_notice.txt",
            {
                "user": user,
                "site_url": settings.SITE_URL,
                "staff_login_path": reverse("staff:login"),
            },
        ),
        None,
        [user.email],
    )
