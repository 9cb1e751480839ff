"""Signing in by a one-time code sent to the patient's email (django-otp's email device,
as ``accounts.models.SignInCode``, which stores only a keyed hash of the code).

The rules (docs/security.md, "Sign-in and limits"):

- A code is 6 digits, single use, valid for ``OTP_EMAIL_TOKEN_VALIDITY`` seconds (10
  minutes), replaced by a newer one. One email per address per ``OTP_EMAIL_COOLDOWN_DURATION``
  (a minute): asking again sooner sends nothing new.
- Nothing tells whether an account exists: every address that asks gets one email (a
  code, or for staff and deactivated accounts a notice), the same answer, in about the
  same time; verifying answers alike for addresses with and without an account.
- An address that never completed a sign-in gets no lasting account: the account made
  when it asked is deleted after ``PENDING_ACCOUNT_LIFETIME`` (``purge_pending_accounts``).
- Limits stop guessers, not the account's owner: ten guesses per code from one client
  address (counted atomically: parallel guesses get no extra tries), after which that
  address must ask for a new code; a growing wait on the account after each wrong code,
  which the right code passes once it is over (``accounts.attempts``); an email to the
  account after ten wrong codes. Code emails are limited per client address and per
  target address.
- The email is sent after the account's transaction commits, with the mailer's timeout;
  when it cannot be sent the answer says so (``MailNotSent``, 503) and asking again sends
  again.
"""

import datetime as dt
import hashlib
import logging
import smtplib

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, ProtectedError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts import languages, phones, selectors
from accounts.attempts import Attempts
from accounts.models import ApiToken, Dependant, Patient, SignInCode, User
from accounts.session_users import ending_sign_ins_of
from clinic import rate_limits
from clinic.errors import DomainError

logger = logging.getLogger(__name__)

GUESSES_PER_CODE = 10  # from one client address
CODE_EMAILS_PER_ADDRESS = (20, dt.timedelta(hours=1))  # emails one client may cause
CODE_EMAILS_PER_TARGET = (5, dt.timedelta(hours=1))  # emails one address may receive
VERIFICATIONS_PER_ADDRESS = (30, dt.timedelta(minutes=15))
PENDING_ACCOUNT_LIFETIME = dt.timedelta(days=1)
# Guesses are counted in windows at least as long as a code lives.
GUESS_WINDOW = dt.timedelta(hours=1)


class LoginError(DomainError):
    code = "login_error"
    http_status = 400
    default_message = _("That did not work. Please try again.")


class TooManyRequests(LoginError):
    code = "too_many_requests"
    http_status = 429
    default_message = _("Too many attempts. Please wait a few minutes and try again.")


class TooManyCodeEmails(TooManyRequests):
    code = "too_many_code_emails"
    default_message = _(
        "We have sent several codes to this address in the last hour. Use the newest "
        "one, or ask again later."
    )


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


class MailNotSent(LoginError):
    code = "mail_not_sent"
    http_status = 503
    default_message = _(
        "We could not send the email just now. Please try again in a minute; nothing "
        "else is needed."
    )


def normalize_email(email: str) -> str:
    return email.strip().lower()


def request_login_code(*, email: str, client_address: str) -> None:
    """Email a sign-in code to ``email`` (a notice instead, for staff and deactivated
    accounts), making a pending account for an address that has none.

    Returns the same way whatever the account, so callers cannot reveal any of it;
    raises ``TooManyRequests`` over a limit and ``MailNotSent`` when the mailer fails."""
    email = normalize_email(email)
    limit, per = CODE_EMAILS_PER_ADDRESS
    if not rate_limits.allow("login-code-address", client_address, limit=limit, per=per):
        raise TooManyRequests(retry_after=rate_limits.seconds_left(per))
    cooldown = _mail_cooldown_key(email)
    if not cache.add(cooldown, 1, timeout=settings.OTP_EMAIL_COOLDOWN_DURATION):
        return  # inside the cooldown: the previous email is on its way
    limit, per = CODE_EMAILS_PER_TARGET
    if not rate_limits.allow("login-code-email", email, limit=limit, per=per):
        cache.delete(cooldown)
        raise TooManyCodeEmails(retry_after=rate_limits.seconds_left(per))

    with transaction.atomic():
        user, _created = User.objects.get_or_create(
            email=email, defaults={"password": make_password(None)}
        )
        device = None
        if user.is_active and not user.is_staff:
            device, _created = SignInCode.objects.get_or_create(
                user=user, name="email", defaults={"confirmed": True}
            )
    # After the commit: a failed send must not undo the account, and no row stays locked
    # while the mail server answers.
    try:
        if device is not None:
            code = device.issue_code(
                valid_for=dt.timedelta(seconds=settings.OTP_EMAIL_TOKEN_VALIDITY)
            )
            _send(
                user,
                _("Your sign-in code: %(code)s"),
                "accounts/email/login_code.txt",
                {"token": code},
                subject_params={"code": code},
            )
        elif user.is_staff:
            # Staff sign in with a password on the staff sign-in page, never by emailed
            # code: the email tells them so; the page looks the same for everyone.
            _send(
                user,
                _("Sign in on the staff page"),
                "accounts/email/staff_notice.txt",
                {"site_url": settings.SITE_URL, "staff_login_path": reverse("staff:login")},
            )
        else:
            _send(
                user,
                _("Your patient account is deactivated"),
                "accounts/email/inactive_notice.txt",
                {},
            )
    except (smtplib.SMTPException, OSError) as error:
        cache.delete(cooldown)  # so that asking again sends again
        logger.warning("Sign-in email not sent: %s", type(error).__name__)
        raise MailNotSent(retry_after=60) from error


def verify_login_code(*, email: str, code: str, client_address: str) -> tuple[User, SignInCode]:
    """The patient whose latest code ``code`` is, and their device, or a LoginError."""
    email = normalize_email(email)
    limit, per = VERIFICATIONS_PER_ADDRESS
    if not rate_limits.allow("login-verify-address", client_address, limit=limit, per=per):
        raise TooManyRequests(retry_after=rate_limits.seconds_left(per))
    attempts = Attempts("code", email)
    if wait := attempts.wait():
        raise SlowDown(retry_after=wait)
    code = "".join(code.split())
    device: SignInCode | None = (
        SignInCode.objects.select_related("user")
        .filter(
            user__email=email,
            user__is_active=True,
            user__is_staff=False,
            name="email",
        )
        .first()
    )
    # Ten guesses of this code from this client address, counted before the code is
    # looked at, so that parallel guesses each take a number and none gets an extra try.
    this_code = device.valid_until.isoformat() if device is not None else "none"
    guesses = rate_limits.count(
        "login-code-guesses", f"{client_address}|{email}|{this_code}", per=GUESS_WINDOW
    )
    if guesses > GUESSES_PER_CODE:
        raise CodeVoid()
    if device is not None and code.isdigit() and device.verify_token(code):
        attempts.succeeded()
        cache.delete(_mail_cooldown_key(email))  # signed in: a new code may be asked at once
        return device.user, device
    failures = attempts.failed()
    if device is not None and attempts.should_notify(failures):
        _tell_about_failures(device.user)
    raise WrongCode()


def update_patient_profile(
    *,
    patient: Patient,
    full_name: str,
    phone: str,
    date_of_birth: dt.date,
    sms_opt_in: bool | None = None,
    language: str | None = None,
) -> Patient:
    """The patient's own details; their phone is read in ``PHONE_DEFAULT_REGION`` when it
    has no country code, and stored in E.164. ``sms_opt_in`` None: left as it is.
    ``language`` (one of LANGUAGES), when given, is the language of every message to
    them; None leaves it as it is."""
    patient.full_name = full_name.strip()
    patient.phone = phones.normalise(phone)
    patient.date_of_birth = date_of_birth
    fields = ["full_name", "phone", "date_of_birth"]
    if sms_opt_in is not None:
        patient.sms_opt_in = sms_opt_in
        fields.append("sms_opt_in")
    with transaction.atomic():
        patient.save(update_fields=fields)
        if language is not None:
            languages.user_language_set(user=patient.user, language=language)
    return patient


class DependantHasAppointments(DomainError):
    code = "dependant_has_appointments"
    http_status = 409
    default_message = _(
        "This person has appointments (booked or in the records), so they stay on your "
        "list. Cancel what is upcoming; the records are kept."
    )


def add_dependant(
    *,
    patient: Patient,
    full_name: str,
    date_of_birth: dt.date,
    relationship: str = Dependant.Relationship.CHILD,
) -> Dependant:
    """Someone ``patient`` books for (a child, a relative in their care). The name and
    date of birth are checked by the model's validators, as for the patient's own."""
    dependant = Dependant(
        patient=patient,
        full_name=full_name.strip(),
        date_of_birth=date_of_birth,
        relationship=relationship,
    )
    dependant.full_clean()
    dependant.save()
    return dependant


def add_family_member(
    *,
    patient: Patient,
    full_name: str,
    date_of_birth: dt.date,
    relationship: str = Dependant.Relationship.CHILD,
) -> Dependant:
    """A family member staff add for ``patient`` on the phone (``add_dependant``), unless
    the patient books for someone of that name and birth date already (the same form
    sent twice, or a second call about the same child): then that person, so no twin
    appears on the patient's list. Names compare as the staff search folds them."""
    wanted = phones.fold_name(full_name.strip())
    # The birth date is encrypted at rest: compared here, not in SQL (a family is short).
    for person in selectors.dependants_of(patient):
        if phones.fold_name(person.full_name) == wanted and person.date_of_birth == date_of_birth:
            return person
    return add_dependant(
        patient=patient,
        full_name=full_name,
        date_of_birth=date_of_birth,
        relationship=relationship,
    )


def update_dependant(
    *, dependant: Dependant, full_name: str, date_of_birth: dt.date, relationship: str
) -> Dependant:
    dependant.full_name = full_name.strip()
    dependant.date_of_birth = date_of_birth
    dependant.relationship = relationship
    dependant.full_clean()
    dependant.save(update_fields=["full_name", "date_of_birth", "relationship"])
    return dependant


def remove_dependant(*, dependant: Dependant) -> None:
    """Remove someone from the patient's list: only while no appointment names them
    (appointment records are kept, and must keep saying whom they were for). The
    database decides (``on_delete=PROTECT``), so a booking made at the same moment
    either comes first and keeps them, or finds them gone."""
    try:
        with transaction.atomic():
            dependant.delete()
    except ProtectedError as error:
        raise DependantHasAppointments() from error


def sign_out_everywhere(*, user: User) -> None:
    """End every session and every API token of ``user`` (a lost phone, a shared computer
    left signed in): they all carry the user's session auth hash, which this changes."""
    with ending_sign_ins_of(user.pk):
        User.objects.filter(pk=user.pk).update(sign_out_epoch=F("sign_out_epoch") + 1)
        user.refresh_from_db(fields=["sign_out_epoch"])
        ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


def deactivate_user(*, user: User) -> None:
    """End ``user``'s access and keep the account (and with it who did what): no sign-in,
    no session, no API token works any more."""
    with ending_sign_ins_of(user.pk):
        User.objects.filter(pk=user.pk).update(is_active=False)
    sign_out_everywhere(user=user)


def purge_pending_accounts(now: dt.datetime | None = None) -> int:
    """Delete the accounts made for addresses that asked for a code and never signed in
    (no sign-in, no password, no patient profile, not staff) after
    ``PENDING_ACCOUNT_LIFETIME``. A patient registered by staff has a profile and stays.
    Run daily by the worker's schedule."""
    cutoff = (now or timezone.now()) - PENDING_ACCOUNT_LIFETIME
    pending = User.objects.filter(
        last_login__isnull=True,
        is_staff=False,
        is_superuser=False,
        date_joined__lt=cutoff,
        patient__isnull=True,
        # Unusable, as make_password(None) makes it: no password was ever set.
        password__startswith=UNUSABLE_PASSWORD_PREFIX,
    )
    _deleted, by_model = pending.delete()
    return by_model.get(User._meta.label, 0)


def _mail_cooldown_key(email: str) -> str:
    return f"login-code-cooldown:{hashlib.sha256(email.encode()).hexdigest()[:32]}"


def _send(
    user: User,
    subject: StrOrPromise,
    template: str,
    context: dict[str, object],
    subject_params: dict[str, object] | None = None,
) -> None:
    """Email ``user`` in their language; before their first sign-in, in the language of
    the page that asked."""
    with translation.override(user.language or translation.get_language()):
        body = render_to_string(template, {"user": user, **context})
        text = str(subject) % subject_params if subject_params else str(subject)
    send_mail(text, body, settings.OTP_EMAIL_SENDER, [user.email])


def _tell_about_failures(user: User) -> None:
    """Best effort: the account's owner learns that someone is guessing."""
    try:
        _send(
            user,
            _("Wrong sign-in codes for your patient account"),
            "accounts/email/failed_attempts.txt",
            {},
        )
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("Failed-attempts notice not sent: %s", type(error).__name__)
