"""Logs are JSON lines with the request's id and user, and no personal data: the booking
path, sign-in to the worker's email, leaves no email, phone, name or reason in them."""

import io
import json
import logging
import re
from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse

from appointments.models import Appointment
from appointments.tasks import send_due_notifications
from clinic.json_logs import JsonFormatter, RequestContextFilter
from tests.factories import consultation, last_emailed_code, make_clinic, make_doctor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "fresh_rate_limits")]

EMAIL = "ada.lovelace@example.com"
NAME = "Ada Lovelace"
PHONE = "+44 20 7946 0000"
REASON = "Persistent cough since the skiing trip"
CANCELLATION = "Feeling better after all"


@pytest.fixture
def log_output():
    """Everything logged, at every level, as the settings' console handler writes it."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_the_console_handler_writes_json_lines_with_the_request_context():
    [console] = [h for h in logging.getLogger().handlers if h.name == "console"]

    assert isinstance(console.formatter, JsonFormatter)
    assert any(isinstance(f, RequestContextFilter) for f in console.filters)
    assert settings.LOGGING["loggers"]["django"]["handlers"] == []  # type: ignore[index]


def test_the_workers_library_logs_through_the_same_handler():
    import django_q.conf  # noqa: F401 (sets up its logger on import)

    q_logger = logging.getLogger("django-q")
    assert q_logger.propagate
    assert not q_logger.handlers


def test_the_booking_path_logs_no_personal_data(client, log_output):
    doctor = make_doctor(make_clinic(name="Lindenhof Practice"), name="Dr. Anna Weber")

    # Sign in, and give the details, wrongly first (a 400 that Django logs).
    client.post(reverse("accounts:login"), {"email": EMAIL})
    client.post(reverse("accounts:login-verify"), {"code": last_emailed_code()})
    details = {"full_name": NAME, "phone": PHONE, "date_of_birth": "1985-12-10"}
    refused = client.post(
        reverse("accounts:profile"),
        details | {"phone": PHONE + " call me"},
        HTTP_X_REQUEST_ID="req-details-1",
    )
    assert refused.status_code == 400
    client.post(reverse("accounts:profile"), details)
    # Book with a reason, fail to open a page that does not exist (a 404 that Django
    # logs), cancel with a reason; the worker sends each email.
    url = (
        f"{reverse('appointments:book')}?doctor={doctor.pk}"
        f"&type={consultation(doctor).pk}&start=2026-03-09T09:00:00Z"
    )
    key = re.search(r'name="booking_key" value="([0-9a-f]{32})"', client.get(url).text)
    assert key, "no booking form"
    booked = client.post(url, {"reason": REASON, "booking_key": key.group(1)})
    assert booked.status_code == 303, booked.content
    appointment = Appointment.objects.get()
    assert send_due_notifications() == 1
    assert client.get("/appointments/999999/").status_code == 404
    cancelled = client.post(
        reverse("appointments:cancel", args=[appointment.pk]), {"reason": CANCELLATION}
    )
    assert cancelled.status_code in (302, 303)
    assert send_due_notifications() == 1

    output = log_output.getvalue()
    records = lines(log_output)
    # The harness sees the path: a request's lines, the user's id, the worker's lines.
    assert any(r["request_id"] == "req-details-1" for r in records), output
    assert any(r["user_id"] == appointment.patient.user_id for r in records), output
    assert any(r["logger"] == "appointments.tasks" for r in records), output
    assert all(r["request_id"] for r in records if r["logger"] == "django.request"), output
    for personal in (EMAIL, NAME, PHONE, REASON, CANCELLATION, "lovelace", "7946", "skiing"):
        assert personal.lower() not in output.lower(), f"{personal!r} is in the logs"


def test_an_email_address_in_a_message_or_traceback_is_replaced(log_output):
    logger = logging.getLogger("appointments.tasks")
    try:
        raise RuntimeError("550 5.1.1 <ada@example.com>: Recipient address rejected")
    except RuntimeError:
        logger.exception("Gave up on %s: %s", "appointment-1-v0-booked", "to ada@example.com")

    [record] = lines(log_output)
    assert record["message"] == "Gave up on appointment-1-v0-booked: to <email>"
    assert "ada@example.com" not in record["exception"]
    assert "<email>" in record["exception"]
    assert record["level"] == "ERROR"
    assert record["request_id"] is None
