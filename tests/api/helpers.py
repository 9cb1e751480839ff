"""Calling the JSON API in tests: clients that carry a bearer token."""

import uuid
from typing import Any

from rest_framework.test import APIClient

from accounts.api_tokens import issue_token
from accounts.models import ApiToken, User
from scheduling.models import Doctor
from tests.factories import authenticator_of, consultation

# Free at the frozen test time (tests/conftest.py): next Monday in Europe/Berlin.
MONDAY_10 = "2026-03-09T10:00:00+01:00"
MONDAY_11 = "2026-03-09T11:00:00+01:00"


def booking(doctor: Doctor, start: str = MONDAY_10, **extra: Any) -> dict[str, Any]:
    """The body of POST /api/v1/appointments for ``doctor``'s first type at ``start``."""
    return {
        "doctor": doctor.pk,
        "appointment_type": consultation(doctor).pk,
        "start": start,
    } | extra


def token_for(user: User) -> str:
    """A fresh bearer token for ``user``: a staff token (issued against their
    authenticator) for staff, a patient token otherwise."""
    if user.is_staff:
        token, _record = issue_token(
            user=user, kind=ApiToken.Kind.STAFF, device=authenticator_of(user)
        )
    else:
        token, _record = issue_token(user=user, kind=ApiToken.Kind.PATIENT)
    return token


def client_for(user: User) -> APIClient:
    """An API client signed in as ``user`` with a fresh bearer token (see token_for)."""
    token = token_for(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def new_key() -> str:
    return str(uuid.uuid4())


def post_booking(client: APIClient, key: str | None = None, **body: Any) -> Any:
    """POST /api/v1/appointments with an Idempotency-Key (a new one unless given)."""
    return client.post(
        "/api/v1/appointments", body, format="json", HTTP_IDEMPOTENCY_KEY=key or new_key()
    )


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with ``status`` and our ``code``."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["title"]
    assert body["detail"]
    return body
