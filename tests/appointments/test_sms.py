"""The second notification channel, SMS: who gets text messages and which, that they fit
one message, and how they go to an HTTP gateway (a local server started by the test) with
their own state, retries and keys, apart from the emails."""

import datetime as dt
import io
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from appointments.channels import SmsSender, channels_for, sms_text
from appointments.models import Notification
from appointments.services import cancel_appointment
from appointments.tasks import send_due_notifications
from clinic import sms
from clinic.mailers import mailers_from_url
from tests.conftest import FROZEN_NOW
from tests.factories import book, local, log_in, make_clinic, make_doctor, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

State = Notification.State
Kind = Notification.Kind
Channel = Notification.Channel
PHONE = "+4917012345678"


@pytest.fixture
def inbox(smtp_server, settings):
    settings.MAILERS = mailers_from_url(f"smtp://{smtp_server.host}:{smtp_server.port}")
    settings.SITE_URL = "https://clinic.example.org"
    return smtp_server.inbox


@pytest.fixture
def doctor():
    clinic = make_clinic(name="Lindenhof Practice")
    return make_doctor(clinic, name="Dr. Anna Weber")


@pytest.fixture
def patient():
    return make_patient("grace@example.com", phone=PHONE, sms_opt_in=True)


def fits_one_message(text: str) -> bool:
    length = sms.gsm_length(text)
    return length is not None and length <= 160


def monday_10(doctor):
    return local(doctor.clinic, 2026, 3, 9, 10)


def rows(appointment, channel) -> dict[str, str]:
    """Each row of ``channel``: its key without the appointment, and its state."""
    return {
        n.key.split("-", 2)[2]: n.state for n in appointment.notifications.filter(channel=channel)
    }


# --- Who gets text messages, and which -------------------------------------------------


def test_an_opted_in_patient_gets_reminders_by_sms_as_well_as_email(sms_gateway, doctor, patient):
    appointment = book(patient, doctor, monday_10(doctor))

    assert rows(appointment, Channel.EMAIL) == {
        "v0-booked": State.PENDING,
        "v0-reminder-1440m": State.PENDING,
        "v0-reminder-120m": State.PENDING,
    }
    # The confirmation is an email only: SMS carries reminders and clinic cancellations.
    assert rows(appointment, Channel.SMS) == {
        "v0-reminder-1440m": State.PENDING,
        "v0-reminder-120m": State.PENDING,
    }


def test_the_clinics_cancellation_goes_by_sms_and_the_patients_own_does_not(
    sms_gateway, doctor, patient
):
    by_clinic = book(patient, doctor, monday_10(doctor))
    by_patient = book(patient, doctor, local(doctor.clinic, 2026, 3, 10, 10))

    cancel_appointment(appointment=by_clinic, cancelled_by=None, reason="Ill", by_clinic=True)
    cancel_appointment(appointment=by_patient, cancelled_by=patient.user)

    assert "v1-cancelled_by_clinic" in rows(by_clinic, Channel.SMS)
    assert "v1-cancelled_by_patient" not in rows(by_patient, Channel.SMS)
    assert "v1-cancelled_by_patient" in rows(by_patient, Channel.EMAIL)
    # The cancelled appointments' SMS reminders are skipped like their email ones.
    assert set(rows(by_clinic, Channel.SMS).values()) == {State.PENDING, State.SKIPPED}


def test_without_opting_in_no_sms_is_queued(sms_gateway, doctor):
    patient = make_patient(phone=PHONE)

    appointment = book(patient, doctor, monday_10(doctor))

    assert rows(appointment, Channel.SMS) == {}
    assert len(rows(appointment, Channel.EMAIL)) == 3


def test_without_a_phone_no_sms_is_wanted(sms_gateway):
    assert SmsSender().wanted(make_patient(phone="", sms_opt_in=True)) is False
    assert SmsSender().wanted(make_patient(phone=PHONE, sms_opt_in=True)) is True


def test_a_new_patient_has_not_opted_in():
    assert make_patient().sms_opt_in is False


def test_without_an_sms_backend_no_sms_is_queued(settings, doctor, patient):
    settings.SMS_BACKEND = ""

    appointment = book(patient, doctor, monday_10(doctor))

    assert rows(appointment, Channel.SMS) == {}
    assert channels_for(appointment, Kind.REMINDER) == [Channel.EMAIL]


# --- Keys and state per channel ------------------------------------------------------------


def test_one_key_is_queued_once_per_channel(sms_gateway, doctor, patient):
    appointment = book(patient, doctor, monday_10(doctor))
    email = appointment.notifications.get(
        channel=Channel.EMAIL, kind=Kind.REMINDER, key__endswith="1440m"
    )
    sms_row = appointment.notifications.get(channel=Channel.SMS, key=email.key)

    assert sms_row.pk != email.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            appointment=appointment,
            kind=Kind.REMINDER,
            channel=Channel.SMS,
            sequence=0,
            key=email.key,
            due_at=FROZEN_NOW,
        )


# --- Sending through the gateway -----------------------------------------------------------


def reminder_time(frozen_now):
    frozen_now.move_to(dt.datetime(2026, 3, 8, 9, 0, tzinfo=dt.UTC))  # 24 h before


def test_a_reminder_is_posted_to_the_gateway_as_json(
    sms_gateway, inbox, doctor, patient, frozen_now
):
    appointment = book(patient, doctor, monday_10(doctor))
    send_due_notifications()  # the booking confirmation (email)
    assert sms_gateway.received == []
    reminder_time(frozen_now)

    assert send_due_notifications() == 2  # the reminder by email and by SMS

    [request] = sms_gateway.received
    key = f"appointment-{appointment.pk}-v0-reminder-1440m"
    assert request.path == "/v1/messages"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Bearer test-token"
    assert request.headers["Idempotency-Key"] == key
    assert request.body == {
        "to": PHONE,
        "text": (
            "Reminder: your appointment with Dr. Anna Weber on Mon 9 Mar, 10:00 CET at "
            f"Lindenhof Practice. Change or cancel: https://clinic.example.org/appointments/{appointment.pk}/"
        ),
        "reference": key,
    }
    assert rows(appointment, Channel.SMS)["v0-reminder-1440m"] == State.SENT
    assert len(inbox.envelopes) == 2


@pytest.mark.parametrize("status", [500, 503, 429, 400, 302])
def test_a_gateway_that_does_not_answer_2xx_is_retried_with_the_backoff(
    sms_gateway, inbox, doctor, patient, frozen_now, status
):
    appointment = book(patient, doctor, monday_10(doctor))
    reminder_time(frozen_now)
    sms_gateway.statuses = [status]

    send_due_notifications()

    sms_row = appointment.notifications.get(channel=Channel.SMS, key__endswith="-1440m")
    email_row = appointment.notifications.get(channel=Channel.EMAIL, key__endswith="-1440m")
    assert (sms_row.state, sms_row.attempts) == (State.PENDING, 1)
    assert sms_row.next_attempt_at == FROZEN_NOW + dt.timedelta(days=4, hours=1, minutes=1)
    assert sms_row.last_error == f"SmsNotSent: the SMS gateway answered HTTP {status}"
    # Each channel has its own state: the email went out.
    assert email_row.state == State.SENT

    frozen_now.move_to(sms_row.next_attempt_at)
    assert send_due_notifications() == 1
    sms_row.refresh_from_db()
    assert (sms_row.state, sms_row.attempts) == (State.SENT, 2)
    assert len(sms_gateway.received) == 2


def test_a_gateway_that_never_answers_gives_up_at_the_timeout_and_is_retried(
    sms_gateway, settings, doctor, patient, frozen_now, inbox
):
    settings.SMS_GATEWAY_TIMEOUT_SECONDS = 0.5
    sms_gateway.delay = 2
    appointment = book(patient, doctor, monday_10(doctor))
    reminder_time(frozen_now)

    send_due_notifications()

    sms_row = appointment.notifications.get(channel=Channel.SMS, key__endswith="-1440m")
    assert (sms_row.state, sms_row.attempts) == (State.PENDING, 1)
    assert "the SMS gateway was not reached" in sms_row.last_error


def test_a_gateway_nobody_listens_on_is_retried(settings, doctor, patient, frozen_now, inbox):
    from tests.conftest import free_port

    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{free_port()}/v1/messages"
    settings.SMS_GATEWAY_TOKEN = "t"
    appointment = book(patient, doctor, monday_10(doctor))
    reminder_time(frozen_now)

    send_due_notifications()

    sms_row = appointment.notifications.get(channel=Channel.SMS, key__endswith="-1440m")
    assert (sms_row.state, sms_row.attempts) == (State.PENDING, 1)
    assert sms_row.last_error == "SmsNotSent: the SMS gateway was not reached: URLError"


def test_the_number_and_the_text_are_never_logged(
    sms_gateway, inbox, doctor, patient, frozen_now, caplog
):
    appointment = book(patient, doctor, monday_10(doctor))
    reminder_time(frozen_now)
    sms_gateway.statuses = [503]
    caplog.set_level(logging.DEBUG)

    send_due_notifications()
    frozen_now.move_to(dt.datetime(2026, 3, 8, 9, 1, tzinfo=dt.UTC))  # the retry
    send_due_notifications()

    assert [r.body["reference"] for r in sms_gateway.received] == [
        f"appointment-{appointment.pk}-v0-reminder-1440m"
    ] * 2
    text = sms_gateway.received[0].body["text"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Sent sms appointment-" in logged
    assert "failed (attempt 1)" in logged
    for secret in (PHONE, PHONE[3:], text, "Reminder: your appointment"):
        assert secret not in logged
    for row in appointment.notifications.all():
        assert PHONE not in row.last_error


def test_an_sms_to_a_patient_who_opted_out_since_is_skipped(
    sms_gateway, inbox, doctor, patient, frozen_now
):
    appointment = book(patient, doctor, monday_10(doctor))
    patient.sms_opt_in = False
    patient.save(update_fields=["sms_opt_in"])
    reminder_time(frozen_now)

    send_due_notifications()

    assert rows(appointment, Channel.SMS)["v0-reminder-1440m"] == State.SKIPPED
    assert rows(appointment, Channel.EMAIL)["v0-reminder-1440m"] == State.SENT
    assert sms_gateway.received == []


def test_an_email_send_leaves_the_phone_encrypted(inbox, doctor, patient, monkeypatch):
    """The number is decrypted when a text message is sent, and only then."""
    from clinic import encryption

    book(patient, doctor, monday_10(doctor))
    decrypted: list[str] = []
    real_decrypt = encryption.decrypt

    def recording_decrypt(token: str, *, where: str = "a value") -> str:
        decrypted.append(where)
        return real_decrypt(token, where=where)

    monkeypatch.setattr(encryption, "decrypt", recording_decrypt)
    assert send_due_notifications() == 1

    assert not [where for where in decrypted if "phone" in where]


def test_the_phone_is_stored_encrypted():
    patient = make_patient(phone=PHONE, sms_opt_in=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_patient WHERE id = %s", [patient.pk])
        [stored] = cursor.fetchone()

    assert PHONE not in stored
    assert PHONE[3:] not in stored


def test_the_console_backend_prints_the_message_for_development():
    stream = io.StringIO()

    sms.ConsoleSmsBackend(stream).send(to=PHONE, text="Reminder: tomorrow 10:00", reference="k-1")

    assert f"SMS to {PHONE} (k-1, 24 of 160):\nReminder: tomorrow 10:00\n" in stream.getvalue()


# --- One message: at most 160 GSM characters ---------------------------------------------------


def test_the_clinics_cancellation_text_says_who_when_and_where_to_book_again(
    sms_gateway, inbox, doctor, patient
):
    appointment = book(patient, doctor, monday_10(doctor))
    cancelled = cancel_appointment(
        appointment=appointment, cancelled_by=None, reason="Ill", by_clinic=True
    )
    notification = cancelled.notifications.get(channel=Channel.SMS, kind=Kind.CANCELLED_BY_CLINIC)

    text = sms_text(notification)

    assert text == (
        "Lindenhof Practice has cancelled your appointment with Dr. Anna Weber on Mon 9 Mar, "
        f"10:00 CET. Book another time: https://clinic.example.org/doctors/{doctor.pk}/"
    )
    assert fits_one_message(text)


def test_long_names_are_shortened_to_fit_one_message(sms_gateway, inbox, patient):
    clinic = make_clinic(
        name="Gemeinschaftspraxis für Allgemeinmedizin und Innere Medizin am Lindenhof"
    )
    doctor = make_doctor(clinic, name="Prof. Dr. med. Anna-Katharina von Weber-Schönhausen")
    appointment = book(patient, doctor, monday_10(doctor))
    reminder = appointment.notifications.get(channel=Channel.SMS, key__endswith="-1440m")

    text = sms_text(reminder)

    assert fits_one_message(text)
    # The time and the link stay whole; the names give way.
    assert "Mon 9 Mar, 10:00 CET" in text
    assert text.endswith(f"https://clinic.example.org/appointments/{appointment.pk}/")
    assert "..." in text


def test_gsm_lengths_count_the_extension_table_twice_and_refuse_other_letters():
    assert sms.gsm_length("Grüße, Jürgen") == 13
    assert sms.gsm_length("10 €") == 5
    assert sms.gsm_length("[x]") == 5
    assert sms.gsm_length("Łódź") is None


def test_letters_outside_the_gsm_alphabet_lose_their_accents():
    assert (
        sms.to_gsm("Dr. Łukasz Wiśniewski \u2013 Čapek \u201cÄrzte\u201d")
        == 'Dr. ?ukasz Wisniewski - Capek "Ärzte"'
    )


@pytest.mark.parametrize("length", [0, 50, 159, 160, 161, 400])
def test_a_fitted_text_is_never_longer_than_one_message(length):
    text = sms.fit_sms(
        "%(name)s: %(when)s %(link)s",
        keep={"when": "Mon 9 Mar, 10:00 CET", "link": "https://x.example/a/1/"},
        shorten={"name": "€" * length},
    )

    assert fits_one_message(text)


def test_a_text_too_long_even_without_names_is_cut():
    text = sms.fit_sms("%(link)s", keep={"link": "https://x.example/" + "a" * 300}, shorten={})

    assert sms.gsm_length(text) == 160


# --- Settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "url", "token", "debug", "message"),
    [
        ("carrier-pigeon", "", "", True, "is not one of"),
        ("console", "", "", False, "for development"),
        ("http", "", "t", False, "needs SMS_GATEWAY_URL"),
        ("http", "http://gateway.example/", "t", False, "must be https"),
        ("http", "https://gateway.example/", "", False, "needs SMS_GATEWAY_TOKEN"),
    ],
)
def test_settings_that_cannot_work_refuse_to_start(backend, url, token, debug, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        sms.check_sms_settings(backend=backend, url=url, token=token, debug=debug)


@pytest.mark.parametrize(
    ("backend", "url", "token", "debug"),
    [("", "", "", False), ("console", "", "", True), ("http", "https://g.example/", "t", False)],
)
def test_settings_that_work_are_accepted(backend, url, token, debug):
    sms.check_sms_settings(backend=backend, url=url, token=token, debug=debug)


# --- Opting in -----------------------------------------------------------------------------


def profile_data(**extra):
    return {"full_name": "Ada", "phone": "+49 170 1234567", "date_of_birth": "1980-01-01"} | extra


def test_the_profile_page_offers_text_messages_and_saves_the_choice(client):
    patient = make_patient()
    log_in(client, patient)

    page = client.get(reverse("accounts:profile")).text
    assert 'name="sms_opt_in"' in page
    assert "by text message (SMS)" in page
    client.post(reverse("accounts:profile"), profile_data(sms_opt_in="on"))
    patient.refresh_from_db()
    assert patient.sms_opt_in is True

    client.post(reverse("accounts:profile"), profile_data())
    patient.refresh_from_db()
    assert patient.sms_opt_in is False


def test_without_sms_the_profile_page_does_not_offer_it(client, settings):
    settings.SMS_BACKEND = ""
    patient = make_patient()
    log_in(client, patient)

    assert 'name="sms_opt_in"' not in client.get(reverse("accounts:profile")).text
    client.post(reverse("accounts:profile"), profile_data(sms_opt_in="on"))
    patient.refresh_from_db()
    assert patient.sms_opt_in is False


def test_the_api_profile_reads_and_sets_the_choice():
    from tests.api.helpers import client_for

    patient = make_patient()
    api = client_for(patient.user)
    assert api.get("/api/v1/me").json()["sms_opt_in"] is False

    response = api.put("/api/v1/me", profile_data(sms_opt_in=True), format="json")
    assert response.status_code == 200, response.content
    assert response.json()["sms_opt_in"] is True
    # A client that does not send it leaves it as it is.
    assert api.put("/api/v1/me", profile_data(), format="json").json()["sms_opt_in"] is True
    assert (
        api.put("/api/v1/me", profile_data(sms_opt_in=False), format="json").json()["sms_opt_in"]
        is False
    )
    patient.refresh_from_db()
    assert patient.sms_opt_in is False


def test_a_row_of_an_unknown_channel_fails_visibly_and_holds_up_nothing(inbox, doctor, patient):
    appointment = book(patient, doctor, monday_10(doctor))
    Notification.objects.filter(appointment=appointment, kind=Kind.BOOKED).update(channel="pigeon")
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 11))

    assert send_due_notifications() == 1  # the other booking's email

    stray = appointment.notifications.get(channel="pigeon")
    assert (stray.state, stray.attempts) == (State.PENDING, 1)
    assert stray.last_error == "KeyError: 'pigeon'"
