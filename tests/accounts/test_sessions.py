"""Sessions end when idle or old (accounts/sessions.py), "sign out everywhere" ends every
session and API token, and what has ended is purged (accounts/tasks.py)."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.api_tokens import issue_token
from accounts.models import ApiToken, User
from accounts.tasks import purge_expired
from tests.api.helpers import client_for
from tests.factories import log_in, log_in_staff, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def signed_in(client) -> bool:
    return bool(client.get(reverse("appointments:list")).status_code == 200)


def test_a_patient_stays_signed_in_while_active(client, frozen_now):
    log_in(client, make_patient())

    for _ in range(6):
        frozen_now.shift(dt.timedelta(minutes=50))
        assert signed_in(client)


def test_a_patient_is_signed_out_after_an_hour_without_activity(client, frozen_now):
    log_in(client, make_patient())
    assert signed_in(client)

    frozen_now.shift(dt.timedelta(minutes=61))
    response = client.get(reverse("appointments:list"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert "signed out after a while without activity" in response.text


def test_staff_are_signed_out_after_thirty_minutes_without_activity(client, frozen_now):
    log_in_staff(client, make_staff())
    home = reverse("staff_appointments:home")
    frozen_now.shift(dt.timedelta(minutes=29))
    assert client.get(home).status_code == 200

    frozen_now.shift(dt.timedelta(minutes=31))

    assert client.get(home)["Location"].startswith(reverse("staff:login"))


def test_even_an_active_session_ends_twelve_hours_after_signing_in(client, frozen_now):
    log_in(client, make_patient())

    for _ in range(25):  # 12.5 hours, a request every half hour
        frozen_now.shift(dt.timedelta(minutes=30))
        client.get(reverse("appointments:list"))

    assert not signed_in(client)


def test_signing_out_everywhere_ends_other_sessions_and_api_tokens():
    patient = make_patient()
    here, elsewhere = Client(), Client()
    log_in(here, patient)
    log_in(elsewhere, patient)
    app = client_for(patient.user)

    here.post(reverse("accounts:logout"), {"everywhere": "1"})

    assert not signed_in(here)
    assert not signed_in(elsewhere)
    assert app.get("/api/v1/me").status_code == 401


def test_a_plain_sign_out_leaves_the_other_sessions_alone():
    patient = make_patient()
    here, elsewhere = Client(), Client()
    log_in(here, patient)
    log_in(elsewhere, patient)

    here.post(reverse("accounts:logout"))

    assert signed_in(elsewhere)


def test_the_api_signs_out_everywhere_too():
    patient = make_patient()
    browser = Client()
    log_in(browser, patient)
    app, other_app = client_for(patient.user), client_for(patient.user)

    response = app.post("/api/v1/auth/logout", {"everywhere": True}, format="json")

    assert response.status_code == 204
    assert other_app.get("/api/v1/me").status_code == 401
    assert not signed_in(browser)


def test_staff_can_sign_out_everywhere_from_the_staff_page(client):
    staff = make_staff()
    log_in_staff(client, staff)

    page = client.get(reverse("staff_appointments:home"))

    assert "Sign out everywhere" in page.text


def test_the_daily_purge_removes_what_has_ended(frozen_now):
    staff_token_user = make_patient().user
    _token, ended = issue_token(user=staff_token_user, kind=ApiToken.Kind.PATIENT)
    ApiToken.objects.filter(pk=ended.pk).update(revoked_at=timezone.now())
    _token, alive = issue_token(user=staff_token_user, kind=ApiToken.Kind.PATIENT)
    Client().post(reverse("accounts:login"), {"email": "never@example.com"})  # a session too

    frozen_now.shift(dt.timedelta(days=31))
    log_in(Client(), make_patient())  # a session still alive
    purged = purge_expired()

    assert not ApiToken.objects.filter(pk=ended.pk).exists()
    assert ApiToken.objects.filter(pk=alive.pk).exists()
    assert not User.objects.filter(email="never@example.com").exists()
    assert purged["pending_accounts"] == 1
    assert purged["sessions"] >= 1
    assert Session.objects.filter(expire_date__gt=timezone.now()).exists()


# --- With Redis, sessions are read from the shared cache (clinic/settings.py) -------------


@pytest.fixture
def sessions_in_the_cache(settings):
    """As with REDIS_URL: cached_db sessions on the shared cache (here one in memory)."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.CACHES = settings.CACHES | {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }


def session_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert signed_in(client)
    return sum("django_session" in query["sql"] for query in captured)


@pytest.mark.usefixtures("sessions_in_the_cache")
def test_with_sessions_in_the_cache_a_page_reads_no_session_row():
    client = Client()
    log_in(client, make_patient())

    assert session_queries(client) == 0


@pytest.mark.usefixtures("sessions_in_the_cache")
def test_with_sessions_in_the_cache_signing_out_everywhere_still_ends_every_session():
    patient = make_patient()
    here, elsewhere = Client(), Client()
    log_in(here, patient)
    log_in(elsewhere, patient)
    assert signed_in(elsewhere)  # its session is in the cache now

    here.post(reverse("accounts:logout"), {"everywhere": "1"})

    assert not signed_in(here)
    assert not signed_in(elsewhere)


@pytest.mark.usefixtures("sessions_in_the_cache")
def test_with_sessions_in_the_cache_a_signed_out_session_cannot_be_used_again():
    client = Client()
    log_in(client, make_patient())
    stolen = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert signed_in(client)

    client.post(reverse("accounts:logout"))

    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert not signed_in(thief)
    assert not Session.objects.filter(session_key=stolen).exists()
