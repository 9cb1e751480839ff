"""Staff sign-in: a password, then a code from an authenticator app (TOTP, RFC 6238).

The rules: only active staff accounts pass the password step, and everyone else (unknown
email, wrong password, patient, inactive account) gets the same answer. Wrong passwords
lock out the client address that sent them (ten per account per quarter hour), never the
account: on the account they only make the next try wait a little longer
(``accounts.attempts``), and the right password passes once the wait is over; after ten
the account's owner is told by email. The first sign-in sets up the authenticator
(a fresh key each time until one is confirmed with a code); later sign-ins ask for its
code. A code works once (django-otp refuses a time step already used), and wrong codes
slow down exponentially (django-otp's throttling: 1, 2, 4, 8... seconds), counted on the
device, so the count survives new sign-in attempts.
"""

import datetime as dt
import logging
import math
import smtplib

from django.contrib.auth import authenticate
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.timesince import timeuntil
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.attempts import Attempts
from accounts.models import Authenticator, User
from accounts.selectors import confirmed_authenticator
from accounts.services import LoginError, TooManyRequests, normalize_email
from clinic import locking, rate_limits

# Wrong passwords for one account from one client address.
WRONG_PASSWORDS_PER_ADDRESS_AND_ACCOUNT = (10, dt.timedelta(minutes=15))
# Generous: a practice's staff may all sign in from one address at the start of a shift.
PASSWORD_ATTEMPTS_PER_ADDRESS = (100, dt.timedelta(minutes=15))
# Wrong passwords on an account that come without a wait (a typo or two).
FREE_WRONG_PASSWORDS = 3
AUTHENTICATOR_NAME = "Authenticator app"

logger = logging.getLogger(__name__)


class WrongPassword(LoginError):
    code = "wrong_password"
    default_message = _("Email or password is wrong.")


class PasswordSlowDown(LoginError):
    code = "password_slow_down"
    http_status = 429
    default_message = _("Several wrong passwords were just tried. Please wait a moment.")


class WrongAuthenticatorCode(LoginError):
    code = "wrong_authenticator_code"
    default_message = _("That code is wrong. Enter the code your authenticator app shows now.")


class AuthenticatorSlowDown(LoginError):
    code = "authenticator_slow_down"
    http_status = 429
    default_message = _("Too many wrong codes. Please wait a little, then try again.")


class EnrolmentClosed(LoginError):
    code = "enrolment_closed"
    default_message = _(
        "This set-up is no longer open: it was finished, or replaced by a newer sign-in. "
        "Please sign in again."
    )


class AuthenticatorAlreadySetUp(LoginError):
    code = "authenticator_already_set_up"
    default_message = _(
        "An authenticator app is already set up for this account. Sign in again and enter its code."
    )


def authenticate_staff(
    *, request: HttpRequest, email: str, password: str, client_address: str
) -> User:
    """The active staff user with this email and password, or WrongPassword.

    Django's ``authenticate`` does the check (the configured backends, the
    ``user_login_failed`` signal, a password hash computed for unknown emails too)."""
    email = normalize_email(email)
    limit, per = PASSWORD_ATTEMPTS_PER_ADDRESS
    if not rate_limits.allow("staff-password-address", client_address, limit=limit, per=per):
        raise TooManyRequests(retry_after=rate_limits.seconds_left(per))
    here = f"{client_address}|{email}"
    limit, per = WRONG_PASSWORDS_PER_ADDRESS_AND_ACCOUNT
    if rate_limits.counted("staff-wrong-password", here, per=per) >= limit:
        raise TooManyRequests(retry_after=rate_limits.seconds_left(per))
    attempts = Attempts("password", email, free=FREE_WRONG_PASSWORDS)
    if wait := attempts.wait():
        raise PasswordSlowDown(
            str(_("Several wrong passwords were just tried. Please wait %(count)d seconds."))
            % {"count": wait},
            retry_after=wait,
        )
    user = authenticate(request, username=email, password=password)
    # One answer for every refusal, so the page does not tell which emails are staff.
    if not isinstance(user, User) or not user.is_staff or not user.is_active:
        rate_limits.count("staff-wrong-password", here, per=per)
        failures = attempts.failed()
        if attempts.should_notify(failures):
            _tell_about_failures(email)
        raise WrongPassword()
    attempts.succeeded()
    rate_limits.reset("staff-wrong-password", here, per=per)
    return user


def _tell_about_failures(email: str) -> None:
    """Best effort: the staff member learns that someone is guessing their password."""
    user = User.objects.filter(email=email, is_staff=True, is_active=True).first()
    if user is None:
        return
    try:
        with translation.override(user.message_language):
            subject = str(_("Wrong passwords for your staff account"))
            body = render_to_string("accounts/email/failed_passwords.txt", {"user": user})
        send_mail(subject, body, None, [user.email])
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("Failed-passwords notice not sent: %s", type(error).__name__)


def start_authenticator_enrolment(*, user: User) -> Authenticator:
    """A new, unconfirmed authenticator with a fresh key for ``user``, replacing any
    unconfirmed one: a key shown in an abandoned attempt (perhaps on someone else's
    screen) never becomes the one that guards the account."""
    if confirmed_authenticator(user) is not None:
        raise AuthenticatorAlreadySetUp()
    with transaction.atomic():
        Authenticator.objects.filter(user=user, confirmed=False).delete()
        device: Authenticator = Authenticator.objects.create(
            user=user, name=AUTHENTICATOR_NAME, confirmed=False
        )
    return device


def confirm_authenticator_enrolment(*, device: Authenticator, code: str) -> Authenticator:
    """Confirm ``device`` with a code from the app that scanned its key; from now on
    sign-ins ask for its codes."""
    accepted, wait_until = False, None
    with locking.atomic():
        # The user's row serializes set-ups, so two racing ones (two tabs, or someone
        # else with the password) cannot both end with a confirmed authenticator.
        locking.lock_one(User.objects.filter(pk=device.user_id).only("pk"))
        pending = (
            Authenticator.objects.select_for_update().filter(pk=device.pk, confirmed=False).first()
        )
        still_open = pending is not None and confirmed_authenticator(device.user) is None
        if pending is not None and still_open:
            accepted, wait_until = _check_code(pending, code)
            if accepted:
                pending.confirmed = True
                pending.save(update_fields=["confirmed"])
    # Raised after the transaction: the failure count django-otp saved must stay saved.
    if pending is None or not still_open:
        raise EnrolmentClosed()
    _raise_unless_accepted(accepted, wait_until)
    confirmed: Authenticator = pending
    return confirmed


def verify_authenticator_code(*, user: User, code: str) -> Authenticator:
    """The confirmed authenticator of ``user`` that shows ``code``, or a LoginError."""
    with locking.atomic():
        # Locked, so that two requests with one code cannot both get past "a code works
        # once" (django-otp's last_t) or past the throttle.
        locking.set_lock_timeout()
        device = (
            Authenticator.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        accepted, wait_until = _check_code(device, code) if device else (False, None)
    # Raised after the transaction: the failure count django-otp saved must stay saved.
    _raise_unless_accepted(accepted, wait_until)
    assert device is not None
    verified: Authenticator = device
    return verified


def _check_code(device: Authenticator, code: str) -> tuple[bool, dt.datetime | None]:
    """Whether ``device`` accepts ``code``; when throttled, until when (nothing checked).

    ``verify_token`` records a failure on the device (and resets the count on success)."""
    allowed, details = device.verify_is_allowed()
    if not allowed:
        return False, (details or {}).get("locked_until") or timezone.now()
    return bool(device.verify_token("".join(code.split()))), None


def _raise_unless_accepted(accepted: bool, wait_until: dt.datetime | None) -> None:
    if accepted:
        return
    if wait_until is None:
        raise WrongAuthenticatorCode()
    seconds = max(1, math.ceil((wait_until - timezone.now()).total_seconds()))
    if seconds < 120:
        wait = ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    else:
        wait = timeuntil(wait_until)
    raise AuthenticatorSlowDown(
        str(_("Too many wrong codes. Please wait %(wait)s, then try again.")) % {"wait": wait},
        retry_after=seconds,
    )
