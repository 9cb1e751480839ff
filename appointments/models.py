"""Appointments: the one table whose rows must never collide.

Two guarantees live in the database itself, not only in Python (see ``db_guards``): no
two active appointments of one doctor overlap, and no person (a patient, or one of the
dependants they book for) holds two overlapping active appointments. The booking
services in ``services.py`` are the only writers.
"""

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import Dependant, Patient
from clinic.encryption import EncryptedTextField
from scheduling.models import AppointmentType, Doctor


class Status(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED_BY_PATIENT = "cancelled_by_patient", _("Cancelled by patient")
    CANCELLED_BY_CLINIC = "cancelled_by_clinic", _("Cancelled by clinic")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")


# Statuses that occupy the doctor's (and the patient's) time. A completed or missed
# appointment still took its slot; only cancelled ones free it.
ACTIVE_STATUSES = (Status.BOOKED, Status.COMPLETED, Status.NO_SHOW)
CANCELLED_STATUSES = (Status.CANCELLED_BY_PATIENT, Status.CANCELLED_BY_CLINIC)

# Fields whose every change must leave an audit record; bulk paths skip simple-history.
AUDITED_FIELDS = frozenset(
    {
        "status",
        "starts_at",
        "ends_at",
        "doctor",
        "doctor_id",
        "patient",
        "patient_id",
        "dependant",
        "dependant_id",
        "appointment_type",
        "appointment_type_id",
    }
)


class UnauditedWrite(Exception):
    """A bulk write would change appointments without an audit record."""


class AppointmentQuerySet(models.QuerySet["Appointment"]):
    def active(self) -> "AppointmentQuerySet":
        return self.filter(status__in=ACTIVE_STATUSES)

    def upcoming(self, now: Any) -> "AppointmentQuerySet":
        return self.filter(status=Status.BOOKED, starts_at__gt=now)

    def overlapping(self, starts_at: Any, ends_at: Any) -> "AppointmentQuerySet":
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    # QuerySet.update() and bulk_update() bypass save() and so the audit trail.
    # Appointment changes go through appointments.services, one audited save each.
    def update(self, **kwargs: Any) -> int:
        _refuse_unaudited(kwargs)
        return super().update(**kwargs)

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        _refuse_unaudited(dict.fromkeys(fields))
        return super().bulk_update(objs, fields, *args, **kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise UnauditedWrite("Appointments are never deleted; cancel them instead.")


def _refuse_unaudited(fields: dict[str, Any]) -> None:
    touched = AUDITED_FIELDS.intersection(fields)
    if touched:
        raise UnauditedWrite(
            f"Changing {', '.join(sorted(touched))} in bulk would skip the audit trail; "
            "use appointments.services."
        )


class Appointment(models.Model):
    # The account holder: who booked it (or for whom staff did), who is emailed.
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("patient"),
        help_text=_("The account holder: who booked it, or for whom staff did; who is emailed."),
    )
    # Whom the visit is for when not the account holder themself: one of their
    # dependants (a child, a relative in their care). NULL: the patient themself.
    # PROTECT: appointment records outlive every change to the people they name.
    dependant = models.ForeignKey(
        Dependant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appointments",
        verbose_name=_("for"),
        help_text=_("Whom the visit is for, when not the account holder themself."),
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("doctor")
    )
    appointment_type = models.ForeignKey(
        AppointmentType,
        on_delete=models.PROTECT,
        related_name="appointments",
        verbose_name=_("appointment type"),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.BOOKED
    )
    # Health data: encrypted at rest (clinic.encryption), here and in the history copies.
    reason = EncryptedTextField(
        _("reason"), blank=True, help_text=_("Why the patient wants to be seen.")
    )
    cancellation_reason = EncryptedTextField(_("reason for cancelling"), blank=True)
    # A key chosen by the client (a form's one-time token, an Idempotency-Key header)
    # so that a retried booking returns the appointment it already made.
    # NULL, not "", means "no key": the unique constraint below skips NULLs.
    booking_key = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False
    )
    # Incremented on every change; calendar invites use it as their SEQUENCE.
    sequence = models.PositiveIntegerField(_("version"), default=0, editable=False)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("booked by"),
        help_text=_("Who made the booking: the patient, or staff on their behalf."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    # The change reason repeats what was said ("cancelled by clinic: <reason>"): encrypted too.
    history = HistoricalRecords(
        excluded_fields=["booking_key", "updated_at"],
        history_change_reason_field=EncryptedTextField(null=True),
    )

    objects: ClassVar[AppointmentQuerySet] = AppointmentQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="appointment_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="appointment_status_valid"
            ),
            models.UniqueConstraint(
                fields=["patient", "booking_key"],
                condition=Q(booking_key__isnull=False),
                name="appointment_booking_key_unique_per_patient",
            ),
        ]
        indexes = [
            models.Index(fields=["doctor", "starts_at"]),
            models.Index(fields=["patient", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
        ]

    def __str__(self) -> str:
        return _("%(doctor)s at %(start)s UTC (%(status)s)") % {
            "doctor": self.doctor,
            "start": f"{self.starts_at:%Y-%m-%d %H:%M}",
            "status": self.get_status_display(),
        }

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise UnauditedWrite("Appointments are never deleted; cancel them instead.")

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_cancelled(self) -> bool:
        return self.status in CANCELLED_STATUSES

    @property
    def for_whom(self) -> str:
        """Whom the visit is for, as staff read it: the patient, or one of the people they
        book for with the relation ("Mia Wolf (child of Leon Wolf)"). Read with
        ``select_related("patient__user", "dependant")`` it needs no query."""
        if self.dependant is None:
            return str(self.patient)
        return self.dependant.with_relation(self.patient)

    @property
    def patient_change_deadline(self) -> dt.datetime:
        """Until when the patient may cancel or reschedule online: the clinic's cutoff
        before the start. The services enforce it; the pages use it to explain."""
        return self.starts_at - self.doctor.clinic.cancellation_cutoff


class Notification(models.Model):
    """One message to a patient about one appointment on one channel (email, SMS): an
    outbox row.

    Rows are created by the booking services in the same transaction as the change they
    announce, so a rolled-back booking leaves no message behind, and the ``key``, unique
    per channel, means the same message can never be queued twice on a channel. Each
    channel's row has its own state, attempts and retries: an SMS gateway that is down
    delays the text messages and not the emails. The worker (``appointments.tasks``)
    claims due rows one at a time under a row lock, hands each to its channel's sender
    (``appointments.channels``), and marks it sent; see docs/operations.md for the
    delivery guarantees.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("Text message (SMS)")

    class Kind(models.TextChoices):
        BOOKED = "booked", _("Booking confirmation")
        RESCHEDULED = "rescheduled", _("Reschedule confirmation")
        CANCELLED_BY_PATIENT = "cancelled_by_patient", _("Cancellation confirmation")
        CANCELLED_BY_CLINIC = "cancelled_by_clinic", _("Cancellation notice from the clinic")
        REMINDER = "reminder", _("Reminder")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (no longer true)")

    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.PROTECT,
        related_name="notifications",
        verbose_name=_("appointment"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.EMAIL
    )
    # The appointment's sequence when the message was queued: a reminder queued for an
    # earlier version of the appointment (since moved or cancelled) is not sent.
    sequence = models.PositiveIntegerField(_("appointment version"))
    # The same for one message on every channel ("appointment-12-v0-booked"); unique per
    # channel (the constraint below). Email makes its Message-ID from it, SMS its reference.
    key = models.CharField(_("key"), max_length=100, editable=False)
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # After a failed send: not before this time (backoff). NULL: as soon as it is due.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["state", "due_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "key"], name="notification_key_unique_per_channel"
            )
        ]

    def __str__(self) -> str:
        return _("%(kind)s by %(channel)s for appointment %(number)s") % {
            "kind": self.get_kind_display(),
            "channel": self.get_channel_display(),
            "number": self.appointment_id,
        }


class CalendarFeed(models.Model):
    """A private iCalendar subscription to one doctor's appointments, at
    ``/calendar/<token>.ics``: the token in the address is its only key, so only its
    SHA-256 is stored (the address is shown once, when made). Revoking it ends it; a
    doctor has at most one feed that is not revoked (``appointments.feeds``)."""

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="calendar_feeds", verbose_name=_("doctor")
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("revoked by"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(
                fields=["doctor"],
                condition=Q(revoked_at__isnull=True),
                name="calendar_feed_one_live_per_doctor",
            )
        ]

    def __str__(self) -> str:
        if self.revoked_at:
            return _("Calendar feed of %(doctor)s (revoked)") % {"doctor": self.doctor}
        return _("Calendar feed of %(doctor)s (live)") % {"doctor": self.doctor}
