"""Background tasks run by the django-q2 worker (``manage.py qcluster``).

``send_due_notifications`` drains the outbox (``Notification``), every channel's rows
(email, SMS: ``appointments.channels``). It is queued after every booking, cancellation
and reschedule commits, and a schedule runs it every minute for reminders, retries and
anything whose wake-up was lost (migration 0005). Any number of copies may run at once,
in any number of processes: each row is claimed under a row lock, so each message is
sent by one of them, once per channel. docs/operations.md has the guarantees.
"""

import datetime as dt
import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation

from appointments import channels, notifications
from appointments.models import Appointment, Notification, Status

logger = logging.getLogger(__name__)

State = Notification.State
Kind = Notification.Kind

# One run handles at most this many rows and claims new ones for at most this long, so it
# ends inside Q_CLUSTER["timeout"] (60 s) even when its last send waits out the SMTP
# timeout (10 s). Whatever is left stays pending, and the run queues another.
BATCH_LIMIT = 500
CLAIM_SECONDS = 30.0


def send_due_notifications(limit: int = BATCH_LIMIT) -> int:
    """Send the notifications that are due, one row per transaction; return how many
    were sent."""
    deadline = time.monotonic() + CLAIM_SECONDS
    sent = 0
    for _ in range(limit):
        if time.monotonic() > deadline:
            break
        outcome = send_next_notification()
        if outcome is None:
            return sent
        if outcome == State.SENT:
            sent += 1
    # Stopped by the limit or the clock, not for want of work: carry on in a fresh task
    # rather than waiting for the next scheduled sweep.
    notifications.wake_the_worker()
    return sent


def send_next_notification() -> str | None:
    """Claim the next due notification, send it (or skip it, or record the failure) and
    commit. Returns its new state, or None when nothing is due.

    The row lock is held while the message goes to the SMTP server (or the SMS
    gateway), deliberately: it is
    what keeps a second worker off this row. If this process dies mid-send, its
    database connection dies with it, PostgreSQL drops the lock and rolls back, and the
    row is pending again for the next sweep. A lease column ("claimed until") would need
    a timeout guessed longer than any send and would still be open to the same crash.

    Lock order: only this row is locked, never its appointment. The booking services
    lock the appointment and then update its pending reminders; taking the appointment
    here too would invert that order and deadlock.
    """
    with transaction.atomic():
        now = timezone.now()
        notification = claim_next_notification(now)
        if notification is None:
            return None
        # The encrypted phone and date of birth stay unread (and undecrypted) unless a
        # sender asks for them: only the SMS sender reads the phone, when it sends.
        notification.appointment = (
            Appointment.objects.select_related(
                "patient__user", "doctor__clinic", "appointment_type"
            )
            .defer("patient__phone", "patient__date_of_birth")
            .get(pk=notification.appointment_id)
        )

        if no_longer_true(notification, now):
            notification.state = State.SKIPPED
            notification.next_attempt_at = None
            notification.save(update_fields=["state", "next_attempt_at"])
            logger.info("Skipped %s %s: no longer true", notification.channel, notification.key)
            return notification.state

        notification.attempts += 1
        try:
            # A savepoint, so that a database error while rendering leaves this
            # transaction usable for recording the failure.
            with transaction.atomic(), translation.override(message_language(notification)):
                channels.sender(notification.channel).send(notification)
        except Exception as error:
            # Every failure is recorded, whatever it is: a row that raised out of here
            # would stay first in line and block every email behind it.
            record_failure(notification, error, now)
            return notification.state

        notification.state = State.SENT
        notification.sent_at = timezone.now()
        notification.next_attempt_at = None
        notification.save(update_fields=["state", "sent_at", "attempts", "next_attempt_at"])
        logger.info("Sent %s %s", notification.channel, notification.key)
        return notification.state


def message_language(notification: Notification) -> str:
    """The language the patient reads (chosen on their profile, else that of their first
    sign-in): every message to them (an email with its subject and invite, a text
    message) is rendered in it."""
    return notification.appointment.patient.user.message_language


def due_notifications(now: dt.datetime) -> QuerySet[Notification]:
    """Pending notifications due by ``now`` and not waiting out a backoff, oldest first."""
    return (
        Notification.objects.filter(state=State.PENDING, due_at__lte=now)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("due_at", "pk")
    )


def claim_next_notification(now: dt.datetime) -> Notification | None:
    """Lock and return the oldest due notification that no other worker holds.

    SKIP LOCKED: a row another worker is sending is passed over, not waited for, so
    workers share a burst instead of queueing behind one another. ``of=("self",)`` locks
    the notification row only. On SQLite there are no row locks; the IMMEDIATE
    transaction mode makes the whole claim-send-mark transaction exclusive instead.

    A seam: the worker-process tests' control replaces it with a claim that does not lock.
    """
    return due_notifications(now).select_for_update(skip_locked=True, of=("self",)).first()


def no_longer_true(notification: Notification, now: dt.datetime) -> bool:
    """Whether the message would now tell the patient something false.

    A reminder is for one version of a booked appointment (its ``sequence``): not for a
    cancelled or moved one (the move queued reminders of its own), nor one that has
    begun. A confirmation is rendered from the appointment as it is now, so one that a
    later change has overtaken is skipped: that change's own message, queued with it,
    tells the patient. Cancellations are final and always go out. A channel the patient
    no longer wants (an SMS after opting out or removing the phone) is skipped too.
    """
    appointment = notification.appointment
    channel_sender = channels.SENDERS.get(notification.channel)
    # An unknown channel is no reason to skip: its send fails, and the admin shows why.
    if channel_sender is not None and not channel_sender.wanted(appointment.patient):
        return True
    if notification.kind == Kind.REMINDER:
        return (
            appointment.status != Status.BOOKED
            or notification.sequence != appointment.sequence
            or appointment.starts_at <= now
        )
    if notification.kind in (Kind.BOOKED, Kind.RESCHEDULED):
        return notification.sequence != appointment.sequence
    return False


def record_failure(notification: Notification, error: Exception, now: dt.datetime) -> None:
    """Retry later with exponential backoff (1, 5, 25 minutes...), or give up after
    ``NOTIFICATION_MAX_ATTEMPTS`` attempts; the admin shows failed rows and their error."""
    notification.last_error = f"{type(error).__name__}: {error}"[:2000]
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        notification.state = State.FAILED
        notification.next_attempt_at = None
        logger.error(
            "Gave up on %s %s: %s",
            notification.channel,
            notification.key,
            notification.last_error,
        )
    else:
        notification.next_attempt_at = now + retry_delay(notification.attempts)
        logger.warning(
            "Sending %s %s failed (attempt %d), retrying at %s: %s",
            notification.channel,
            notification.key,
            notification.attempts,
            notification.next_attempt_at.isoformat(),
            notification.last_error,
        )
    notification.save(update_fields=["state", "attempts", "last_error", "next_attempt_at"])


def retry_delay(failed_attempts: int) -> dt.timedelta:
    """1 minute after the first failure, then 5, 25, ...: a short outage costs a minute,
    a long one is not hammered."""
    return dt.timedelta(minutes=5 ** (failed_attempts - 1))
