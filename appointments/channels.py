"""The notification channels: which channels carry a message to a patient, and the
sender that delivers an outbox row on each (the registry, ``SENDERS``).

The outbox (``Notification``) has one row per message and channel, each with its own
state, attempts and backoff; the worker (``appointments.tasks``) claims a row, asks this
registry for its channel's sender, and calls ``send``. A new channel (push, a messenger)
is a ``Channel`` choice on the model, a sender class here with ``carries``, ``wanted``
and ``send``, and an entry in ``SENDERS``: queueing, claiming, retries, skipping what is
no longer true, the admin and the guarantees come with the outbox. docs/extensibility.md,
"Notification channels".

- **email**: every message, to every patient (``appointments.emails``).
- **sms**: reminders and the clinic's cancellations, short (one message, 160 GSM
  characters), to patients who have a phone and have opted in (``Patient.sms_opt_in``),
  when ``SMS_BACKEND`` is set (``clinic.sms``). The number is read, and so decrypted,
  only when the message is sent; neither it nor the text is logged.
"""

from typing import ClassVar, Protocol

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from accounts.models import Patient
from appointments import emails
from appointments.models import Appointment, Notification
from clinic import sms
from clinic.local_time import local_format

Kind = Notification.Kind
Channel = Notification.Channel


class Sender(Protocol):
    channel: ClassVar[str]

    def carries(self, kind: str) -> bool:
        """Whether this channel carries messages of ``kind`` at all."""

    def wanted(self, patient: Patient) -> bool:
        """Whether ``patient`` gets this channel's messages now: asked when a message is
        queued and again just before it is sent (an opt-out in between skips it)."""

    def send(self, notification: Notification) -> None:
        """Deliver ``notification`` or raise; the worker records the failure and retries."""


class EmailSender:
    channel: ClassVar[str] = Channel.EMAIL

    def carries(self, kind: str) -> bool:
        return True

    def wanted(self, patient: Patient) -> bool:
        return True

    def send(self, notification: Notification) -> None:
        emails.notification_email(notification).send()


SMS_KINDS = frozenset({Kind.REMINDER, Kind.CANCELLED_BY_CLINIC})
# Mon 9 Mar, 10:00 CET; Mo, 09.03., 10:00 CET (clinic/formats).
SMS_TIME_FORMAT = "SHORT_WEEKDAY_DATETIME_ZONE_FORMAT"


class SmsSender:
    channel: ClassVar[str] = Channel.SMS

    def carries(self, kind: str) -> bool:
        return kind in SMS_KINDS

    def wanted(self, patient: Patient) -> bool:
        # phone_lookup is the phone's keyed hash, "" without one: whether there is a
        # number is known without decrypting it.
        return (
            sms.sms_is_configured()
            and patient.sms_opt_in
            and bool(patient.phone_lookup)
            and patient.erased_at is None
        )

    def send(self, notification: Notification) -> None:
        sms.sms_backend().send(
            to=notification.appointment.patient.phone,
            text=sms_text(notification),
            reference=notification.key,
        )


def sms_text(notification: Notification) -> str:
    """One message (at most 160 GSM characters): what, when, where, and the link."""
    appointment = notification.appointment
    clinic = appointment.doctor.clinic
    keep = {
        "when": local_format(appointment.starts_at, SMS_TIME_FORMAT, clinic.zone),
        "link": settings.SITE_URL + reverse("appointments:detail", args=[appointment.pk]),
    }
    shorten = {"doctor": appointment.doctor.name, "clinic": clinic.name}
    if notification.kind == Kind.CANCELLED_BY_CLINIC:
        template = gettext(
            "%(clinic)s has cancelled your appointment with %(doctor)s on %(when)s. "
            "Book another time: %(link)s"
        )
        keep["link"] = settings.SITE_URL + reverse(
            "appointments:doctor", args=[appointment.doctor_id]
        )
    else:
        template = gettext(
            "Reminder: your appointment with %(doctor)s on %(when)s at %(clinic)s. "
            "Change or cancel: %(link)s"
        )
    return sms.fit_sms(template, keep=keep, shorten=shorten)


# The registry: every channel's sender, email first.
SENDERS: dict[str, Sender] = {
    Channel.EMAIL: EmailSender(),
    Channel.SMS: SmsSender(),
}


def sender(channel: str) -> Sender:
    return SENDERS[channel]


def channels_for(appointment: Appointment, kind: str) -> list[str]:
    """The channels that carry a message of ``kind`` about ``appointment`` to its patient."""
    patient = appointment.patient
    return [
        channel
        for channel, channel_sender in SENDERS.items()
        if channel_sender.carries(kind) and channel_sender.wanted(patient)
    ]
