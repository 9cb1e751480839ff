"""Clinics, doctors and when they can be booked.

Weekly rules, extra hours and time off are wall-clock times in the clinic's IANA zone
("Mon 9:00-17:00" means 9:00 local on both sides of a DST change); they are turned into
UTC instants only when availability is computed (``scheduling.availability``).
"""

import datetime as dt
import zoneinfo
from functools import cache
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from clinic.encryption import EncryptedCharField
from scheduling.availability import WeeklyHours, first_overlap
from scheduling.languages import language_name, parse_languages, validate_languages

# Time off lasts at most a year: a longer period is almost surely a typo (2062 for 2026),
# and would hide the doctor. Another period can follow it.
MAX_TIME_OFF = dt.timedelta(days=366)


@cache
def known_timezones() -> frozenset[str]:
    # available_timezones() scans the zone database on every call.
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in known_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone (e.g. Europe/Berlin)."), params={"value": value}
        )


def validate_country(value: str) -> None:
    # The regions libphonenumber knows: every ISO 3166 alpha-2 code with a phone plan.
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            _("%(value)s is not an ISO 3166 country code (e.g. DE)."), params={"value": value}
        )


class Clinic(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Berlin",
        validators=[validate_timezone],
        help_text=_("IANA time zone in which the clinic's hours are defined and shown."),
    )
    country = models.CharField(
        _("country"),
        max_length=2,
        default="DE",
        validators=[validate_country],
        help_text=_(
            "ISO 3166 country code (DE, AT, GB...): phone numbers staff type without "
            "a country code are read as this country's."
        ),
    )
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email address"), blank=True)

    # Booking policy. Per clinic, because one deployment can host several clinics.
    min_notice = models.DurationField(
        _("minimum notice"),
        default=dt.timedelta(hours=2),
        help_text=_("How soon before its start a time can be booked."),
    )
    booking_horizon = models.DurationField(
        _("booking horizon"),
        default=dt.timedelta(days=90),
        help_text=_("How far ahead patients can book."),
    )
    max_upcoming_per_patient = models.PositiveSmallIntegerField(
        _("upcoming appointments per patient"),
        default=5,
        help_text=_("How many upcoming appointments one patient may hold at once."),
    )
    cancellation_cutoff = models.DurationField(
        _("cancellation cutoff"),
        default=dt.timedelta(hours=2),
        help_text=_("Patients can cancel or reschedule until this long before the start."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class StaffRole(models.TextChoices):
    STAFF = "staff", _("Staff")
    CLINIC_ADMIN = "clinic_admin", _("Clinic administrator")


class StaffMembership(models.Model):
    """A staff user's place in one clinic: the clinics whose appointments and doctors the
    staff pages show them (``scheduling.selectors.staff_clinics``).

    A user may belong to several clinics. A doctor who signs in is a staff user with a
    membership of their clinic, linked to their ``Doctor`` by ``Doctor.user``. Superusers
    see every clinic without memberships.

    Born in the accounts app; it moved here, with its table, because it is about clinics
    (``accounts`` knows nothing of clinics)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
        # Only staff can sign in to the staff pages; a patient's membership would do nothing.
        limit_choices_to={"is_staff": True},
        verbose_name=_("user"),
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="staff_memberships", verbose_name=_("clinic")
    )
    role = models.CharField(
        _("role"), max_length=20, choices=StaffRole.choices, default=StaffRole.STAFF
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        db_table = "accounts_staffmembership"
        ordering = ["clinic__name", "user__email"]
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            # Also the index behind "the clinics of this user".
            models.UniqueConstraint(fields=["user", "clinic"], name="staff_membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=StaffRole.values), name="staff_membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return _("%(user)s at %(clinic)s (%(role)s)") % {
            "user": self.user,
            "clinic": self.clinic,
            "role": self.get_role_display(),
        }


def sort_name_of(name: str) -> str:
    """The surname first ("Dr. Anna Weber" -> "weber dr. anna weber"), casefolded; a
    trailing "(2)" that tells two namesakes apart is not a surname."""
    words = [word for word in name.split() if not (word.startswith("(") and word.endswith(")"))]
    surname = words[-1] if words else ""
    return f"{surname} {name}".casefold()[:220]


class Doctor(models.Model):
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="doctors", verbose_name=_("clinic")
    )
    name = models.CharField(_("name"), max_length=200)
    specialty = models.CharField(_("specialty"), max_length=100, blank=True)
    bio = models.TextField(_("biography"), blank=True)
    languages = models.CharField(
        _("languages spoken"),
        max_length=200,
        blank=True,
        validators=[validate_languages],
        help_text=_("ISO 639-1 codes separated by commas, e.g. de,en,tr."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive doctors cannot be booked.")
    )
    # Lists sort by surname: "Weber Dr. Anna Weber", kept by save() (and seed_demo's bulk
    # create) from the name, so patients scan doctors as a phone book lists them.
    sort_name = models.CharField(max_length=220, editable=False, default="")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="doctor",
        verbose_name=_("login"),
        help_text=_("The doctor's own login, if they have one."),
    )
    # Bumped in the same transaction as every change of what is free with this doctor:
    # a booking, cancel, reschedule or attendance change (appointments.services) and
    # every change of hours, time off or types (scheduling.services, the admin). Cached
    # free times are keyed by it (appointments.free_times), so the next request after a
    # commit, by anyone, reads the new version from this row and misses the old entry.
    availability_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["sort_name", "pk"]
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")
        indexes = [
            models.Index(fields=["clinic", "is_active", "name"]),
            models.Index(fields=["is_active", "sort_name"], name="doctor_active_sort_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.sort_name = sort_name_of(self.name)
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "sort_name"}
        super().save(*args, **kwargs)

    @property
    def language_codes(self) -> list[str]:
        return parse_languages(self.languages)

    @property
    def spoken_languages(self) -> list[tuple[str, Promise | str]]:
        """(code, name) of each language the doctor speaks, for the pages."""
        return [(code, language_name(code)) for code in self.language_codes]


class AppointmentType(models.Model):
    """What can be booked with a doctor and for how long ("Consultation, 30 min")."""

    doctor = models.ForeignKey(
        Doctor, on_delete=models.PROTECT, related_name="appointment_types", verbose_name=_("doctor")
    )
    name = models.CharField(_("name"), max_length=100)
    duration = models.DurationField(_("duration"), help_text=_("e.g. 00:30:00 for 30 minutes."))
    slot_step = models.DurationField(
        _("slot step"),
        null=True,
        blank=True,
        help_text=_("Distance between offered start times; empty means the duration."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_first_visit = models.BooleanField(
        _("first-visit type"),
        default=False,
        help_text=_(
            "What a new patient books first: offered by default on the doctor's page, in "
            "search results and when booking. At most one per doctor."
        ),
    )

    class Meta:
        ordering = ["doctor", "duration", "name"]
        verbose_name = _("appointment type")
        verbose_name_plural = _("appointment types")
        constraints = [
            # The default type is one type: two marked would leave the default to chance.
            models.UniqueConstraint(
                fields=["doctor"],
                condition=Q(is_first_visit=True),
                name="appointment_type_one_first_visit_per_doctor",
                violation_error_message=_(
                    "This doctor has a first-visit type already: unmark it first."
                ),
            ),
            models.CheckConstraint(
                condition=Q(duration__gte=dt.timedelta(minutes=5))
                & Q(duration__lte=dt.timedelta(hours=12)),
                name="appointment_type_duration_5min_to_12h",
            ),
            models.CheckConstraint(
                condition=Q(slot_step__isnull=True) | Q(slot_step__gte=dt.timedelta(minutes=5)),
                name="appointment_type_step_at_least_5min",
            ),
        ]

    def __str__(self) -> str:
        minutes = int(self.duration.total_seconds() // 60)
        return f"{self.name}, {minutes} min"

    @property
    def step(self) -> dt.timedelta:
        return self.slot_step or self.duration


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeeklyAvailability(models.Model):
    """One working interval on one weekday, in the clinic's local time.

    Several rows per weekday make split shifts (9:00-12:00 and 13:00-17:00).
    """

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="weekly_rules", verbose_name=_("doctor")
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=Weekday.choices,
        validators=[MinValueValidator(0), MaxValueValidator(6)],
    )
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["doctor", "weekday", "start_time"]
        verbose_name = _("weekly hours")
        verbose_name_plural = _("weekly availability")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="weekly_rule_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="weekly_rule_weekday_0_to_6"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("The end must be after the start.")})
        if self.doctor_id is None or self.start_time is None or self.end_time is None:
            return
        if self.overlapped_by() is not None:
            raise ValidationError(_("This interval overlaps another one on the same weekday."))

    @property
    def hours(self) -> WeeklyHours:
        return WeeklyHours(self.weekday, self.start_time, self.end_time)

    def overlapped_by(self) -> "WeeklyAvailability | None":
        """The doctor's saved interval on the same weekday that this one overlaps, if any
        (the rule itself is ``availability.first_overlap``)."""
        others = WeeklyAvailability.objects.filter(
            doctor_id=self.doctor_id, weekday=self.weekday
        ).exclude(pk=self.pk)
        for other in others:
            if first_overlap([self.hours, other.hours]) is not None:
                return other
        return None


class ExtraHours(models.Model):
    """Working hours on one date on top of the weekly rules (a Saturday clinic, say)."""

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="extra_hours", verbose_name=_("doctor")
    )
    date = models.DateField(_("date"))
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["doctor", "date", "start_time"]
        verbose_name = _("extra hours")
        verbose_name_plural = _("extra hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="extra_hours_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["doctor", "date"])]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("The end must be after the start.")})


class TimeOff(models.Model):
    """A period in which a doctor cannot be booked, in the clinic's local time.

    Without times it covers whole days, ``start_date`` through ``end_date`` inclusive;
    with times it runs from ``start_date start_time`` to ``end_date end_time``.
    """

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="time_off", verbose_name=_("doctor")
    )
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    start_time = models.TimeField(
        _("start time"), null=True, blank=True, help_text=_("Empty: from midnight.")
    )
    end_time = models.TimeField(
        _("end time"), null=True, blank=True, help_text=_("Empty: until the day ends.")
    )
    # Often a health matter of the doctor's ("sick"): encrypted at rest (clinic.encryption).
    reason = EncryptedCharField(_("reason"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["doctor", "start_date"]
        verbose_name = _("time off")
        verbose_name_plural = pgettext_lazy("plural", "time off")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="time_off_end_not_before_start"
            ),
        ]
        indexes = [models.Index(fields=["doctor", "end_date"])]

    def __str__(self) -> str:
        # English whatever the language: the audit trail's change reasons quote it.
        return f"{self.start_date:%Y-%m-%d} to {self.end_date:%Y-%m-%d}"

    def clean(self) -> None:
        if self.start_date and self.end_date:
            if self.end_date < self.start_date:
                raise ValidationError({"end_date": _("The end date cannot be before the start.")})
            if self.local_end <= self.local_start or (self.doctor_id and self.lasts_no_time()):
                raise ValidationError({"end_time": _("The end must be after the start.")})
            if self.lasts_too_long():
                raise ValidationError(
                    {
                        "end_date": _(
                            "Time off can last a year at most; add another period after it."
                        )
                    }
                )

    def lasts_too_long(self) -> bool:
        """Whether the period is longer than ``MAX_TIME_OFF`` (a year)."""
        return self.end_date - self.start_date > MAX_TIME_OFF

    def lasts_no_time(self) -> bool:
        """Whether the period ends no later than it starts, as instants in the clinic's
        zone: 02:00-03:00 on the spring-forward night is no time at all."""
        zone = self.doctor.clinic.zone
        start = self.local_start.replace(tzinfo=zone).astimezone(dt.UTC)
        return self.local_end.replace(tzinfo=zone).astimezone(dt.UTC) <= start

    @property
    def local_start(self) -> dt.datetime:
        return dt.datetime.combine(self.start_date, self.start_time or dt.time.min)

    @property
    def local_end(self) -> dt.datetime:
        if self.end_time is None:
            return dt.datetime.combine(self.end_date + dt.timedelta(days=1), dt.time.min)
        return dt.datetime.combine(self.end_date, self.end_time)


class LegalDocument(models.Model):
    """A clinic's privacy notice, legal notice (imprint) or terms, edited in the admin.

    The text is plain: paragraphs separated by blank lines, shown escaped (Django's
    ``linebreaks``), so nothing typed here can put HTML or a script on the page.
    """

    class Kind(models.TextChoices):
        PRIVACY = "privacy", _("Privacy notice")
        IMPRINT = "imprint", _("Legal notice")
        TERMS = "terms", _("Terms of use")

    clinic = models.ForeignKey(
        Clinic, on_delete=models.CASCADE, related_name="legal_documents", verbose_name=_("clinic")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    body = models.TextField(
        _("text"),
        help_text=_(
            "Plain text: paragraphs separated by a blank line. HTML is shown as typed, "
            "not interpreted."
        ),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["clinic__name", "kind"]
        verbose_name = _("legal document")
        verbose_name_plural = _("legal documents")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "kind"], name="legal_document_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.clinic.name}: {self.get_kind_display()}"
