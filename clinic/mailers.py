"""Turn ``EMAIL_URL`` into Django's ``MAILERS`` setting.

Supported forms (one URL configures the default mailer):

- ``console://``: print messages on standard output (development default; with
  ``readable_console``, as DEBUG asks, decoded, see ``clinic.console_mail``)
- ``file:///path/to/dir``: write each message to a file in that directory
- ``memory://``: keep messages in ``django.core.mail.outbox`` (tests)
- ``smtp://host:port``: plain SMTP
- ``smtp+tls://user:password@host:port``: SMTP with STARTTLS
- ``smtps://user:password@host:port``: SMTP over implicit TLS
"""

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "memory": "django.core.mail.backends.locmem.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
    "smtps": "django.core.mail.backends.smtp.EmailBackend",
}


READABLE_CONSOLE = "clinic.console_mail.ReadableConsoleBackend"


def mailers_from_url(url: str, *, readable_console: bool = False) -> dict[str, dict[str, Any]]:
    """``readable_console``: ``console://`` prints messages decoded, for a person at the
    terminal (development), rather than as they go over the wire."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        known = ", ".join(sorted(BACKENDS))
        raise ImproperlyConfigured(f"EMAIL_URL scheme {scheme!r} is not one of: {known}.")

    options: dict[str, Any] = {}
    if scheme == "file":
        if not parts.path:
            raise ImproperlyConfigured("EMAIL_URL file:// needs a directory path.")
        options["file_path"] = unquote(parts.path)
    elif scheme.startswith("smtp"):
        if not parts.hostname:
            raise ImproperlyConfigured("EMAIL_URL smtp needs a host, e.g. smtp://localhost:25.")
        options["host"] = parts.hostname
        options["port"] = parts.port or {"smtp": 25, "smtp+tls": 587, "smtps": 465}[scheme]
        if parts.username:
            options["username"] = unquote(parts.username)
            options["password"] = unquote(parts.password or "")
        options["use_tls"] = scheme == "smtp+tls"
        options["use_ssl"] = scheme == "smtps"
        query = parse_qs(parts.query)
        options["timeout"] = int(query.get("timeout", ["10"])[0])

    backend = READABLE_CONSOLE if scheme == "console" and readable_console else BACKENDS[scheme]
    return {"default": {"BACKEND": backend, "OPTIONS": options}}
