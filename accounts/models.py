import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key, key_validator
from django_otp.util import random_number_token

from accounts import phones
from accounts.validators import validate_date_of_birth, validate_person_name, validate_phone
from clinic.encryption import EncryptedCharField, EncryptedDateField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


# django-otp is untyped, so the plugin cannot see the reverse manager of its devices' user.
class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]
    """Anyone who logs in. The email address is the login, stored lower-cased."""

    email = models.EmailField(_("email address"), unique=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Can log into the staff pages and the admin site."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Unticked: they can no longer sign in.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Raised by "sign out everywhere" (accounts.services.sign_out_everywhere): every
    # session and API token issued before it ends, as a password change ends them.
    sign_out_epoch = models.PositiveIntegerField(default=0, editable=False)
    # The language of every message to them (emails, invites, reminders) and of their
    # pages once signed in: chosen on the profile page, through the API (/api/v1/me) or
    # the language switcher, else the page's language when they first signed in.
    # Empty until then: messages use LANGUAGE_CODE (``message_language``).
    language = models.CharField(
        _("language"), max_length=8, blank=True, choices=settings.LANGUAGES, default=""
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()

    @property
    def message_language(self) -> str:
        """The language to write to them in."""
        return self.language or settings.LANGUAGE_CODE

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's HMAC of the password, which sessions and API tokens keep, with the
        sign-out epoch in it: raising the epoch ends them all, also for patients, who have
        no password to change. At epoch 0 it is Django's own hash."""
        material = (
            self.password if not self.sign_out_epoch else f"{self.password}:{self.sign_out_epoch}"
        )
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            material,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class Patient(models.Model):
    """The patient profile of a user: who the appointments are for.

    Name, phone and date of birth may be empty right after the first login; the booking
    pages ask for them once before the first booking (``is_complete``).

    The phone is stored in E.164 (``accounts.phones.normalise``: the entry points read it
    in their region, ``save()`` in ``PHONE_DEFAULT_REGION``).
    Staff search never reads it: ``phone_lookup`` holds its keyed hash and ``name_search``
    the folded name, both kept by ``save()`` (and by ``with_search_keys`` for
    ``bulk_create``). docs/data-model.md says how the search uses them.
    """

    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="patient", verbose_name=_("user")
    )
    full_name = models.CharField(
        _("full name"), max_length=200, blank=True, validators=[validate_person_name]
    )
    # Encrypted at rest (clinic.encryption); searched only through ``phone_lookup``.
    phone = EncryptedCharField(_("phone"), max_length=40, blank=True, validators=[validate_phone])
    # Encrypted at rest (clinic.encryption): it is read and shown, never searched in SQL.
    date_of_birth = EncryptedDateField(
        _("date of birth"), null=True, blank=True, validators=[validate_date_of_birth]
    )
    # Reminders and the clinic's cancellations also by text message to ``phone``, when SMS
    # is configured (appointments.channels). Off until the patient turns it on.
    sms_opt_in = models.BooleanField(
        _("text messages"),
        default=False,
        help_text=_("Reminders and cancellations by the clinic also by SMS to this phone."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the patient's personal data was erased on their request (appointments.erasure):
    # the appointments stay, with their dates, doctors and statuses, and no one's name.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)
    # HMAC-SHA256 of the E.164 phone under PHONE_LOOKUP_KEY; "" without a phone.
    phone_lookup = models.CharField(max_length=64, blank=True, editable=False)
    # full_name folded for search: lower case, no accents (phones.fold_name).
    name_search = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["full_name"]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        indexes = [
            models.Index(fields=["full_name"]),
            models.Index(fields=["phone_lookup"], name="patient_phone_lookup"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.user.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.with_search_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "phone_lookup", "name_search"}
        super().save(*args, **kwargs)

    def with_search_keys(self) -> "Patient":
        """The phone in E.164 (an entry point that reads it in another region than
        ``PHONE_DEFAULT_REGION`` has done so already; what is no number stays as it is),
        and ``phone_lookup`` and ``name_search`` from the phone and the name."""
        number = phones.normalise_or_none(self.phone)
        self.phone = number or self.phone
        self.phone_lookup = phones.lookup_hash(number or "")
        self.name_search = phones.fold_name(self.full_name)
        return self

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def is_complete(self) -> bool:
        return bool(self.full_name and self.phone and self.date_of_birth)


class Dependant(models.Model):
    """Someone a patient books for: a child, a relative they care for. Not a user: the
    account holder (``patient``) signs in, books, and receives every email; each
    appointment for this person names them (``Appointment.dependant``).

    The date of birth is encrypted at rest, as the patient's own. It is null only after
    erasure (``appointments.erasure``): the forms and the API require it."""

    class Relationship(models.TextChoices):
        CHILD = "child", _("child")
        RELATIVE = "relative", _("relative")
        OTHER = "other", _("someone in their care")

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="dependants",
        verbose_name=_("account holder"),
        help_text=_("The patient who books for them and receives the emails."),
    )
    full_name = models.CharField(_("full name"), max_length=200, validators=[validate_person_name])
    date_of_birth = EncryptedDateField(
        _("date of birth"), null=True, blank=True, validators=[validate_date_of_birth]
    )
    relationship = models.CharField(
        _("relationship"), max_length=10, choices=Relationship.choices, default=Relationship.CHILD
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)
    # full_name folded for the staff's patient search, as ``Patient.name_search``: a
    # caller may give the child's name rather than their own.
    name_search = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["full_name", "pk"]
        verbose_name = _("person booked for")
        verbose_name_plural = _("people booked for")

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_search = "" if self.erased_at else phones.fold_name(self.full_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "name_search"}
        super().save(*args, **kwargs)

    def with_relation(self, holder: Patient | None = None) -> str:
        """Whom a visit is for, as staff read it: "Mia Wolf (child of Leon Wolf)".
        ``holder``: the account holder when the caller has them loaded already (an
        appointment's ``patient``), which saves reading them again."""
        account = holder if holder is not None else self.patient
        holder_name = account.full_name or account.user.email
        phrases: dict[str, str | Promise] = {
            self.Relationship.CHILD: _("%(name)s (child of %(holder)s)"),
            self.Relationship.RELATIVE: _("%(name)s (relative of %(holder)s)"),
            self.Relationship.OTHER: _("%(name)s (in the care of %(holder)s)"),
        }
        phrase = phrases.get(self.relationship, phrases[self.Relationship.OTHER])
        return str(phrase) % {"name": self.full_name, "holder": holder_name}


class Authenticator(TimestampMixin, ThrottlingMixin, Device):  # type: ignore[misc]  # untyped
    """A staff member's authenticator app (TOTP, RFC 6238): django-otp's ``TOTPDevice``
    with its secret key encrypted at rest.

    django-otp stores the key in plaintext, and a key read from a dump is a second factor
    for someone else's account, so this model keeps it in an ``EncryptedCharField``; the
    TOTP logic (codes, drift, "a code works once", throttling) is django-otp's own,
    taken from ``TOTPDevice`` unchanged: it reads only these fields."""

    # django-otp's fields that the admin shows, declared again with translatable names
    # (the same columns: only verbose_name and help_text differ).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        verbose_name=_("user"),
        help_text=_("The user that this device belongs to."),
    )
    name = models.CharField(
        _("name"), max_length=64, help_text=_("The human-readable name of this device.")
    )
    confirmed = models.BooleanField(
        _("confirmed"), default=True, help_text=_("Is this device ready for use?")
    )
    created_at = models.DateTimeField(
        _("created"),
        null=True,
        blank=True,
        auto_now_add=True,
        help_text=_("The date and time when this device was initially created in the system."),
    )
    last_used_at = models.DateTimeField(
        _("last used"),
        null=True,
        blank=True,
        help_text=_("The most recent date and time this device was used."),
    )
    throttling_failure_count = models.PositiveIntegerField(
        _("failed attempts"), default=0, help_text=_("Number of successive failed attempts.")
    )
    key = EncryptedCharField(
        _("key"),
        max_length=80,
        validators=[key_validator],
        default=default_key,
        help_text=_("A hex-encoded secret key of up to 40 bytes."),
    )
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    bin_key = TOTPDevice.bin_key
    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings

    class Meta(Device.Meta):  # type: ignore[misc]
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")


class SignInCode(EmailDevice):  # type: ignore[misc]  # django-otp is untyped
    """A patient's emailed sign-in code: django-otp's email device, storing only a keyed
    hash of the code (``token`` holds an HMAC under SECRET_KEY, never the code), so a
    dump of the table signs nobody in. The code itself exists in the email and, for the
    moment it takes to send it, in memory (``issue_code``).

    Guesses are counted by ``accounts.services`` (per client address and per account, in
    the shared cache), not by django-otp's device throttle, so that the answers for an
    address with an account and one without are the same."""

    # django-otp's field, untyped there: the code's digest, None once used.
    token: str | None

    class Meta:
        proxy = True
        verbose_name = _("sign-in code")
        verbose_name_plural = _("sign-in codes")

    def issue_code(self, *, valid_for: dt.timedelta) -> str:
        """A new 6-digit code, replacing any earlier one; returns the code and stores its
        hash. Starts the resend cooldown."""
        code: str = random_number_token(6)
        self.token = self._digest(code)
        self.valid_until = timezone.now() + valid_for
        self.cooldown_set(commit=False)
        self.save()
        return code

    def verify_token(self, token: str) -> bool:
        """Whether ``token`` is the current code and has not expired; a code works once."""
        now = timezone.now()
        if self.token is None or now >= self.valid_until:
            return False
        if not constant_time_compare(self._digest(str(token)), self.token):
            return False
        self.token = None
        self.valid_until = now
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True

    def _digest(self, code: str) -> str:
        # 16 hex characters (64 bits) fit django-otp's token column and, keyed, cannot be
        # reversed from a dump by trying the million codes.
        digest = salted_hmac("accounts.SignInCode", f"{self.pk}:{code}", algorithm="sha256")
        return digest.hexdigest()[:16]


class ApiToken(models.Model):
    """A bearer token: ``Authorization: Bearer <token>``. It works until ``expires_at``,
    until it is revoked (``POST /api/v1/auth/logout``, or in the admin), until the
    user's password changes, or (staff) until their authenticator is reset."""

    class Kind(models.TextChoices):
        PATIENT = "patient", _("Patient (emailed code)")
        STAFF = "staff", _("Staff (password and authenticator)")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # SHA-256 of the token, hex. The token itself is shown once, when it is issued.
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The token's first characters, so that a user and the admin can tell tokens apart.
    prefix = models.CharField(_("prefix"), max_length=8, editable=False)
    # The user's session auth hash when the token was issued (an HMAC of the password
    # hash): a password change ends every token, as it ends every session.
    auth_hash = models.CharField(max_length=128, editable=False)
    # A staff token is issued against one authenticator (django-otp device). Removing
    # that authenticator in the admin (resetting it) deletes its tokens, as it ends the
    # staff member's verified sessions.
    device = models.ForeignKey(
        Authenticator,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="api_tokens",
        verbose_name=_("authenticator app"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        # The table of the app the model was born in (clinic.api), kept when it moved.
        db_table = "api_apitoken"
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="patient", device__isnull=True)
                | models.Q(kind="staff", device__isnull=False),
                name="api_token_staff_has_device",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
