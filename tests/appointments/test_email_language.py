"""Every email to a patient is written in their language (issue 13): the outbox worker
renders each one under ``translation.override(patient's language)``."""

import datetime as dt
import email
import email.policy

import pytest
from django.utils import translation
from icalendar import Calendar

from accounts.models import User
from appointments import emails
from appointments.tasks import send_due_notifications
from clinic import sms
from clinic.mailers import mailers_from_url
from tests.factories import book, local, make_clinic, make_doctor, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def rendered_in(monkeypatch):
    """The language active while each email was rendered."""
    languages: list[str] = []
    render = emails.notification_email

    def recording(notification):
        languages.append(translation.get_language())
        return render(notification)

    monkeypatch.setattr(emails, "notification_email", recording)
    return languages


@pytest.mark.parametrize(("stored", "expected"), [("de", "de"), ("en", "en"), ("", "en")])
def test_the_worker_writes_in_the_patient_s_language(rendered_in, stored, expected):
    clinic = make_clinic()
    patient = make_patient()
    User.objects.filter(pk=patient.user.pk).update(language=stored)
    book(patient, make_doctor(clinic), local(clinic, 2026, 3, 9, 10))

    # The worker's own language (a German page queued it, say) does not matter.
    with translation.override("de" if expected == "en" else "en"):
        send_due_notifications()

    assert rendered_in == [expected]


def body_of(message, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return str(part.get_content())


@pytest.fixture
def inbox(smtp_server, settings):
    settings.MAILERS = mailers_from_url(f"smtp://{smtp_server.host}:{smtp_server.port}")
    settings.SITE_URL = "https://clinic.example.org"
    return smtp_server.inbox


def test_a_german_patient_s_confirmation_and_invite_are_in_german(inbox):
    clinic = make_clinic(name="Praxis Lindenhof", phone="+49 30 555 0100")
    patient = make_patient("grete@example.com", full_name="Grete Weber")
    User.objects.filter(pk=patient.user.pk).update(language="de")
    doctor = make_doctor(clinic, name="Dr. Anna Weber")
    book(patient, doctor, local(clinic, 2026, 3, 9, 10))

    send_due_notifications()

    [envelope] = inbox.envelopes
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert str(message["Subject"]).strip() == (
        "Gebucht: Consultation bei Dr. Anna Weber am Mo, 09.03., 10:00 CET"
    )
    for subtype in ("plain", "html"):
        body = body_of(message, subtype)
        assert "Guten Tag Grete Weber," in body
        assert "Ihr Termin ist gebucht." in body
        assert "Montag, 9. März 2026, 10:00 CET (bis 10:30 CET)" in body
        assert "Sie können ihn bis Montag, 9. März 2026, 08:00 CET online verschieben" in body
    assert '<html lang="de">' in body_of(message, "html")
    [invite] = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    [event] = Calendar.from_ical(invite.get_content()).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Consultation bei Dr. Anna Weber"
    assert "Termin ansehen, verschieben oder absagen: https://clinic.example.org/" in str(
        event["DESCRIPTION"]
    )


def test_an_english_patient_s_confirmation_stays_english(inbox):
    clinic = make_clinic()
    patient = make_patient()
    book(patient, make_doctor(clinic, name="Dr. Anna Weber"), local(clinic, 2026, 3, 9, 10))

    # A German page queued it; the patient has no language yet: the default, English.
    with translation.override("de"):
        send_due_notifications()

    [envelope] = inbox.envelopes
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert str(message["Subject"]).startswith("Booked: Consultation with Dr. Anna Weber on")


def test_a_german_patient_s_text_message_reminder_is_in_german(sms_gateway, inbox, frozen_now):
    clinic = make_clinic(name="Praxis Lindenhof")
    patient = make_patient(phone="+4917012345678", sms_opt_in=True)
    User.objects.filter(pk=patient.user.pk).update(language="de")
    appointment = book(
        patient, make_doctor(clinic, name="Dr. Anna Weber"), local(clinic, 2026, 3, 9, 10)
    )
    send_due_notifications()  # the booking confirmation (email)
    frozen_now.move_to(dt.datetime(2026, 3, 8, 9, 0, tzinfo=dt.UTC))  # 24 h before

    send_due_notifications()

    [request] = sms_gateway.received
    assert request.body["text"] == (
        "Erinnerung: Ihr Termin bei Dr. Anna Weber am Mo, 09.03., 10:00 CET in Praxis "
        f"Lindenhof. Verschieben oder absagen: https://clinic.example.org/appointments/{appointment.pk}/"
    )
    length = sms.gsm_length(request.body["text"])
    assert length is not None
    assert length <= 160
