import email
import email.policy
import io
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from clinic.mailers import mailers_from_url

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def smtp_options(**options: Any) -> dict[str, Any]:
    defaults = {"use_tls": False, "use_ssl": False, "timeout": 10}
    return defaults | options


@pytest.mark.parametrize(
    ("url", "backend", "options"),
    [
        ("console://", "django.core.mail.backends.console.EmailBackend", {}),
        (
            "file:///var/spool/clinic-mail",
            "django.core.mail.backends.filebased.EmailBackend",
            {"file_path": "/var/spool/clinic-mail"},
        ),
        ("memory://", "django.core.mail.backends.locmem.EmailBackend", {}),
        ("smtp://mail.example.com:2525", SMTP, smtp_options(host="mail.example.com", port=2525)),
        ("smtp://mail.example.com", SMTP, smtp_options(host="mail.example.com", port=25)),
        (
            "smtp+tls://clinic%40example.com:p%40ss%3Aw%2Ford@mail.example.com:587",
            SMTP,
            smtp_options(
                host="mail.example.com",
                port=587,
                username="clinic@example.com",
                password="p@ss:w/ord",
                use_tls=True,
            ),
        ),
        (
            "smtp+tls://apikey:secret@mail.example.com",
            SMTP,
            smtp_options(
                host="mail.example.com",
                port=587,
                username="apikey",
                password="secret",
                use_tls=True,
            ),
        ),
        (
            "smtps://apikey:secret@mail.example.com",
            SMTP,
            smtp_options(
                host="mail.example.com",
                port=465,
                username="apikey",
                password="secret",
                use_ssl=True,
            ),
        ),
        (
            "smtp://mail.example.com:25?timeout=3",
            SMTP,
            smtp_options(host="mail.example.com", port=25, timeout=3),
        ),
    ],
)
def test_each_email_url_form_maps_to_its_mailer(url, backend, options):
    assert mailers_from_url(url) == {"default": {"BACKEND": backend, "OPTIONS": options}}


def test_the_console_can_be_the_readable_one_and_only_the_console():
    assert mailers_from_url("console://", readable_console=True) == {
        "default": {"BACKEND": "clinic.console_mail.ReadableConsoleBackend", "OPTIONS": {}}
    }
    assert mailers_from_url("memory://", readable_console=True) == mailers_from_url("memory://")


@pytest.mark.parametrize(
    "url",
    [
        "console://",
        "memory://",
        "file:///tmp/clinic-mail",
        "smtp+tls://user:password@mail.example.com",
        "smtps://user:password@mail.example.com",
    ],
)
def test_django_accepts_the_mailer_it_builds(url):
    # Django rejects OPTIONS its backend does not take: this catches a key that
    # mailers_from_url spells differently from the backend's arguments.
    config = mailers_from_url(url)["default"]
    with override_settings(MAILERS=mailers_from_url(url)):
        backend = mail.mailers["default"]

    assert f"{type(backend).__module__}.{type(backend).__name__}" == config["BACKEND"]
    for option, value in config["OPTIONS"].items():
        assert getattr(backend, option) == value


def test_it_rejects_an_unknown_scheme():
    with pytest.raises(ImproperlyConfigured, match="scheme 'sendmail' is not one of"):
        mailers_from_url("sendmail://localhost")


def test_it_rejects_an_smtp_url_without_a_host():
    with pytest.raises(ImproperlyConfigured, match="smtp needs a host"):
        mailers_from_url("smtp://")


def test_it_rejects_a_file_url_without_a_path():
    with pytest.raises(ImproperlyConfigured, match="needs a directory path"):
        mailers_from_url("file://")


def test_it_sends_through_a_real_smtp_server(smtp_server):
    # The test environment swaps every mailer for locmem; this test wants the real one.
    url = f"smtp://{smtp_server.host}:{smtp_server.port}"
    with override_settings(MAILERS=mailers_from_url(url)):
        sent = mail.send_mail(
            "Your appointment on Monday",
            "See you on Monday at 10:00.",
            "Clinic <no-reply@clinic.example.com>",
            ["patient@example.com"],
        )

    assert sent == 1
    [envelope] = smtp_server.inbox.envelopes
    assert envelope.mail_from == "no-reply@clinic.example.com"
    assert envelope.rcpt_tos == ["patient@example.com"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "Your appointment on Monday"
    assert message["To"] == "patient@example.com"
    assert message.get_content().strip() == "See you on Monday at 10:00."


LONG_LINK = "https://clinic.example.org/appointments/12345/?from=email&utm=" + "x" * 80


def test_the_readable_console_prints_decoded_text_and_whole_links():
    stream = io.StringIO()
    message = mail.EmailMultiAlternatives(
        subject="Gebucht: Sprechstunde bei Dr. Jürgen Groß",
        body=f"Grüß Gott! Ihr Termin: {LONG_LINK}\n",
        from_email="Praxis Lindenhof <no-reply@clinic.example.org>",
        to=["Jörg Ähnlich <joerg@example.com>"],
    )
    message.attach_alternative(
        f'<p>Grüß Gott! <a href="{LONG_LINK}">Ihr Termin</a></p>', "text/html"
    )
    message.attach("invite.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "application/ics")
    with override_settings(MAILERS=mailers_from_url("console://", readable_console=True)):
        backend = mail.mailers["default"]
    backend.stream = stream  # type: ignore[attr-defined]
    backend.send_messages([message])
    printed = stream.getvalue()

    assert "Subject: Gebucht: Sprechstunde bei Dr. Jürgen Groß" in printed
    assert "To: Jörg Ähnlich <joerg@example.com>" in printed
    assert f"Grüß Gott! Ihr Termin: {LONG_LINK}" in printed
    assert f'<a href="{LONG_LINK}">' in printed
    assert "--- text/plain ---" in printed
    assert "--- text/html ---" in printed
    assert "--- attachment invite.ics (application/ics, 32 bytes) ---" in printed
    # Nothing of the wire's encodings.
    assert "=?utf-8?" not in printed
    assert "=C3" not in printed
    assert "=\n" not in printed
    assert "Content-Transfer-Encoding" not in printed


def test_djangos_own_console_prints_the_wire_format():
    # The control: the plain console backend shows what the readable one fixes.
    stream = io.StringIO()
    message = mail.EmailMessage(
        "Termin", f"Grüß Gott! {LONG_LINK}\n", "a@example.com", ["b@example.com"]
    )
    with override_settings(MAILERS=mailers_from_url("console://")):
        backend = mail.mailers["default"]
    backend.stream = stream  # type: ignore[attr-defined]
    backend.send_messages([message])

    assert LONG_LINK not in stream.getvalue()
