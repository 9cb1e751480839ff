"""Logs as JSON lines: one object per record, with the request id and the user id of the
request it belongs to, and no personal data.

What a line holds: ``time`` (UTC), ``level``, ``logger``, ``message``, ``request_id``,
``user_id`` (the signed-in user's primary key, or null), ``status`` when Django logged a
response, ``exception`` for a traceback, and ``http`` for the access log
(``clinic.gunicorn_logs``). Never a name, an email, a phone number, a reason or a query
string: the code does not put them in its messages (Django's own messages carry the path
only), and as a safety net for what other code says, e.g. an SMTP server refusing
``<ada@example.com>``, every email address in a message or traceback is replaced by
``<email>``.
"""

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest
from django.utils.functional import LazyObject, empty

# A request id a proxy or client sent is kept when it looks like one (nginx's
# $request_id, a UUID, a trace id): letters, digits and . _ : -, 8 to 128 of them.
# Anything else (too long, spaces, an email address) is replaced by a fresh id, so that
# the header cannot smuggle text into the logs.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")

EMAIL_ADDRESS = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")


# Where a request keeps its id: its META, so that records Django logs about the request
# after the middleware has finished (``Not Found: /x``, with the request attached) find
# it too.
REQUEST_ID_META = "clinic.request_id"

_current_request: ContextVar[HttpRequest | None] = ContextVar("clinic_request", default=None)


def request_id_from(header: str | None) -> str:
    """The incoming ``X-Request-ID`` when it is a sane token, else a new random id."""
    if header and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


@contextmanager
def request_context(request: HttpRequest, request_id: str) -> Iterator[None]:
    """While the request runs, every log record carries its id and user."""
    request.META[REQUEST_ID_META] = request_id
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def request_id_of(request: HttpRequest | None) -> str | None:
    value = request.META.get(REQUEST_ID_META) if request is not None else None
    return value if isinstance(value, str) else None


def current_request_id() -> str | None:
    return request_id_of(_current_request.get())


def user_id_of(request: HttpRequest | None) -> int | None:
    """The signed-in user's id, if the request has already looked its user up.

    A log call must not query the database (it may be logging that the database is
    down), so a user that nothing has loaded yet counts as unknown. The pages' user is
    Django's lazy object (wrapped again by django-otp); the API's is the user DRF
    authenticated, set on the request as it is."""
    if request is None:
        return None
    user: Any = vars(request).get("user")
    while isinstance(user, LazyObject):
        wrapped = user._wrapped
        if wrapped is empty:
            return None
        user = wrapped
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return int(user.pk)


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` to every record a handler sees: those of the
    request running now, or of the request the record names (``extra={"request": ...}``,
    as Django's ``django.request`` records do)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = _current_request.get() or getattr(record, "request", None)
        if not isinstance(request, HttpRequest):
            request = None
        if not hasattr(record, "request_id"):
            record.request_id = request_id_of(request)
        if not hasattr(record, "user_id"):
            record.user_id = user_id_of(request)
        return True


def scrub(text: str) -> str:
    return EMAIL_ADDRESS.sub("<email>", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        if isinstance(status := getattr(record, "status_code", None), int):
            entry["status"] = status
        if isinstance(http := getattr(record, "http", None), dict):
            entry["http"] = http
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str)
