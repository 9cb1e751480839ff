"""A German-speaking patient's way through the site in a real browser (issue 13): a
first visit creates the account and adds her daughter to the people she books for; a
second visit searches the soonest dermatologist, picks the first time, signs in with the
code emailed to a real SMTP server, books for the daughter, receives a German
confirmation whose calendar invite is inside the multipart/alternative part, cancels
after confirming, and receives the German cancellation with METHOD:CANCEL.

Every German text asserted here is the one in locale/de/LC_MESSAGES/django.po (the
English msgid is in the comment beside it), so a missing or wrong translation fails.

Times are real (see conftest): every doctor works every day, 8:00-20:00 in Berlin, and
has today and tomorrow off, so the soonest free time is the day after tomorrow at 8:00,
well past the clinic's notice and cancellation deadline.
"""

import datetime as dt
import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage, MIMEPart

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import Dependant, User
from appointments.models import Appointment, Status
from appointments.tasks import send_due_notifications
from scheduling.models import AppointmentType, Clinic, TimeOff
from tests.conftest import SmtpServer
from tests.e2e.conftest import TIMEOUT_MS, emailed_code, screenshot
from tests.factories import make_clinic, make_doctor
from tests.itip import valid_calendar

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "julia.hoffmann@example.com"
# Django's German names (its own catalogue), as the pages' formats print them.
WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
SHORT_WEEKDAYS = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"]
MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


def long_time(when: dt.datetime) -> str:
    """WEEKDAY_DATETIME_ZONE_FORMAT in German: 'Mittwoch, 4. März 2026, 08:00 CET'."""
    return (
        f"{WEEKDAYS[when.weekday()]}, {when.day}. {MONTHS[when.month - 1]} {when.year}, "
        f"{when:%H:%M %Z}"
    )


def short_time(when: dt.datetime) -> str:
    """SHORT_WEEKDAY_DATETIME_ZONE_FORMAT in German: 'Mi, 04.03., 08:00 CET'."""
    return f"{SHORT_WEEKDAYS[when.weekday()]}, {when:%d.%m., %H:%M %Z}"


@pytest.fixture
def clinic() -> Clinic:
    """A Berlin practice with two dermatologists and a general practitioner, whose
    surname sorts first: were the specialty ignored, his time would lead the list."""
    # Cancelling online until an hour before, booking from two hours before: whatever
    # the time now, the booked time can be cancelled online.
    clinic = make_clinic(name="Praxis am Lindenhof", cancellation_cutoff=dt.timedelta(hours=1))
    today = timezone.localdate(timezone=clinic.zone)
    for name, specialty in [
        ("Dr. Anna Weber", "Dermatologie"),
        ("Dr. Paul Zimmermann", "Dermatologie"),
        ("Dr. Jonas Becker", "Allgemeinmedizin"),
    ]:
        doctor = make_doctor(
            clinic,
            name=name,
            specialty=specialty,
            weekdays=(0, 1, 2, 3, 4, 5, 6),
            hours=(dt.time(8), dt.time(20)),
        )
        TimeOff.objects.create(
            doctor=doctor, start_date=today, end_date=today + dt.timedelta(days=1)
        )
    # The clinic's own name for its 30-minute visit (make_doctor's is English).
    AppointmentType.objects.filter(doctor__clinic=clinic).update(name="Sprechstunde")
    return clinic


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A German browser: Accept-Language de-DE."""
    context = browser.new_context(
        base_url=live_server.url, locale="de-DE", viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def main_nav(page: Page, link: str):
    # "Main" (context "navigation")
    return page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link", name=link)


def sign_in_with_emailed_code(page: Page, smtp_inbox: SmtpServer) -> None:
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()  # Sign in
    page.get_by_label("E-Mail-Adresse").fill(EMAIL)  # Email address
    page.get_by_role("button", name="Code per E-Mail senden").click()  # Email me a code
    # Check your email
    expect(page.get_by_role("heading", name="Sehen Sie in Ihr E-Mail-Postfach")).to_be_visible()
    page.get_by_label("6-stelliger Code").fill(emailed_code(smtp_inbox, EMAIL))  # 6-digit code
    page.get_by_role("button", name="Anmelden", exact=True).click()  # Sign in


def messages_to(server: SmtpServer, subject_start: str) -> list[EmailMessage]:
    received = [
        email.message_from_bytes(envelope.content, policy=email.policy.default)
        for envelope in server.inbox.envelopes
        if EMAIL in envelope.rcpt_tos
    ]
    return [
        message
        for message in received
        if isinstance(message, EmailMessage) and str(message["Subject"]).startswith(subject_start)
    ]


def mime_tree(message: EmailMessage) -> list[str]:
    """The message's parts, indented by depth: 'multipart/mixed', '  multipart/...'."""

    def walk(part: MIMEPart, depth: int) -> list[str]:
        line = "  " * depth + part.get_content_type()
        if part.get_content_type() == "text/calendar":
            line += f"; method={part.get_param('method')}"
        children = part.iter_parts() if part.is_multipart() else []
        return [line] + [each for child in children for each in walk(child, depth + 1)]

    return walk(message, 0)


def invite_inside_the_alternative(message: EmailMessage, method: str) -> bytes:
    """The text/calendar part of the multipart/alternative, which must be the one
    Outlook reads as a meeting request (RFC 6047 §2.4), with the attached copy beside."""
    assert mime_tree(message) == [
        "multipart/mixed",
        "  multipart/alternative",
        "    text/plain",
        "    text/html",
        f"    text/calendar; method={method}",
        "  application/ics",
    ], mime_tree(message)
    [alternative] = [p for p in message.walk() if p.get_content_type() == "multipart/alternative"]
    assert isinstance(alternative, EmailMessage)
    [invite] = [p for p in alternative.iter_parts() if p.get_content_type() == "text/calendar"]
    assert isinstance(invite, EmailMessage)
    content = invite.get_content()
    return content.encode() if isinstance(content, str) else content


def test_a_german_patient_books_the_soonest_dermatologist_for_her_child_and_cancels(
    page: Page, clinic: Clinic, smtp_inbox: SmtpServer
):
    today = timezone.localdate(timezone=clinic.zone)
    soonest = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(8), tzinfo=clinic.zone)

    # First visit: the account, her details, and her daughter among the people she books for.
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    sign_in_with_emailed_code(page, smtp_inbox)
    expect(page.get_by_role("heading", name="Ihre Angaben")).to_be_visible()  # Your details
    page.get_by_label("Vollständiger Name").fill("Julia Hoffmann")  # Full name
    page.get_by_label("Telefonnummer").fill("+49 170 7654321")  # Phone number
    page.get_by_label("Geburtsdatum", exact=True).fill("1986-09-23")  # Date of birth
    page.get_by_role("button", name="Speichern").click()  # Save
    expect(page.get_by_role("heading", name="Meine Termine")).to_be_visible()  # My appointments
    # You have no upcoming appointments.
    expect(page.get_by_text("Sie haben keine bevorstehenden Termine.")).to_be_visible()

    main_nav(page, "Ihre Angaben").click()  # Your details
    people = page.get_by_role("region", name="Personen, für die ich buche")  # People I book for
    expect(people).to_contain_text("Noch niemand.")  # No one yet.
    people.get_by_label("Name der Person").fill("Lena Hoffmann")  # Their name
    people.get_by_label("Geburtsdatum der Person").fill("2019-06-01")  # Their birth date
    people.get_by_label("Beziehung zu Ihnen").select_option(label="Kind")  # They are your: child
    people.get_by_role("button", name="Hinzufügen", exact=True).click()  # Add
    expect(people.locator(".people-list__item")).to_have_count(1)
    # child · born 01.06.2019
    expect(people.locator(".people-list__item")).to_contain_text("Lena Hoffmann")
    expect(people.locator(".people-list__item")).to_contain_text("Kind · geboren am 01.06.2019")
    screenshot(page, "de-1-people")
    page.get_by_role("button", name="Abmelden", exact=True).click()  # Sign out
    expect(main_nav(page, "Anmelden")).to_be_visible()

    # Second visit: the soonest dermatologist, from the home page's search.
    page.goto("/")
    page.get_by_label("Fachrichtung", exact=True).select_option("Dermatologie")  # Specialty
    page.get_by_role("button", name="Termine suchen").click()  # Find times
    expect(page.get_by_role("heading", name="Freien Termin finden")).to_be_visible()
    results = page.locator(".time-list__item")
    expect(results.first).to_contain_text(short_time(soonest))
    expect(results.first).to_contain_text("Dr. Anna Weber")
    expect(results.nth(1)).to_contain_text(short_time(soonest))
    expect(results.nth(1)).to_contain_text("Dr. Paul Zimmermann")
    expect(page.locator(".time-results")).not_to_contain_text("Dr. Jonas Becker")
    screenshot(page, "de-2-search")
    # Book (its accessible name adds the doctor and the time)
    first = results.first.get_by_role("link", name=re.compile(r"^Buchen"))
    expect(first).to_have_accessible_name(f"Buchen Dr. Anna Weber, {long_time(soonest)}")
    first.click()

    # Not signed in: the code first, then straight back to the chosen time.
    sign_in_with_emailed_code(page, smtp_inbox)
    # Confirm your booking
    expect(page.get_by_role("heading", name="Buchung bestätigen")).to_be_visible()
    expect(page.get_by_text(long_time(soonest))).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("Dr. Anna Weber")
    # Who is this appointment for?  Myself / Lena Hoffmann
    for_whom = page.get_by_role("group", name="Für wen ist dieser Termin?")
    expect(for_whom.get_by_label("Für mich selbst")).to_be_checked()
    for_whom.get_by_label("Lena Hoffmann").check()
    page.get_by_label("Grund Ihres Besuchs (optional)").fill("Hautausschlag am Arm")
    screenshot(page, "de-3-confirm")
    page.get_by_role("button", name="Termin verbindlich buchen").click()  # Confirm booking

    booked = f"Sprechstunde bei Dr. Anna Weber am {long_time(soonest)}"
    # Booked: %(appointment)s.  /  %(type)s with %(doctor)s on %(when)s
    expect(page.get_by_role("status")).to_have_text(f"Gebucht: {booked}.")
    # {{ type }} with {{ doctor }}
    expect(page.get_by_role("heading", name="Sprechstunde bei Dr. Anna Weber")).to_be_visible()
    expect(page.get_by_text("Für Lena Hoffmann")).to_be_visible()  # For {{ name }}
    screenshot(page, "de-4-booked")

    appointment = Appointment.objects.select_related("patient__user", "dependant").get()
    child = Dependant.objects.get()
    assert (appointment.starts_at, appointment.dependant, appointment.status) == (
        soonest,
        child,
        Status.BOOKED,
    )
    assert (child.full_name, child.date_of_birth, child.relationship) == (
        "Lena Hoffmann",
        dt.date(2019, 6, 1),
        "child",
    )
    assert appointment.patient.user.language == "de"

    # The worker's part, played here: it sends the outbox to the SMTP server.
    send_due_notifications()
    # Booked: %(what)s on %(when)s, what naming the child ("%(type)s for %(person)s with ...")
    [confirmation] = messages_to(smtp_inbox, "Gebucht:")
    assert str(confirmation["Subject"]) == (
        f"Gebucht: Sprechstunde für Lena Hoffmann bei Dr. Anna Weber am {short_time(soonest)}"
    )
    assert str(confirmation["From"]).startswith("Praxis am Lindenhof <")
    request = invite_inside_the_alternative(confirmation, "REQUEST")
    _calendar, event = valid_calendar(request, "REQUEST")
    assert event.decoded("DTSTART") == soonest
    assert str(event["ATTENDEE"]).lower() == f"mailto:{EMAIL}"
    assert str(event["SUMMARY"]) == "Sprechstunde für Lena Hoffmann bei Dr. Anna Weber"
    text = confirmation.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    for german in [
        "Guten Tag Julia Hoffmann,",  # Hello %(name)s,
        # Your appointment is booked. The attached invite adds it to your calendar.
        "Ihr Termin ist gebucht. Mit der beigefügten Einladung tragen Sie ihn in Ihren "
        "Kalender ein.",
        # For: / Appointment: / When: / %(when)s (until %(ends)s), in a 13-letter column
        f"{'Für:':<13}Lena Hoffmann",
        f"{'Termin:':<13}Sprechstunde bei Dr. Anna Weber (Dermatologie)",
        f"{'Wann:':<13}{long_time(soonest)} (bis {soonest + dt.timedelta(minutes=30):%H:%M %Z})",
        "Termin ansehen, verschieben oder absagen:",  # See, change or cancel your appointment:
    ]:
        assert german in body, f"{german!r} not in:\n{body}"
    html = confirmation.get_body(preferencelist=("html",))
    assert html is not None
    assert '<html lang="de">' in html.get_content()

    # Cancel this appointment (a link), then the confirm page.
    page.get_by_role("link", name="Diesen Termin absagen").click()
    # Cancel this appointment?
    expect(page.get_by_role("heading", name="Diesen Termin absagen?")).to_be_visible()
    assert Appointment.objects.get().status == Status.BOOKED  # only asked, not done
    page.get_by_label("Grund der Absage (optional)").fill("Es geht ihr besser")
    screenshot(page, "de-5-cancel-confirm")
    page.get_by_role("button", name="Ja, absagen").click()  # Yes, cancel it
    # Cancelled: %(appointment)s.
    expect(page.get_by_role("status")).to_have_text(f"Abgesagt: {booked}.")
    expect(page.get_by_text("Vom Patienten abgesagt")).to_be_visible()  # Cancelled by patient
    expect(page.get_by_text("Grund: Es geht ihr besser")).to_be_visible()  # Reason:
    expect(page.get_by_role("link", name="Diesen Termin absagen")).to_have_count(0)
    screenshot(page, "de-6-cancelled")
    assert Appointment.objects.get().status == Status.CANCELLED_BY_PATIENT

    send_due_notifications()
    # Cancelled: %(what)s on %(when)s
    [cancellation] = messages_to(smtp_inbox, "Abgesagt:")
    assert str(cancellation["Subject"]) == (
        f"Abgesagt: Sprechstunde für Lena Hoffmann bei Dr. Anna Weber am {short_time(soonest)}"
    )
    cancel = invite_inside_the_alternative(cancellation, "CANCEL")
    _calendar, cancelled_event = valid_calendar(cancel, "CANCEL")
    assert str(cancelled_event["UID"]) == str(event["UID"])
    assert cancelled_event.decoded("SEQUENCE") > event.decoded("SEQUENCE")
    text = cancellation.get_body(preferencelist=("plain",))
    assert text is not None
    # You have cancelled this appointment. The attached file removes it from your calendar.
    assert (
        "Sie haben diesen Termin abgesagt. Mit der beigefügten Datei entfernen Sie ihn aus "
        "Ihrem Kalender." in text.get_content()
    ), text.get_content()
    assert f"{'Für:':<13}Lena Hoffmann" in text.get_content()
    # Two sign-in codes (in German too: "Your sign-in code: %(code)s"), the confirmation,
    # the cancellation: nothing else, nothing twice.
    assert len(smtp_inbox.inbox.envelopes) == 4
    assert len(messages_to(smtp_inbox, "Ihr Anmeldecode: ")) == 2
    assert User.objects.get().email == EMAIL
