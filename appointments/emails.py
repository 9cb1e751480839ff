"""The patient's emails: subject, plain text, HTML and calendar invite for each kind of
notification.

An email is rendered when it is sent, from the appointment as it is then (the worker
does not send a confirmation that a later change has overtaken; see ``tasks``). Times are
on the clinic's wall clock with the zone's abbreviation ("Monday 9 March 2026, 10:00
CET"), because that is the time on the clinic's door, wherever the patient reads it.

A change (booking, reschedule, cancellation) carries its calendar invite the way every
calendar program accepts it (RFC 6047, and what Outlook needs to show a meeting request
rather than a file): ``multipart/alternative`` with text/plain, text/html and
``text/calendar; method=REQUEST`` (or ``CANCEL``) inside, and the same file attached as
``invite.ics`` (``application/ics``, as Gmail sends it, so that a program reading both
shows one invite) for the programs that only offer attachments::

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST
      application/ics (invite.ics)

The sender's name is the clinic's ("Lindenhof Practice <no-reply@...>"), at the address of
``DEFAULT_FROM_EMAIL``.

Every message carries a Message-ID made from the notification's unique key, so the rare
message sent twice (a worker dying between the SMTP server's "accepted" and the row
being marked sent, see docs/operations.md) is recognisably the same message.
"""

import datetime as dt
import email.policy
import re
from email.message import EmailMessage
from email.policy import Policy
from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from appointments.calendar import Method, appointment_calendar, event_summary
from appointments.models import Appointment, Notification
from clinic.local_time import local_format

Kind = Notification.Kind

# "Booked: Consultation with Dr. Anna Weber on Mon 9 Mar, 10:00 CET", in the patient's
# language (the worker renders each email under their language).
SUBJECTS: dict[str, StrOrPromise] = {
    Kind.BOOKED: _("Booked: %(what)s on %(when)s"),
    Kind.RESCHEDULED: _("Rescheduled: %(what)s, now on %(when)s"),
    Kind.CANCELLED_BY_PATIENT: _("Cancelled: %(what)s on %(when)s"),
    Kind.CANCELLED_BY_CLINIC: _("Cancelled by the clinic: %(what)s on %(when)s"),
    Kind.REMINDER: _("Reminder: %(what)s on %(when)s"),
}
# Which calendar invite each kind carries; reminders change nothing, so they carry none.
INVITE_METHODS: dict[str, Method] = {
    Kind.BOOKED: "REQUEST",
    Kind.RESCHEDULED: "REQUEST",
    Kind.CANCELLED_BY_PATIENT: "CANCEL",
    Kind.CANCELLED_BY_CLINIC: "CANCEL",
}
INVITE_FILENAME = "invite.ics"
INVITE_ATTACHMENT_TYPE = "application/ics"
# The languages' formats (clinic/formats): Mon 9 Mar, 10:00 CET; Mo, 09.03., 10:00 CET.
SUBJECT_TIME_FORMAT = "SHORT_WEEKDAY_DATETIME_ZONE_FORMAT"
# Monday 9 March 2026, 10:00 CET; Montag, 9. März 2026, 10:00 CET.
BODY_TIME_FORMAT = "WEEKDAY_DATETIME_ZONE_FORMAT"


class InviteEmail(EmailMultiAlternatives):
    """An email whose ``multipart/alternative`` ends with a calendar invite.

    Django's ``attach_alternative`` takes a bare MIME type and so cannot write the
    ``method`` parameter that calendar programs read; the part is added to the message
    Django builds instead."""

    def __init__(self, *args: Any, invite: tuple[bytes, Method] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.invite = invite

    def message(self, *, policy: Policy | None = email.policy.default) -> EmailMessage:
        message = super().message(policy=policy)
        if self.invite is None:
            return message
        content, method = self.invite
        [alternative] = [
            part for part in message.walk() if part.get_content_type() == "multipart/alternative"
        ]
        alternative.add_alternative(
            content.decode(),
            subtype="calendar",
            charset="utf-8",
            # 7-bit safe, like the bodies: an address line may hold non-ASCII letters.
            cte="quoted-printable",
            params={"method": method},
        )
        return message


def notification_email(notification: Notification) -> EmailMultiAlternatives:
    """The email for ``notification``, ready to ``send()``."""
    appointment = notification.appointment
    patient = appointment.patient
    clinic = appointment.doctor.clinic
    context = email_context(notification)
    template = f"appointments/email/{notification.kind}"
    method = INVITE_METHODS.get(notification.kind)
    invite = (appointment_calendar(appointment, method=method), method) if method else None

    message = InviteEmail(
        subject=subject(notification),
        body=_tidy_text(render_to_string(f"{template}.txt", context)),
        from_email=sender(appointment),
        to=[formataddr((patient.full_name, patient.email))],
        reply_to=[clinic.email] if clinic.email else None,
        headers={
            "Message-ID": message_id(notification),
            # RFC 3834: an automatic message; out-of-office replies should not answer it.
            "Auto-Submitted": "auto-generated",
        },
        invite=invite,
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    if invite:
        message.attach(INVITE_FILENAME, invite[0], INVITE_ATTACHMENT_TYPE)
    return message


def sender(appointment: Appointment) -> str:
    """The clinic's name at ``DEFAULT_FROM_EMAIL``'s address: the patient sees who wrote."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    # A name from the database; a line break in a header would be refused.
    return formataddr((" ".join(appointment.doctor.clinic.name.split()), address))


def subject(notification: Notification) -> str:
    appointment = notification.appointment
    when = local_format(local_start(appointment), SUBJECT_TIME_FORMAT)
    # The invite's summary: it names whom the visit is for when it is not the patient.
    what = event_summary(appointment)
    text = SUBJECTS[notification.kind] % {"what": what, "when": when}
    # Names come from the database; a line break in a header would be refused.
    return " ".join(text.split())


def message_id(notification: Notification) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{notification.key}@{host}>"


def email_context(notification: Notification) -> dict[str, Any]:
    appointment = notification.appointment
    clinic = appointment.doctor.clinic
    previous_start = (
        _previous_start(notification) if notification.kind == Kind.RESCHEDULED else None
    )
    return {
        "notification": notification,
        "appointment": appointment,
        "patient": appointment.patient,
        # Whom the visit is for, when it is one of the people the patient books for;
        # the email goes to the account holder either way.
        "for_person": appointment.dependant.full_name if appointment.dependant else "",
        "doctor": appointment.doctor,
        "appointment_type": appointment.appointment_type,
        "clinic": clinic,
        "address_lines": [line.strip() for line in clinic.address.splitlines() if line.strip()],
        "when": local_format(local_start(appointment), BODY_TIME_FORMAT),
        "ends": local_format(appointment.ends_at, "TIME_ZONE_FORMAT", clinic.zone),
        "previous_when": (
            local_format(previous_start, BODY_TIME_FORMAT, clinic.zone) if previous_start else ""
        ),
        "change_deadline": local_format(
            appointment.patient_change_deadline, BODY_TIME_FORMAT, clinic.zone
        ),
        "manage_url": settings.SITE_URL + reverse("appointments:detail", args=[appointment.pk]),
        # Where to find another time with the same doctor.
        "doctor_url": settings.SITE_URL
        + reverse("appointments:doctor", args=[appointment.doctor_id]),
        "has_invite": notification.kind in INVITE_METHODS,
    }


def local_start(appointment: Appointment) -> dt.datetime:
    return appointment.starts_at.astimezone(appointment.doctor.clinic.zone)


def _previous_start(notification: Notification) -> dt.datetime | None:
    """Where a rescheduled appointment was before: its last recorded version before this
    change, from the audit trail."""
    previous: dt.datetime | None = (
        notification.appointment.history.filter(sequence__lt=notification.sequence)
        .order_by("-history_date", "-history_id")
        .values_list("starts_at", flat=True)
        .first()
    )
    return previous


def _tidy_text(text: str) -> str:
    # Template tags leave blank lines and trailing spaces behind; in HTML they vanish,
    # in plain text the reader sees them.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
