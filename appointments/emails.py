"""The patient's emails: subject, plain text, HTML and calendar invite for each kind of
notification.

An email is rendered when it is sent, from the appointment as it is then (the worker
does not send a confirmation that a later change has overtaken; see ``tasks``). Times are
on the clinic's wall clock with the zone's abbreviation ("Monday 9 March 2026, 10:00
CET"), because that is the time on the clinic's door, wherever the patient reads it.

Every message carries a Message-ID made from the notification's unique key, so the rare
message sent twice (a worker dying between the SMTP server's "accepted" and the row
being marked sent, see docs/operations.md) is recognisably the same message.
"""

import datetime as dt
import re
from email.message import MIMEPart
from email.utils import formataddr
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat

from appointments.calendar import Method, appointment_calendar
from appointments.models import Appointment, Notification

Kind = Notification.Kind

# "Booked: Consultation with Dr. Anna Weber on Mon 9 Mar, 10:00 CET"
SUBJECT_PREFIXES: dict[str, str] = {
    Kind.BOOKED: "Booked",
    Kind.RESCHEDULED: "Rescheduled",
    Kind.CANCELLED_BY_PATIENT: "Cancelled",
    Kind.CANCELLED_BY_CLINIC: "Cancelled by the clinic",
    Kind.REMINDER: "Reminder",
}
# Which calendar invite each kind carries; reminders change nothing, so they carry none.
INVITE_METHODS: dict[str, Method] = {
    Kind.BOOKED: "REQUEST",
    Kind.RESCHEDULED: "REQUEST",
    Kind.CANCELLED_BY_PATIENT: "CANCEL",
    Kind.CANCELLED_BY_CLINIC: "CANCEL",
}
INVITE_FILENAME = "invite.ics"
SUBJECT_TIME_FORMAT = "D j M, H:i T"  # Mon 9 Mar, 10:00 CET
BODY_TIME_FORMAT = "l j F Y, H:i T"  # Monday 9 March 2026, 10:00 CET


def notification_email(notification: Notification) -> EmailMultiAlternatives:
    """The email for ``notification``, ready to ``send()``."""
    appointment = notification.appointment
    patient = appointment.patient
    clinic = appointment.doctor.clinic
    context = email_context(notification)
    template = f"appointments/email/{notification.kind}"

    message = EmailMultiAlternatives(
        subject=subject(notification),
        body=_tidy_text(render_to_string(f"{template}.txt", context)),
        to=[formataddr((patient.full_name, patient.email))],
        reply_to=[clinic.email] if clinic.email else None,
        headers={
            "Message-ID": message_id(notification),
            # RFC 3834: an automatic message; out-of-office replies should not answer it.
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    method = INVITE_METHODS.get(notification.kind)
    if method:
        message.attach(calendar_invite(appointment, method))
    return message


def subject(notification: Notification) -> str:
    appointment = notification.appointment
    when = dateformat.format(local_start(appointment), SUBJECT_TIME_FORMAT)
    what = f"{appointment.appointment_type.name} with {appointment.doctor.name}"
    if notification.kind == Kind.RESCHEDULED:
        text = f"{SUBJECT_PREFIXES[notification.kind]}: {what}, now on {when}"
    else:
        text = f"{SUBJECT_PREFIXES[notification.kind]}: {what} on {when}"
    # Names come from the database; a line break in a header would be refused.
    return " ".join(text.split())


def message_id(notification: Notification) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{notification.key}@{host}>"


def calendar_invite(appointment: Appointment, method: Method) -> MIMEPart:
    """``invite.ics`` as an attachment whose Content-Type names the iTIP method, which
    mail programs read to offer "add to calendar" or to remove the event."""
    part = MIMEPart()
    part.set_content(
        appointment_calendar(appointment, method=method).decode(),
        subtype="calendar",
        charset="utf-8",
        # 7-bit safe, like the bodies: an address line may hold non-ASCII letters.
        cte="quoted-printable",
        params={"method": method},
        disposition="attachment",
        filename=INVITE_FILENAME,
    )
    return part


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
        "doctor": appointment.doctor,
        "appointment_type": appointment.appointment_type,
        "clinic": clinic,
        "address_lines": [line.strip() for line in clinic.address.splitlines() if line.strip()],
        "when": dateformat.format(local_start(appointment), BODY_TIME_FORMAT),
        "ends": dateformat.format(appointment.ends_at.astimezone(clinic.zone), "H:i T"),
        "previous_when": (
            dateformat.format(previous_start.astimezone(clinic.zone), BODY_TIME_FORMAT)
            if previous_start
            else ""
        ),
        "change_deadline": dateformat.format(
            appointment.patient_change_deadline.astimezone(clinic.zone), BODY_TIME_FORMAT
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
