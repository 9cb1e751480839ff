"""The main pages in German (issue 13): a browser that asks for German gets German text,
German dates (Montag, 9. März 2026; 09.03.2026) and 24-hour times, on the patients' and
the staff pages alike, and no English sentence is left over.

The leftover check reads every visible text and every accessible name (aria-label,
title, placeholder) of each page and looks for common English words. The test data is
German (clinic, doctors, types, patients), so an English word there is a text that was
not marked for translation, or not translated."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from appointments.models import Appointment
from scheduling.models import AppointmentType, TimeOff
from tests.factories import (
    book,
    log_in,
    log_in_staff,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
    make_type,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"}
# Words of English sentences that no German text here contains. ("App", "Code", "Name",
# "Status", "System", "E-Mail" are German too, so they are not in the list.)
ENGLISH_WORDS = {
    "the", "your", "and", "with", "for", "to", "of", "is", "are", "you", "this", "on",
    "at", "no", "not", "book", "booking", "time", "times", "appointment", "appointments",
    "doctor", "doctors", "sign", "cancel", "change", "free", "week", "next", "previous",
    "today", "patients", "clinic", "hours", "reason", "date", "phone", "email",
    "find", "search", "back", "page", "details", "calendar", "staff",
}  # fmt: skip


class VisibleText(HTMLParser):
    """The texts a person reads or hears: text outside <script>/<style>/<title>'s
    siblings, and the attributes screen readers announce."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self.skipping += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt") and value:
                self.texts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code"):
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def english_left_over(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return [
        text
        for text in parser.texts
        # "English" is the switcher's name for English, in English on purpose.
        if text != "English" and ENGLISH_WORDS & set(re.findall(r"[a-z]+", text.lower()))
    ]


@pytest.fixture
def practice():
    clinic = make_clinic(
        name="Praxis Lindenhof",
        address="Lindenstraße 5\n10969 Berlin",
        phone="+49 30 555 0100",
        email="praxis@lindenhof.example",
    )
    doctor = make_doctor(clinic, name="Dr. Anna Weber", specialty="Allgemeinmedizin")
    AppointmentType.objects.filter(doctor=doctor).update(name="Sprechstunde")
    make_type(doctor, 15, name="Impfung")
    patient = make_patient("grete@example.com", full_name="Grete Müller")
    User.objects.filter(pk=patient.user.pk).update(language="de")
    appointment = book(
        patient,
        doctor,
        dt.datetime(2026, 3, 9, 10, tzinfo=clinic.zone),
        reason="Rückenschmerzen",
    )
    TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 3, 16), end_date=dt.date(2026, 3, 20)
    )
    return clinic, doctor, patient, appointment


def german(client, url: str, status: int = 200) -> str:
    response = client.get(url, **GERMAN)
    assert response.status_code == status, url
    html: str = response.content.decode()
    assert '<html lang="de">' in html, url
    return html


def assert_all_german(html: str, url: str) -> None:
    left_over = english_left_over(html)
    assert not left_over, f"English on {url}: {left_over}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("home", ["Nächstmöglichen freien Termin finden", "Ortszeit", "Mi, 04.03., 09:00 CET"]),
        ("doctors", ["Nächster freier Termin:", "Mi, 04.03., 11:00 CET"]),
        ("login", ["Code per E-Mail senden", "Anmelden"]),
        ("staff-login", ["Anmeldung für das Praxisteam", "Weiter"]),
        ("privacy", ["Datenschutzerklärung", "Impressum"]),
    ],
)  # fmt: skip
def test_the_public_pages_are_german(client, practice, name, expected):
    url = {
        "home": reverse("home"),
        "doctors": reverse("appointments:doctors"),
        "login": reverse("accounts:login"),
        "staff-login": reverse("staff:login"),
        "privacy": reverse("legal:privacy"),
    }[name]

    html = german(client, url)

    for text in expected:
        assert text in html, f"{text!r} not on {url}"
    assert_all_german(html, url)


def test_the_doctor_page_shows_a_german_week(client, practice):
    _clinic, doctor, _patient, _appointment = practice
    url = reverse("appointments:doctor", args=[doctor.pk])

    html = german(client, url)

    assert ", Woche vom 2.&ndash;8. März 2026" in html
    assert "Mittwoch, 4. März" in html
    assert "Alle Zeiten in Ortszeit Berlin (CET)." in html
    assert "Nächste Woche" in html
    # 24-hour times; never AM/PM.
    assert ">14:00<" in html
    assert not re.search(r"\b[AP]\.?M\.?\b", html)
    assert_all_german(html, url)


def test_the_patient_s_own_pages_are_german(client, practice):
    _clinic, doctor, patient, appointment = practice
    log_in(client, patient)
    start = "2026-03-09T13:00:00Z"
    type_id = AppointmentType.objects.get(doctor=doctor, name="Sprechstunde").pk
    pages = {
        reverse("appointments:list"): ["Meine Termine", "Montag, 9. März 2026, 10:00 CET"],
        reverse("appointments:detail", args=[appointment.pk]): [
            "Sprechstunde bei Dr. Anna Weber",
            "Diesen Termin absagen",
            "Gebucht",
        ],
        reverse("appointments:reschedule", args=[appointment.pk]): ["Andere Zeit wählen"],
        f"{reverse('appointments:reschedule', args=[appointment.pk])}?start={start}": [
            "Termin verschieben?",
            "Ihren Termin bei Dr. Anna Weber von Mo, 09.03., 10:00 auf Mo, 09.03., 14:00 "
            "verschieben?",
            "Termin verschieben</button>",
        ],
        reverse("accounts:profile"): ["Ihre Angaben", "Sprache Ihrer E-Mails"],
        f"{reverse('appointments:book')}?doctor={doctor.pk}&type={type_id}&start={start}": [
            "Buchung bestätigen",
            "Montag, 9. März 2026, 14:00 CET",
        ],
    }
    for url, expected in pages.items():
        html = german(client, url)
        for text in expected:
            assert text in html, f"{text!r} not on {url}"
        assert_all_german(html, url)


def test_the_staff_pages_are_german(client, practice):
    clinic, doctor, patient, appointment = practice
    log_in_staff(client, make_staff("empfang@example.com", clinics=(clinic,)))
    pages = {
        reverse("staff_appointments:home"): ["Heute", "Zu vermerken: erschienen oder nicht?"],
        f"{reverse('staff_appointments:calendar')}?clinic={clinic.pk}&date=2026-03-09": [
            "Montag, 9. März 2026",
            "Vorheriger Tag",
        ],
        f"{reverse('staff_appointments:calendar')}?clinic={clinic.pk}&view=week&date=2026-03-09": [
            "Dr. Anna Weber, Woche ab Montag, 9. März 2026",
            "Mo, 9. Mär",
        ],
        reverse("staff_appointments:detail", args=[appointment.pk]): [
            "Sprechstunde bei Dr. Anna Weber",
            "Im Namen der Praxis absagen",
            "1. Januar 1980",
            "Buchungsbestätigung",
        ],
        reverse("staff_appointments:patients"): ["Patienten", "Neuer Patient"],
        reverse("staff_appointments:patient", args=[patient.pk]): ["Grete Müller", "Bevorstehend"],
        reverse("staff_appointments:book_for_patient", args=[patient.pk]): [
            "Für Grete Müller buchen"
        ],
        reverse("staff_appointments:availability", args=[doctor.pk]): [
            "Sprechzeiten von Dr. Anna Weber",
            "Montag",
            # Time off: Mo, 16.03.2026 to Fr, 20.03.2026.
            "Mo, 16.03.2026",
            "Fr, 20.03.2026",
        ],
        reverse("staff_scheduling:doctors"): ["Sprechzeiten"],
        reverse("staff_appointments:calendar_feed", args=[doctor.pk]): ["Kalenderabonnement"],
    }
    for url, expected in pages.items():
        html = german(client, url)
        for text in expected:
            assert text in html, f"{text!r} not on {url}"
        assert_all_german(html, url)


def test_the_error_pages_are_german(client, practice):
    html = german(client, "/no-such-page/", status=404)

    assert "Diese Seite gibt es nicht" in html
    assert_all_german(html, "/no-such-page/")


def test_a_form_error_is_german(client, practice):
    _clinic, _doctor, patient, _appointment = practice
    log_in(client, patient)

    response = client.post(
        reverse("accounts:profile"),
        {"full_name": "Grete Müller", "phone": "x", "date_of_birth": "2999-01-01"},
        **GERMAN,
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Das Geburtsdatum darf nicht in der Zukunft liegen." in html
    assert_all_german(html, "profile (refused)")


def test_a_mistyped_email_address_is_refused_in_the_sites_german(client, practice):
    response = client.post(reverse("accounts:login"), {"email": "maria@"}, **GERMAN)

    html = response.content.decode()
    # Formal, like every text here: not Django REST framework's "Gib eine gültige ...".
    assert "Bitte geben Sie eine gültige E-Mail-Adresse ein." in html
    assert "Gib " not in html


def test_the_reschedule_page_names_the_type_as_the_clinic_writes_it(client, practice):
    _clinic, _doctor, patient, appointment = practice
    log_in(client, patient)

    html = german(client, reverse("appointments:reschedule", args=[appointment.pk]))

    # A German noun keeps its capital ("sprechstunde" was the page's lower-cased data).
    assert "Ihr Termin (Sprechstunde) bei Dr. Anna Weber ist jetzt am" in html


def test_a_refused_booking_is_explained_in_german(client, practice):
    clinic, doctor, _patient, appointment = practice
    log_in(client, make_patient())
    start = "2026-03-09T13:00:00Z"
    query = f"?doctor={doctor.pk}&type={appointment.appointment_type_id}&start={start}"
    url = reverse("appointments:book") + query
    key = re.search(r'name="booking_key" value="([0-9a-f]+)"', german(client, url))
    assert key
    # Someone else takes the time meanwhile.
    book(make_patient(), doctor, dt.datetime(2026, 3, 9, 14, tzinfo=clinic.zone))

    response = client.post(url, {"booking_key": key.group(1)}, **GERMAN)

    html = response.content.decode()
    assert response.status_code == 409
    assert "Dieser Termin ist leider nicht mehr frei." in html
    assert_all_german(html, "booking (refused)")
    assert Appointment.objects.count() == 2


def test_the_500_page_is_german_for_a_german_browser(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("scheduling.views.render_with_placeholder", broken)

    response = Client(raise_request_exception=False).get("/", HTTP_ACCEPT_LANGUAGE="de")

    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="de">' in html
    assert "Bei uns ist etwas schiefgegangen" in html
    # Rendered without the request, so without a CSRF token: no switcher form to fail.
    assert 'class="language-switcher"' not in html
    assert_all_german(html, "500")


def test_the_cached_week_is_cached_per_language(client, practice):
    _clinic, doctor, _patient, _appointment = practice
    url = reverse("appointments:doctor", args=[doctor.pk])

    english = client.get(url).content.decode()
    deutsch = german(client, url)

    assert "Wednesday 4 March" in english
    assert "Mittwoch, 4. März" in deutsch
    assert "Wednesday" not in deutsch
