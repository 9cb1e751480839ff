"""Text messages (SMS): the backends that hand one to a gateway, and fitting a text into
one message.

``SMS_BACKEND`` picks the backend:

- ``""`` (the default without ``DEBUG``): SMS is not configured; nobody is offered it and
  nothing is queued for it.
- ``console`` (the default with ``DEBUG``): print each message on standard output, for
  development. Refused without ``DEBUG``: it would write numbers and texts where a
  production process's output goes, the logs.
- ``http``: a JSON POST to ``SMS_GATEWAY_URL`` with ``Authorization: Bearer
  SMS_GATEWAY_TOKEN`` and ``Idempotency-Key`` (the outbox row's key, also in the body as
  ``reference``), within ``SMS_GATEWAY_TIMEOUT_SECONDS``; any answer but 2xx (redirects
  included) or no answer in time raises ``SmsNotSent``, and the outbox retries with its
  backoff. The body is ``{"to": "+4917...", "text": "...", "reference": "..."}``; most
  gateways take this shape or need a small adapter of the same size as this class.

Nothing here logs a number or a text, and no error message carries one: errors end up in
the outbox row's ``last_error``, which staff see in the admin.
"""

import json
import sys
import unicodedata
import urllib.error
import urllib.request
from typing import Any, Protocol, TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SMS_BACKENDS = ("", "console", "http")

# GSM 03.38: the 7-bit alphabet (one septet a character) and its extension table (an
# escape plus a septet: two). Anything else would switch the message to UCS-2, where one
# message holds 70 characters instead of 160.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
SINGLE_MESSAGE = 160  # septets in one message
ELLIPSIS = "..."  # "…" is not in the GSM alphabet
# Typographic quotes, dashes and spaces, as the plain ones of the GSM alphabet.
TYPOGRAPHY = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": ELLIPSIS,
    "\u00b7": "-",
    "\u00a0": " ",
}


class SmsNotSent(Exception):
    """The gateway did not take the message; retry later."""


class SmsBackend(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> None:
        """Hand one message to the gateway or raise ``SmsNotSent`` (or any error)."""


class ConsoleSmsBackend:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, *, to: str, text: str, reference: str) -> None:
        self.stream.write(f"SMS to {to} ({reference}, {gsm_length(text)} of 160):\n{text}\n")
        self.stream.write("-" * 79 + "\n")
        self.stream.flush()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be resent as a GET without its body, or to somewhere the
    # token should not go: a 3xx is an answer like any other non-2xx.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpGatewaySmsBackend:
    def __init__(self, *, url: str, token: str, timeout: float) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects)

    def send(self, *, to: str, text: str, reference: str) -> None:
        body = json.dumps({"to": to, "text": text, "reference": reference}).encode()
        request = urllib.request.Request(  # noqa: S310 (the URL is our configured https gateway)
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
                # Gateways that deduplicate by key turn a retried send into one message.
                "Idempotency-Key": reference,
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
                response.read(65536)
        except urllib.error.HTTPError as error:
            # Only the status: the gateway's body may repeat the number or the text.
            raise SmsNotSent(f"the SMS gateway answered HTTP {error.code}") from None
        except (OSError, ValueError) as error:  # refused, reset, timed out, bad URL
            raise SmsNotSent(f"the SMS gateway was not reached: {type(error).__name__}") from None
        if not 200 <= status < 300:
            raise SmsNotSent(f"the SMS gateway answered HTTP {status}")


def sms_is_configured() -> bool:
    return bool(settings.SMS_BACKEND)


def sms_backend() -> SmsBackend:
    """The configured backend; ``ImproperlyConfigured`` when SMS is off."""
    name = settings.SMS_BACKEND
    if name == "console":
        return ConsoleSmsBackend()
    if name == "http":
        return HttpGatewaySmsBackend(
            url=settings.SMS_GATEWAY_URL,
            token=settings.SMS_GATEWAY_TOKEN,
            timeout=settings.SMS_GATEWAY_TIMEOUT_SECONDS,
        )
    raise ImproperlyConfigured("SMS is not configured (SMS_BACKEND is empty).")


def check_sms_settings(*, backend: str, url: str, token: str, debug: bool) -> None:
    """At start-up (clinic/settings.py): a backend that cannot work refuses to start."""
    if backend not in SMS_BACKENDS:
        raise ImproperlyConfigured(
            f"SMS_BACKEND {backend!r} is not one of: console, http, or empty."
        )
    if backend == "console" and not debug:
        raise ImproperlyConfigured("SMS_BACKEND=console is for development (DEBUG) only.")
    if backend == "http":
        if not url.startswith(("https://", "http://")):
            raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_URL (https://...).")
        if not url.startswith("https://") and not debug:
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be https:// without DEBUG.")
        if not token:
            raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_TOKEN.")


# --- Fitting a text into one message -------------------------------------------------------


def gsm_length(text: str) -> int | None:
    """Septets ``text`` takes in the GSM 7-bit alphabet; None if it is not in it."""
    length = 0
    for character in text:
        if character in GSM_BASIC:
            length += 1
        elif character in GSM_EXTENSION:
            length += 2
        else:
            return None
    return length


def to_gsm(text: str) -> str:
    """``text`` in the GSM alphabet: letters outside it lose their accents ("ś" becomes
    "s", "č" "c"), typographic quotes and dashes become plain ones, anything else ("ł",
    which has no accent to lose) a question mark. German letters are in the alphabet."""
    replacements = TYPOGRAPHY
    result = []
    for character in text:
        if character in GSM_BASIC or character in GSM_EXTENSION:
            result.append(character)
        elif character in replacements:
            result.append(replacements[character])
        else:
            base = unicodedata.normalize("NFKD", character)[:1]
            result.append(base if base in GSM_BASIC else "?")
    return "".join(result)


def fit_sms(template: str, *, keep: dict[str, str], shorten: dict[str, str]) -> str:
    """``template % values`` in the GSM alphabet and at most 160 septets: one message.

    ``keep`` (a time, a link) stays whole; the longest of ``shorten`` (names) is cut, with
    "...", until the text fits; if it still does not, the text itself is cut."""
    values = {name: to_gsm(" ".join(value.split())) for name, value in (keep | shorten).items()}
    template = to_gsm(template)

    def length(text: str) -> int:
        return gsm_length(text) or 0

    text = template % values
    while shorten and length(text) > SINGLE_MESSAGE:
        name = max(shorten, key=lambda name: len(values[name]))
        value = values[name]
        if len(value) <= len(ELLIPSIS) + 1:
            break
        excess = length(text) - SINGLE_MESSAGE
        values[name] = value[: max(1, len(value) - excess - len(ELLIPSIS))].rstrip() + ELLIPSIS
        text = template % values
    while length(text) > SINGLE_MESSAGE:
        text = text[:-1]
    return text
