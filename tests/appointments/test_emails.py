"""What the patient receives: each kind of email, through a real SMTP server, with its
subject, text and HTML bodies, and its calendar invite."""

import datetime as dt
import email
import email.policy
from email.message import EmailMessage

import pytest
from icalendar import Calendar

from appointments.models import Appointment
from appointments.services import cancel_appointment, reschedule_appointment
from appointments.tasks import send_due_notifications
from clinic.mailers import mailers_from_url
from tests.factories import book, local, make_clinic, make_doctor, make_patient
from tests.itip import valid_calendar

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

SITE_URL = "https://clinic.example.org"


@pytest.fixture
def inbox(smtp_server, settings):
    settings.MAILERS = mailers_from_url(f"smtp://{smtp_server.host}:{smtp_server.port}")
    settings.SITE_URL = SITE_URL
    return smtp_server.inbox


@pytest.fixture
def clinic():
    return make_clinic(
        name="Lindenhof Practice",
        address="Lindenstraße 5\n10969 Berlin",
        phone="+49 30 555 0100",
        email="praxis@lindenhof.example",
    )


@pytest.fixture
def patient():
    return make_patient("grace@example.com", full_name="Grace Hopper")


@pytest.fixture
def appointment(clinic, patient) -> Appointment:
    doctor = make_doctor(clinic, name="Dr. Anna Weber", specialty="General practice")
    return book(patient, doctor, local(clinic, 2026, 3, 9, 10))


def received(inbox) -> list[EmailMessage]:
    return [
        email.message_from_bytes(envelope.content, policy=email.policy.default)
        for envelope in inbox.envelopes
    ]


def sent_now(inbox) -> EmailMessage:
    """Run the worker's sweep; return the one email it sent."""
    before = len(inbox.envelopes)
    send_due_notifications()
    [message] = received(inbox)[before:]
    return message


def subject_of(message: EmailMessage) -> str:
    # A long subject is folded onto the line after "Subject:"; Python's parser keeps the
    # fold's space, mail programs drop it.
    return str(message["Subject"]).strip()


def body_of(message: EmailMessage, subtype: str):
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return body.get_content()


def text_of(message: EmailMessage):
    return body_of(message, "plain")


def html_of(message: EmailMessage):
    return body_of(message, "html")


def invite_of(message: EmailMessage):
    """The invite inside the ``multipart/alternative`` (where Outlook looks for a meeting
    request) and the same file attached, each valid for its method."""
    assert message.get_content_type() == "multipart/mixed"
    alternative, *attachments = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, html, invite = alternative.iter_parts()
    assert [text.get_content_type(), html.get_content_type(), invite.get_content_type()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    method = str(invite.get_param("method"))
    assert invite.get_content_charset() == "utf-8"
    calendar, event = valid_calendar(invite.get_content(), method)

    [attachment] = attachments
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_content_type() == "application/ics"
    assert Calendar.from_ical(attachment.get_content()) == calendar
    return calendar, event


def test_the_booking_confirmation_has_the_details_the_link_and_an_invite(inbox, appointment):
    message = sent_now(inbox)

    assert subject_of(message) == "Booked: Consultation with Dr. Anna Weber on Mon 9 Mar, 10:00 CET"
    assert message["To"] == "Grace Hopper <grace@example.com>"
    # The clinic's name at the address of DEFAULT_FROM_EMAIL.
    assert message["From"] == "Lindenhof Practice <no-reply@localhost>"
    assert inbox.envelopes[0].mail_from == "no-reply@localhost"
    assert inbox.envelopes[0].rcpt_tos == ["grace@example.com"]
    assert message["Reply-To"] == "praxis@lindenhof.example"
    assert message["Message-ID"] == f"<appointment-{appointment.pk}-v0-booked@clinic.example.org>"
    link = f"{SITE_URL}/appointments/{appointment.pk}/"
    for body in (text_of(message), html_of(message)):
        assert "Your appointment is booked" in body
        assert "Consultation with Dr. Anna Weber (General practice)" in body
        assert "Monday 9 March 2026, 10:00 CET (until 10:30 CET)" in body
        assert "Lindenhof Practice" in body
        assert "Lindenstraße 5" in body
        assert "10969 Berlin" in body
        assert "+49 30 555 0100" in body
        assert link in body
        # The cutoff (2 hours before) is on the clinic's clock too.
        assert "until Monday 9 March 2026, 08:00 CET" in body
    assert f'href="{link}"' in html_of(message)

    calendar, event = invite_of(message)
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"appointment-{appointment.pk}@clinic.example.org"
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ORGANIZER"]) == "mailto:praxis@lindenhof.example"
    assert str(event["ATTENDEE"]) == "mailto:grace@example.com"


def test_the_reschedule_confirmation_names_both_times_and_updates_the_invite(
    inbox, appointment, patient
):
    _, booked_event = invite_of(sent_now(inbox))
    moved = reschedule_appointment(
        appointment=appointment,
        starts_at=local(appointment.doctor.clinic, 2026, 3, 9, 14),
        rescheduled_by=patient.user,
    )

    message = sent_now(inbox)

    assert subject_of(message) == (
        "Rescheduled: Consultation with Dr. Anna Weber, now on Mon 9 Mar, 14:00 CET"
    )
    assert message["Message-ID"] == f"<appointment-{moved.pk}-v1-rescheduled@clinic.example.org>"
    for body in (text_of(message), html_of(message)):
        assert "from Monday 9 March 2026, 10:00 CET to Monday 9 March 2026, 14:00 CET" in body
    calendar, event = invite_of(message)
    assert calendar["METHOD"] == "REQUEST"
    assert event["UID"] == booked_event["UID"]
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == dt.datetime(2026, 3, 9, 13, 0, tzinfo=dt.UTC)


def test_the_patients_cancellation_is_confirmed_with_an_invite_that_cancels_the_event(
    inbox, appointment, patient
):
    _, booked_event = invite_of(sent_now(inbox))
    cancel_appointment(appointment=appointment, cancelled_by=patient.user, reason="Feeling better")

    message = sent_now(inbox)

    assert (
        subject_of(message) == "Cancelled: Consultation with Dr. Anna Weber on Mon 9 Mar, 10:00 CET"
    )
    assert "You have cancelled this appointment" in text_of(message)
    assert f"{SITE_URL}/doctors/{appointment.doctor_id}/" in text_of(message)
    calendar, event = invite_of(message)
    assert calendar["METHOD"] == "CANCEL"
    assert event["UID"] == booked_event["UID"]
    assert event["SEQUENCE"] == 1
    assert str(event["STATUS"]) == "CANCELLED"


def test_the_clinics_cancellation_gives_its_reason_escaped_in_html(inbox, appointment):
    sent_now(inbox)
    cancel_appointment(
        appointment=appointment,
        cancelled_by=None,
        reason="Dr. Weber is ill <today> & tomorrow",
        by_clinic=True,
    )

    message = sent_now(inbox)

    assert subject_of(message) == (
        "Cancelled by the clinic: Consultation with Dr. Anna Weber on Mon 9 Mar, 10:00 CET"
    )
    assert "Reason: Dr. Weber is ill <today> & tomorrow" in text_of(message)
    assert "Reason: Dr. Weber is ill &lt;today&gt; &amp; tomorrow" in html_of(message)
    assert "<today>" not in html_of(message)
    calendar, _ = invite_of(message)
    assert calendar["METHOD"] == "CANCEL"


def test_a_reminder_repeats_the_details_and_carries_no_invite(inbox, appointment, frozen_now):
    sent_now(inbox)
    frozen_now.move_to(dt.datetime(2026, 3, 8, 9, 0, tzinfo=dt.UTC))

    message = sent_now(inbox)

    assert (
        subject_of(message) == "Reminder: Consultation with Dr. Anna Weber on Mon 9 Mar, 10:00 CET"
    )
    assert message["Message-ID"] == (
        f"<appointment-{appointment.pk}-v0-reminder-1440m@clinic.example.org>"
    )
    assert "A reminder of your appointment on Monday 9 March 2026, 10:00 CET" in text_of(message)
    assert f"{SITE_URL}/appointments/{appointment.pk}/" in html_of(message)
    assert list(message.iter_attachments()) == []
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]


def test_a_summer_appointment_is_shown_in_summer_time(inbox, clinic, patient):
    doctor = make_doctor(clinic, name="Dr. Anna Weber")
    book(patient, doctor, local(clinic, 2026, 4, 13, 10))

    message = sent_now(inbox)

    assert (
        subject_of(message) == "Booked: Consultation with Dr. Anna Weber on Mon 13 Apr, 10:00 CEST"
    )
    assert "Monday 13 April 2026, 10:00 CEST" in text_of(message)


def test_names_are_escaped_in_html_and_left_alone_in_text(inbox, clinic):
    doctor = make_doctor(clinic, name='Dr. <b>Bold</b> & "Sons"')
    patient = make_patient(full_name="Ada <script>")
    book(patient, doctor, local(clinic, 2026, 3, 9, 10))

    message = sent_now(inbox)

    assert 'Dr. <b>Bold</b> & "Sons"' in subject_of(message)
    assert 'Consultation with Dr. <b>Bold</b> & "Sons"' in text_of(message)
    assert "Hello Ada <script>," in text_of(message)
    html = html_of(message)
    assert "Dr. &lt;b&gt;Bold&lt;/b&gt; &amp; &quot;Sons&quot;" in html
    assert "Hello Ada &lt;script&gt;," in html
    assert "<b>Bold</b>" not in html
    assert "<script>" not in html


def test_every_change_carries_an_invite_with_one_uid_and_a_rising_sequence(
    inbox, appointment, patient
):
    clinic = appointment.doctor.clinic
    _, booked = invite_of(sent_now(inbox))
    moved = reschedule_appointment(
        appointment=appointment,
        starts_at=local(clinic, 2026, 3, 9, 14),
        rescheduled_by=patient.user,
    )
    calendar_moved, rescheduled = invite_of(sent_now(inbox))
    cancel_appointment(appointment=moved, cancelled_by=None, reason="Closed", by_clinic=True)
    calendar_cancelled, cancelled = invite_of(sent_now(inbox))

    assert [str(calendar_moved["METHOD"]), str(calendar_cancelled["METHOD"])] == [
        "REQUEST",
        "CANCEL",
    ]
    assert booked["UID"] == rescheduled["UID"] == cancelled["UID"]
    assert booked["SEQUENCE"] < rescheduled["SEQUENCE"] < cancelled["SEQUENCE"]


def test_a_clinic_name_with_odd_characters_is_a_well_formed_sender(inbox, patient):
    clinic = make_clinic(name="Praxis Dr. Müller, Weber & Söhne\n")
    book(patient, make_doctor(clinic), local(clinic, 2026, 3, 9, 10))

    message = sent_now(inbox)

    assert message["From"].addresses[0].display_name == "Praxis Dr. Müller, Weber & Söhne"
    assert message["From"].addresses[0].addr_spec == "no-reply@localhost"


def test_the_repeated_hour_of_the_autumn_night_keeps_its_zone_names(
    inbox, clinic, patient, frozen_now
):
    """Berlin, Sunday 25 October 2026: 02:00-03:00 happens twice, first in summer time
    (CEST, UTC+2), then in winter time (CET, UTC+1)."""
    frozen_now.move_to(dt.datetime(2026, 10, 20, 8, 0, tzinfo=dt.UTC))
    doctor = make_doctor(
        clinic, name="Dr. Anna Weber", weekdays=(6,), hours=(dt.time(0), dt.time(6))
    )
    summer = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)  # 02:30 CEST
    winter = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)  # 02:30 CET
    book(patient, doctor, summer)
    first = sent_now(inbox)
    book(make_patient(), doctor, winter)
    second = sent_now(inbox)

    assert subject_of(first).endswith("on Sun 25 Oct, 02:30 CEST")
    assert subject_of(second).endswith("on Sun 25 Oct, 02:30 CET")
    for body in (text_of(first), html_of(first)):
        assert "Sunday 25 October 2026, 02:30 CEST (until 02:00 CET)" in body
    for body in (text_of(second), html_of(second)):
        assert "Sunday 25 October 2026, 02:30 CET (until 03:00 CET)" in body
    _, event = invite_of(second)
    assert event.decoded("DTSTART") == winter


def test_in_development_the_terminal_shows_the_email_as_the_patient_reads_it(
    settings, capsys, appointment
):
    settings.MAILERS = mailers_from_url("console://", readable_console=True)
    settings.SITE_URL = SITE_URL + "/a-long-path-prefix-that-pushes-links-past-76-characters"

    send_due_notifications()
    printed = capsys.readouterr().out

    link = f"{settings.SITE_URL}/appointments/{appointment.pk}/"
    assert "From: Lindenhof Practice <no-reply@localhost>" in printed
    assert "Subject: Booked: Consultation with Dr. Anna Weber on Mon 9 Mar, 10:00 CET" in printed
    assert "Lindenstraße 5" in printed
    assert f"See, change or cancel your appointment: {link}\n" in printed
    assert f'href="{link}"' in printed
    assert "--- text/calendar; method=REQUEST ---" in printed
    assert "METHOD:REQUEST" in printed
    assert "--- attachment invite.ics (application/ics" in printed
    assert "=C3=9F" not in printed


def test_a_booking_for_a_child_goes_to_the_parent_and_names_the_child(inbox, clinic, patient):
    from tests.factories import make_dependant

    doctor = make_doctor(clinic, name="Dr. Anna Weber")
    book(patient, doctor, local(clinic, 2026, 3, 9, 10), dependant=make_dependant(patient))

    message = sent_now(inbox)

    assert "grace@example.com" in str(message["To"])
    assert "For:         Mia Wolf" in text_of(message)
    assert "Mia Wolf" in html_of(message)


def test_a_booking_for_oneself_names_no_one_else(inbox, appointment):
    assert "For:" not in text_of(sent_now(inbox))
