"""The error pages: in the site's look for people, problems for the API, and a 503 with
Retry-After, never a 500 or a hang, when the database is down or cancels a query."""

import time

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.test import Client

from tests.clinic.conftest import database_unreachable
from tests.factories import log_in, make_patient

BRAND = "Clinic appointments"


def broken_client() -> Client:
    """A client that returns what the site answers to an exception instead of raising it."""
    return Client(raise_request_exception=False)


def test_a_page_answers_503_with_retry_after_when_the_database_is_down(database_down):
    started = time.monotonic()

    response = broken_client().get("/")

    assert time.monotonic() - started < 5, "the answer must not wait for the database"
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert BRAND in page
    assert "We are unavailable for a moment" in page
    assert response["X-Request-ID"] in page  # the reference a person can quote


def test_a_signed_in_patients_page_answers_503_when_the_database_goes_down(transactional_db):
    client = broken_client()
    log_in(client, make_patient())
    assert client.get("/appointments/").status_code == 200

    with database_unreachable():
        response = client.get("/appointments/")

    assert response.status_code == 503
    assert "We are unavailable for a moment" in response.content.decode()


def test_the_api_answers_a_503_problem_when_the_database_is_down(database_down):
    response = broken_client().get("/api/v1/appointments", HTTP_AUTHORIZATION="Bearer some-token")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "service_unavailable"


def test_a_query_the_database_cancelled_is_a_503(db, monkeypatch):
    def cancelled(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr("scheduling.views.render_with_placeholder", cancelled)

    response = broken_client().get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"


@pytest.mark.postgres
def test_a_statement_past_the_statement_timeout_is_cancelled_and_answered_503(db, monkeypatch):
    # The test's transaction rolls this SET back at the end.
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 50")

    def slow(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")

    monkeypatch.setattr("scheduling.views.render_with_placeholder", slow)
    started = time.monotonic()

    response = broken_client().get("/")

    assert time.monotonic() - started < 3
    assert response.status_code == 503


def test_a_bug_in_a_page_answers_the_sites_500_page(db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("scheduling.views.render_with_placeholder", broken)

    response = broken_client().get("/")

    assert response.status_code == 500
    page = response.content.decode()
    assert BRAND in page
    assert "Something went wrong on our side" in page
    assert "Retry-After" not in response


def test_a_missing_page_is_the_sites_404_page(db):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert BRAND in page
    assert "This page does not exist" in page


def test_a_missing_api_path_outside_v1_is_a_problem(db):
    response = Client().get("/api/v2/clinics")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_refused_page_is_the_sites_403_page(db, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionDenied

    monkeypatch.setattr("scheduling.views.render_with_placeholder", refused)

    response = broken_client().get("/")

    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()


def test_a_form_without_its_csrf_token_gets_the_sites_403_page(db):
    response = Client(enforce_csrf_checks=True).post("/login/", {"email": "ada@example.com"})

    assert response.status_code == 403
    page = response.content.decode()
    assert BRAND in page
    assert "This form has expired" in page
    # The likeliest cause first: signing in or out gives the visitor a new token, so a
    # form of a tab opened before is refused.
    assert "you signed in or out in another tab" in page
    assert "<style" not in page  # Django's own page has an inline style, refused by the CSP
