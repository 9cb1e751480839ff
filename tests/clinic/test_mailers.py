import email
import email.policy
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
