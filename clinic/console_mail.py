"""The console mailer of development (``DEBUG`` with ``EMAIL_URL=console://``): messages as
a person reads them.

Django's console backend prints the message as it goes over the wire: headers encoded
(``=?utf-8?q?...?=``), bodies in quoted-printable or base64, long lines broken with ``=``,
so a sign-in code or a link cannot be copied from the terminal. This one prints the
decoded headers, then every text part decoded (plain text, HTML, the calendar invite),
with links whole, and names each attachment with its type and size.
"""

import email.policy
from email.message import EmailMessage
from typing import Any

from django.core.mail.backends.console import EmailBackend

# Headers about the encoding on the wire; the decoded text below makes them noise.
_WIRE_HEADERS = frozenset({"content-transfer-encoding", "mime-version"})


class ReadableConsoleBackend(EmailBackend):
    def write_message(self, message: Any) -> None:
        self.stream.write(readable(message.message(policy=email.policy.default)))
        self.stream.write("-" * 79 + "\n")


def readable(message: EmailMessage) -> str:
    lines = [
        f"{name}: {value}" for name, value in message.items() if name.lower() not in _WIRE_HEADERS
    ]
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = part.get_filename()
        payload = part.get_content()
        method = part.get_param("method")
        label = f"{content_type}; method={method}" if method else content_type
        if isinstance(payload, str):
            lines += ["", f"--- {label}{f' ({filename})' if filename else ''} ---"]
            lines.append(payload.replace("\r\n", "\n").rstrip("\n"))
        else:
            size = len(payload) if isinstance(payload, bytes) else 0
            lines += ["", f"--- attachment {filename or '(no name)'} ({label}, {size} bytes) ---"]
    return "\n".join(lines) + "\n"
