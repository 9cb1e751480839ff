"""The outbox and its worker: what is queued with each change, when it goes out, that it
goes out once, what is skipped, and how failures are retried. Mail goes to a real SMTP
server on 127.0.0.1; the clock is moved with time-machine."""

import datetime as dt
import email
import email.policy
import importlib
import pydoc
import re

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.urls import reverse
from django_q.models import OrmQ, Schedule

from appointments import emails, notifications, tasks
from appointments.models import Notification
from appointments.services import cancel_appointment, reschedule_appointment
from appointments.tasks import send_due_notifications
from clinic.mailers import mailers_from_url
from tests.conftest import FROZEN_NOW, free_port
from tests.factories import book, local, log_in_staff, make_doctor, make_patient, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

State = Notification.State
Kind = Notification.Kind


@pytest.fixture
def inbox(smtp_server, settings):
    settings.MAILERS = mailers_from_url(f"smtp://{smtp_server.host}:{smtp_server.port}")
    return smtp_server.inbox


@pytest.fixture
def no_smtp_server(settings):
    """Mail goes to a port nobody listens on: every send fails at once."""
    settings.MAILERS = mailers_from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2")


@pytest.fixture
def doctor():
    return make_doctor(name="Dr. Anna Weber")


@pytest.fixture
def patient():
    return make_patient("grace@example.com")


def monday_10(doctor):
    """Monday 9 March 2026, 10:00 in Berlin (CET): 09:00 UTC."""
    return local(doctor.clinic, 2026, 3, 9, 10)


def subjects(inbox) -> list[str]:
    return [
        str(email.message_from_bytes(e.content, policy=email.policy.default)["Subject"]).strip()
        for e in inbox.envelopes
    ]


def label(notification):
    """ "booked", "reminder-1440m": the key without its appointment and version."""
    return notification.key.split(f"-v{notification.sequence}-", 1)[1]


def states(appointment) -> dict[str, str]:
    """Each notification's state, for an appointment that has had one version."""
    return {label(n): n.state for n in appointment.notifications.all()}


UTC = dt.UTC


# --- Queueing -----------------------------------------------------------------------------


def test_a_booking_queues_its_confirmation_and_a_reminder_24_and_2_hours_before(doctor, patient):
    appointment = book(patient, doctor, monday_10(doctor))

    due = {label(n): n.due_at for n in appointment.notifications.all()}

    assert due == {
        "booked": FROZEN_NOW,
        "reminder-1440m": dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC),
        "reminder-120m": dt.datetime(2026, 3, 9, 7, 0, tzinfo=UTC),
    }
    assert set(appointment.notifications.values_list("state", flat=True)) == {State.PENDING}


def test_the_reminder_offsets_come_from_the_settings(doctor, patient, settings):
    settings.REMINDER_OFFSETS_MINUTES = [60 * 48]

    appointment = book(patient, doctor, monday_10(doctor))

    [reminder] = appointment.notifications.filter(kind=Kind.REMINDER)
    assert reminder.due_at == dt.datetime(2026, 3, 7, 9, 0, tzinfo=UTC)


def test_the_same_message_cannot_be_queued_twice(doctor, patient):
    appointment = book(patient, doctor, monday_10(doctor))
    booked = appointment.notifications.get(kind=Kind.BOOKED)

    with transaction.atomic():
        notifications.queue_for_change(appointment, Kind.BOOKED)
    assert appointment.notifications.count() == 3

    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            appointment=appointment, kind=Kind.BOOKED, sequence=0, key=booked.key, due_at=FROZEN_NOW
        )


def test_a_rolled_back_booking_leaves_no_notification_and_wakes_no_worker(
    inbox, doctor, patient, django_capture_on_commit_callbacks
):
    def book_then_fail():
        with transaction.atomic():
            book(patient, doctor, monday_10(doctor))
            raise RuntimeError("something after the booking failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        book_then_fail()

    assert not Notification.objects.exists()
    assert callbacks == []
    assert not OrmQ.objects.exists()
    assert send_due_notifications() == 0
    assert inbox.envelopes == []


def test_a_committed_booking_wakes_the_worker_after_the_commit(
    doctor, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        book(patient, doctor, monday_10(doctor))

    [task] = OrmQ.objects.all()
    assert task.func() == "appointments.tasks.send_due_notifications"


def test_a_schedule_sweeps_the_outbox_every_minute():
    migration = importlib.import_module("appointments.migrations.0005_notification_sweep_schedule")
    Schedule.objects.all().delete()

    migration.create_schedule(apps, None)
    migration.create_schedule(apps, None)

    [schedule] = Schedule.objects.all()
    assert schedule.func == "appointments.tasks.send_due_notifications"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
    # django-q2 finds the function by this name, as pydoc.locate does.
    assert pydoc.locate(schedule.func) is tasks.send_due_notifications


# --- Sending once -------------------------------------------------------------------------


def test_the_confirmation_is_sent_once_however_often_the_worker_runs(inbox, doctor, patient):
    appointment = book(patient, doctor, monday_10(doctor))

    assert send_due_notifications() == 1
    assert send_due_notifications() == 0

    assert len(inbox.envelopes) == 1
    booked = appointment.notifications.get(kind=Kind.BOOKED)
    assert (booked.state, booked.attempts, booked.sent_at) == (State.SENT, 1, FROZEN_NOW)


def test_each_message_carries_a_message_id_made_from_its_key(inbox, doctor, patient, settings):
    settings.SITE_URL = "https://clinic.example.org"
    appointment = book(patient, doctor, monday_10(doctor))

    send_due_notifications()

    message = email.message_from_bytes(inbox.envelopes[0].content, policy=email.policy.default)
    assert message["Message-ID"] == f"<appointment-{appointment.pk}-v0-booked@clinic.example.org>"


# --- Reminders ----------------------------------------------------------------------------


def test_reminders_go_out_24_and_2_hours_before_and_not_a_second_earlier(
    inbox, doctor, patient, frozen_now
):
    book(patient, doctor, monday_10(doctor))
    send_due_notifications()

    frozen_now.move_to(dt.datetime(2026, 3, 8, 8, 59, 59, tzinfo=UTC))
    assert send_due_notifications() == 0
    frozen_now.move_to(dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC))
    assert send_due_notifications() == 1
    assert send_due_notifications() == 0
    frozen_now.move_to(dt.datetime(2026, 3, 9, 6, 59, 59, tzinfo=UTC))
    assert send_due_notifications() == 0
    frozen_now.move_to(dt.datetime(2026, 3, 9, 7, 0, tzinfo=UTC))
    assert send_due_notifications() == 1
    frozen_now.move_to(dt.datetime(2026, 3, 9, 8, 0, tzinfo=UTC))
    assert send_due_notifications() == 0

    reminder = "Reminder: Consultation with Dr. Anna Weber on Mon 9 Mar, 10:00 CET"
    assert subjects(inbox)[1:] == [reminder, reminder]


def test_a_late_worker_sends_a_reminder_that_is_overdue_but_still_ahead(
    inbox, doctor, patient, frozen_now
):
    appointment = book(patient, doctor, monday_10(doctor))

    # The worker was down from before the 24-hour reminder until 3 hours before.
    frozen_now.move_to(dt.datetime(2026, 3, 9, 6, 0, tzinfo=UTC))
    assert send_due_notifications() == 2

    assert states(appointment) == {
        "booked": State.SENT,
        "reminder-1440m": State.SENT,
        "reminder-120m": State.PENDING,
    }


def test_reminders_of_an_appointment_that_has_begun_are_skipped(inbox, doctor, patient, frozen_now):
    appointment = book(patient, doctor, monday_10(doctor))
    send_due_notifications()

    frozen_now.move_to(dt.datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    assert send_due_notifications() == 0

    assert len(inbox.envelopes) == 1
    assert states(appointment)["reminder-1440m"] == State.SKIPPED
    assert states(appointment)["reminder-120m"] == State.SKIPPED


def test_a_booking_3_hours_ahead_gets_the_2_hour_reminder_only(inbox, doctor, patient, frozen_now):
    # Now is Wednesday 09:00 in Berlin; the appointment is at 12:00.
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 4, 12))

    assert sorted(appointment.notifications.values_list("kind", "due_at")) == [
        (Kind.BOOKED, FROZEN_NOW),
        (Kind.REMINDER, dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC)),
    ]
    frozen_now.move_to(dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    assert send_due_notifications() == 2


def test_a_cancelled_appointment_gets_no_reminders(inbox, doctor, patient, frozen_now):
    appointment = book(patient, doctor, monday_10(doctor))
    send_due_notifications()
    cancel_appointment(appointment=appointment, cancelled_by=patient.user)
    send_due_notifications()

    frozen_now.move_to(dt.datetime(2026, 3, 9, 8, 0, tzinfo=UTC))
    assert send_due_notifications() == 0

    assert [s.split(":")[0] for s in subjects(inbox)] == ["Booked", "Cancelled"]
    assert states(appointment)["reminder-1440m"] == State.SKIPPED


def test_the_worker_itself_skips_a_reminder_of_an_older_version(inbox, doctor, patient, frozen_now):
    # The services mark old reminders skipped when they change the appointment; the
    # worker checks again, for a row that escaped them.
    appointment = book(patient, doctor, monday_10(doctor))
    cancel_appointment(appointment=appointment, cancelled_by=patient.user)
    appointment.notifications.filter(kind=Kind.REMINDER).update(state=State.PENDING)

    frozen_now.move_to(dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC))
    send_due_notifications()

    assert [s.split(":")[0] for s in subjects(inbox)] == ["Cancelled"]
    assert states(appointment)["reminder-1440m"] == State.SKIPPED


def test_a_moved_appointment_is_reminded_of_its_new_time_only(inbox, doctor, patient, frozen_now):
    appointment = book(patient, doctor, monday_10(doctor))
    send_due_notifications()
    reschedule_appointment(
        appointment=appointment,
        starts_at=local(doctor.clinic, 2026, 3, 10, 10),
        rescheduled_by=patient.user,
    )
    send_due_notifications()

    # When the old time's reminders were due: nothing.
    frozen_now.move_to(dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC))
    assert send_due_notifications() == 0
    frozen_now.move_to(dt.datetime(2026, 3, 9, 7, 0, tzinfo=UTC))
    assert send_due_notifications() == 0
    # The new time's.
    frozen_now.move_to(dt.datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
    assert send_due_notifications() == 1
    frozen_now.move_to(dt.datetime(2026, 3, 10, 7, 0, tzinfo=UTC))
    assert send_due_notifications() == 1

    reminder = "Reminder: Consultation with Dr. Anna Weber on Tue 10 Mar, 10:00 CET"
    assert subjects(inbox)[2:] == [reminder, reminder]
    old = appointment.notifications.filter(kind=Kind.REMINDER, sequence=0)
    assert set(old.values_list("state", flat=True)) == {State.SKIPPED}


# --- Overtaken confirmations --------------------------------------------------------------


def test_a_booking_confirmation_overtaken_by_a_reschedule_is_not_sent(inbox, doctor, patient):
    appointment = book(patient, doctor, monday_10(doctor))
    reschedule_appointment(
        appointment=appointment,
        starts_at=local(doctor.clinic, 2026, 3, 9, 14),
        rescheduled_by=patient.user,
    )

    assert send_due_notifications() == 1

    assert [s.split(":")[0] for s in subjects(inbox)] == ["Rescheduled"]
    assert states(appointment)["booked"] == State.SKIPPED


def test_a_cancellation_goes_out_even_before_its_booking_confirmation_did(inbox, doctor, patient):
    appointment = book(patient, doctor, monday_10(doctor))
    cancel_appointment(appointment=appointment, cancelled_by=patient.user)

    send_due_notifications()

    assert [s.split(":")[0] for s in subjects(inbox)] == ["Cancelled"]


# --- Failures -----------------------------------------------------------------------------


def test_a_failing_send_is_retried_after_1_5_and_25_minutes_then_marked_failed(
    no_smtp_server, doctor, patient, frozen_now, settings
):
    assert settings.NOTIFICATION_MAX_ATTEMPTS == 4
    appointment = book(patient, doctor, monday_10(doctor))
    booked = appointment.notifications.get(kind=Kind.BOOKED)

    def attempt_at(moment):
        frozen_now.move_to(moment)
        assert send_due_notifications() == 0
        booked.refresh_from_db()
        return booked.state, booked.attempts, booked.next_attempt_at

    minutes = [dt.timedelta(minutes=m) for m in (0, 1, 6, 31)]
    assert attempt_at(FROZEN_NOW) == (State.PENDING, 1, FROZEN_NOW + minutes[1])
    assert "ConnectionRefusedError" in booked.last_error
    # Not before its backoff is over.
    assert attempt_at(FROZEN_NOW + minutes[1] - dt.timedelta(seconds=1))[1] == 1
    assert attempt_at(FROZEN_NOW + minutes[1]) == (State.PENDING, 2, FROZEN_NOW + minutes[2])
    assert attempt_at(FROZEN_NOW + minutes[2]) == (State.PENDING, 3, FROZEN_NOW + minutes[3])
    assert attempt_at(FROZEN_NOW + minutes[3]) == (State.FAILED, 4, None)
    assert attempt_at(FROZEN_NOW + dt.timedelta(days=1))[:2] == (State.FAILED, 4)


def test_a_send_that_failed_goes_out_on_its_retry(
    smtp_server, doctor, patient, frozen_now, settings
):
    appointment = book(patient, doctor, monday_10(doctor))
    settings.MAILERS = mailers_from_url(f"smtp://127.0.0.1:{free_port()}?timeout=2")
    send_due_notifications()
    settings.MAILERS = mailers_from_url(f"smtp://{smtp_server.host}:{smtp_server.port}")

    frozen_now.move_to(FROZEN_NOW + dt.timedelta(minutes=1))
    assert send_due_notifications() == 1

    booked = appointment.notifications.get(kind=Kind.BOOKED)
    assert (booked.state, booked.attempts, booked.next_attempt_at) == (State.SENT, 2, None)
    assert len(smtp_server.inbox.envelopes) == 1


def test_one_email_that_cannot_be_built_does_not_hold_up_the_others(
    inbox, doctor, patient, monkeypatch
):
    broken = book(patient, doctor, monday_10(doctor))
    fine = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 11))
    build = emails.notification_email

    def build_or_fail(notification):
        if notification.appointment_id == broken.pk:
            raise ValueError("template trouble")
        return build(notification)

    monkeypatch.setattr(emails, "notification_email", build_or_fail)

    assert send_due_notifications() == 1

    assert states(fine)["booked"] == State.SENT
    failed = broken.notifications.get(kind=Kind.BOOKED)
    assert (failed.state, failed.last_error) == (State.PENDING, "ValueError: template trouble")


def test_a_run_stops_at_its_limit_and_queues_another(inbox, doctor, patient):
    for hour in (10, 11, 12):
        book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, hour))

    assert send_due_notifications(limit=2) == 2

    assert Notification.objects.filter(kind=Kind.BOOKED, state=State.PENDING).count() == 1
    [task] = OrmQ.objects.all()
    assert task.func() == "appointments.tasks.send_due_notifications"


# --- Staff see them -----------------------------------------------------------------------


@pytest.fixture
def admin_client(client):
    log_in_staff(client, make_user("boss@example.com", is_staff=True, is_superuser=True))
    return client


def test_the_appointment_page_in_the_admin_lists_its_emails_and_their_state(
    admin_client, inbox, doctor, patient
):
    appointment = book(patient, doctor, monday_10(doctor))
    send_due_notifications()

    response = admin_client.get(
        reverse("admin:appointments_appointment_change", args=[appointment.pk])
    )

    page = response.content.decode()

    def column(name):
        return re.findall(rf'<td class="field-{name}">\s*<p>([^<]*)</p>', page)

    assert column("kind") == ["Booking confirmation", "Reminder", "Reminder"]
    assert column("state") == ["Sent", "Pending", "Pending"]
    assert column("due") == [
        "Wed 4 Mar 2026, 09:00 CET",
        "Sun 8 Mar 2026, 10:00 CET",
        "Mon 9 Mar 2026, 08:00 CET",
    ]
    # Shown, not editable.
    assert 'name="notifications-0-state"' not in page


def test_the_notification_list_filters_failed_sends(
    admin_client, no_smtp_server, doctor, patient, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    failed = book(patient, doctor, monday_10(doctor))
    send_due_notifications()
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 11))

    response = admin_client.get(
        reverse("admin:appointments_notification_changelist"), {"state__exact": "failed"}
    )

    assert response.status_code == 200
    assert [n.pk for n in response.context["cl"].result_list] == [
        failed.notifications.get(kind=Kind.BOOKED).pk
    ]
    assert (
        admin_client.get(
            reverse("admin:appointments_notification_changelist"), {"kind__exact": "reminder"}
        )
        .context["cl"]
        .result_count
        == 4
    )


def test_notifications_cannot_be_added_changed_or_deleted_in_the_admin(
    admin_client, doctor, patient
):
    appointment = book(patient, doctor, monday_10(doctor))
    booked = appointment.notifications.get(kind=Kind.BOOKED)

    assert admin_client.get(reverse("admin:appointments_notification_add")).status_code == 403
    assert (
        admin_client.post(
            reverse("admin:appointments_notification_change", args=[booked.pk]), {"state": "sent"}
        ).status_code
        == 403
    )
    assert (
        admin_client.post(
            reverse("admin:appointments_notification_delete", args=[booked.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    booked.refresh_from_db()
    assert booked.state == State.PENDING
