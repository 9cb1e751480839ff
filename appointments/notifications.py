"""Queueing messages to patients in the outbox (``Notification``), inside the booking
transaction: one row per message and channel (``appointments.channels`` says which
channels carry what to whom). Sending is ``appointments.tasks``' job."""

import datetime as dt
import functools
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from appointments.channels import channels_for
from appointments.models import Appointment, Notification, Status

Kind = Notification.Kind


def queue_for_change(appointment: Appointment, kind: str) -> list[Notification]:
    """Queue the message announcing ``kind`` (booked, rescheduled, cancelled) and, for a
    booked or moved appointment, its reminders, on each channel that carries them to the
    patient. Reminders queued for an earlier version of the appointment are skipped, on
    every channel. Call inside the transaction that made the change."""
    now = timezone.now()
    Notification.objects.filter(
        appointment=appointment, kind=Kind.REMINDER, state=Notification.State.PENDING
    ).exclude(sequence=appointment.sequence).update(state=Notification.State.SKIPPED)

    rows = [
        _notification(appointment, kind, channel=channel, due_at=now, key_suffix="")
        for channel in channels_for(appointment, kind)
    ]
    if appointment.status == Status.BOOKED:
        reminder_channels = channels_for(appointment, Kind.REMINDER)
        for offset in reminder_offsets():
            due_at = appointment.starts_at - offset
            # A reminder whose time has passed would arrive too late to be one ("your
            # appointment is in 24 hours" two hours before): leave it out.
            if due_at > now:
                minutes = int(offset.total_seconds() // 60)
                rows += [
                    _notification(
                        appointment,
                        Kind.REMINDER,
                        channel=channel,
                        due_at=due_at,
                        key_suffix=f"-{minutes}m",
                    )
                    for channel in reminder_channels
                ]
    # ignore_conflicts: a key already queued on a channel stays queued once.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(wake_the_worker)
    return rows


def reminder_offsets() -> list[dt.timedelta]:
    return [dt.timedelta(minutes=minutes) for minutes in settings.REMINDER_OFFSETS_MINUTES]


def _notification(
    appointment: Appointment, kind: str, *, channel: str, due_at: dt.datetime, key_suffix: str
) -> Notification:
    return Notification(
        appointment=appointment,
        kind=kind,
        channel=channel,
        sequence=appointment.sequence,
        key=f"appointment-{appointment.pk}-v{appointment.sequence}-{kind}{key_suffix}",
        due_at=due_at,
    )


def wake_the_worker() -> None:
    """Ask the worker to send what is due now rather than at its next scheduled sweep.

    After the commit, so the worker finds the rows; if this process dies first, the
    sweep that runs every minute sends them anyway."""
    from django_q.tasks import async_task

    async_task(
        "appointments.tasks.send_due_notifications",
        task_name="send due notifications",
        broker=process_broker(),
    )


@functools.cache
def process_broker() -> Any:
    """django-q's broker, made once per process (docs/performance.md, "The write path").

    ``async_task`` without a broker makes a new one on every call: with Redis a new client
    with its own connection pool, so a new connection and its handshake, which reads the
    redis package's metadata from disk, on every booking, cancel and move. The client's
    pool is thread-safe and starts afresh in a forked process."""
    from django_q.brokers import get_broker

    return get_broker()
