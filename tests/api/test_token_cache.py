"""The shared cache's copy of a checked bearer token (accounts/api_tokens.py): the next
requests read no token or user row, the copy names nobody, and every change that ends a
token ends it on the very next request, because the change writes a marker over the copy
that a racing request's copy cannot replace.

Each "ends it" test was checked to fail with ``end_cached_tokens`` doing nothing; the
control test below does that on purpose and sees the stale copy let the request in."""

import datetime as dt
import pickle
import time
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import api_tokens, services
from accounts.api_tokens import ENDED, _cache_key, keep_token, revoke_token, token_digest
from accounts.models import ApiToken, User
from tests.api.helpers import assert_problem, token_for
from tests.factories import (
    authenticator_of,
    log_in_staff,
    make_clinic,
    make_patient,
    make_staff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

APPOINTMENTS = "/api/v1/appointments"


@pytest.fixture(autouse=True)
def token_cache(settings):
    settings.API_TOKEN_CACHE_SECONDS = 60


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def record_of(token: str) -> ApiToken:
    return ApiToken.objects.get(digest=token_digest(token))


def kept_entry(token: str) -> Any:
    return cache.get(_cache_key(token_digest(token)))


def queries_of(call: Callable[[], Any]) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [query["sql"] for query in captured.captured_queries]


def token_rows_read(queries: list[str]) -> list[str]:
    return [sql for sql in queries if '"api_apitoken"' in sql and sql.startswith("SELECT")]


@pytest.fixture
def patient_api() -> tuple[User, str, APIClient]:
    """A patient, their token and a client that has used it once (the copy is kept)."""
    user = make_patient().user
    token = token_for(user)
    client = bearer(token)
    assert client.get(APPOINTMENTS).status_code == 200
    assert isinstance(kept_entry(token), dict)
    return user, token, client


@pytest.fixture
def staff_api() -> tuple[User, str, APIClient]:
    user = make_staff(clinics=(make_clinic(),))
    token = token_for(user)
    client = bearer(token)
    assert client.get(APPOINTMENTS).status_code == 200
    assert isinstance(kept_entry(token), dict)
    return user, token, client


# --- The copy -----------------------------------------------------------------------------


def test_the_next_request_reads_neither_the_token_nor_the_user(patient_api):
    _user, _token, client = patient_api

    response, queries = queries_of(lambda: client.get(APPOINTMENTS))

    assert response.status_code == 200
    assert token_rows_read(queries) == []
    assert not [sql for sql in queries if sql.startswith('SELECT "accounts_user"')]


def test_without_the_setting_every_request_reads_the_token(settings, patient_api):
    settings.API_TOKEN_CACHE_SECONDS = 0
    _user, _token, client = patient_api

    _response, queries = queries_of(lambda: client.get(APPOINTMENTS))

    assert len(token_rows_read(queries)) == 1


def test_the_copy_names_nobody(patient_api):
    user, token, _client = patient_api
    stored = pickle.dumps(kept_entry(token))

    assert user.email.encode() not in stored
    assert user.patient.full_name.encode() not in stored
    assert set(kept_entry(token)["user"]) == {"id", "is_superuser", "is_staff", "is_active"}


def test_a_view_that_needs_the_email_still_reads_it(patient_api):
    user, _token, client = patient_api

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_the_copy_ends_with_the_tokens_expiry(patient_api):
    _user, token, client = patient_api
    expires_at = record_of(token).expires_at

    with time_machine.travel(expires_at + dt.timedelta(seconds=1), tick=False):
        assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_a_bad_token_is_still_refused_with_a_reason():
    response = bearer("not-a-token-anyone-was-given").get(APPOINTMENTS)

    body = assert_problem(response, 401, "invalid_token")
    assert "not valid" in body["detail"]


def test_a_copy_made_under_another_secret_key_is_not_used(settings, patient_api):
    _user, _token, client = patient_api

    settings.SECRET_KEY = "a-new-secret-key-" * 3

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_saving_only_the_last_sign_in_keeps_the_copy(patient_api):
    user, token, _client = patient_api

    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])

    assert isinstance(kept_entry(token), dict)


# --- Every change that ends a token ends it on the very next request ----------------------


def test_revoking_a_token_ends_it_on_the_next_request(patient_api):
    _user, token, client = patient_api

    revoke_token(record_of(token))

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_logging_out_ends_the_token_on_the_next_request(patient_api):
    _user, _token, client = patient_api

    assert client.post("/api/v1/auth/logout").status_code == 204

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_revoking_in_the_admin_ends_the_token_on_the_next_request(client, patient_api):
    _user, token, api = patient_api
    log_in_staff(client, make_staff(is_superuser=True))

    response = client.post(
        "/admin/accounts/apitoken/",
        {"action": "revoke", "_selected_action": [record_of(token).pk]},
    )

    assert response.status_code == 302
    assert_problem(api.get(APPOINTMENTS), 401, "invalid_token")


def test_deleting_a_token_ends_it_on_the_next_request(patient_api):
    _user, token, client = patient_api

    record_of(token).delete()

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_deleting_the_authenticator_ends_a_staff_token_on_the_next_request(staff_api):
    user, _token, client = staff_api

    authenticator_of(user).delete()  # the admin resets a lost phone's authenticator

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_a_password_change_ends_the_token_on_the_next_request(staff_api):
    user, _token, client = staff_api

    user.set_password("a-new-password-after-a-leak")
    user.save()

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_deactivating_the_account_ends_the_token_on_the_next_request(patient_api):
    user, _token, client = patient_api

    services.deactivate_user(user=user)

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_unticking_active_in_the_admin_ends_the_token_on_the_next_request(patient_api):
    user, _token, client = patient_api

    user.is_active = False
    user.save()

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_making_the_account_staff_ends_its_patient_token_on_the_next_request(patient_api):
    user, _token, client = patient_api

    user.is_staff = True
    user.save(update_fields=["is_staff"])

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_an_account_no_longer_staff_loses_its_staff_token_on_the_next_request(staff_api):
    user, _token, client = staff_api

    user.is_staff = False
    user.save()

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_signing_out_everywhere_ends_the_token_on_the_next_request(patient_api):
    user, _token, client = patient_api

    services.sign_out_everywhere(user=user)

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


def test_signing_out_everywhere_through_the_api_ends_every_token(patient_api):
    user, _token, client = patient_api
    other = bearer(token_for(user))
    assert other.get(APPOINTMENTS).status_code == 200

    assert (
        client.post("/api/v1/auth/logout", {"everywhere": True}, format="json").status_code == 204
    )

    assert_problem(other.get(APPOINTMENTS), 401, "invalid_token")


def test_deleting_the_account_ends_the_token_on_the_next_request(staff_api):
    # A patient's account is kept (Patient.user is protected); a staff member's can go.
    user, _token, client = staff_api

    user.delete()

    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")


# --- Races and the control ----------------------------------------------------------------


def test_a_copy_of_rows_read_before_a_revocation_cannot_replace_its_marker():
    user = make_patient().user
    token = token_for(user)
    read_at = time.monotonic()
    record = ApiToken.objects.select_related("user").get(digest=token_digest(token))

    revoke_token(record)  # commits while the racing request holds the rows it read
    keep_token(record, read_at=read_at)

    assert kept_entry(token) == ENDED
    assert_problem(bearer(token).get(APPOINTMENTS), 401, "invalid_token")


def test_a_copy_of_rows_read_longer_ago_than_a_marker_lives_is_not_written(settings):
    user = make_patient().user
    token = token_for(user)
    record = ApiToken.objects.select_related("user").get(digest=token_digest(token))

    keep_token(record, read_at=time.monotonic() - settings.API_TOKEN_CACHE_SECONDS)

    assert kept_entry(token) is None


def test_control_without_the_markers_a_revoked_token_would_still_work(monkeypatch, patient_api):
    """The harness sees a stale copy: with the markers switched off the revoked token
    still gets in, so the tests above fail without them."""
    _user, token, client = patient_api
    monkeypatch.setattr(api_tokens, "end_cached_tokens", lambda digests: None)

    revoke_token(record_of(token))

    assert client.get(APPOINTMENTS).status_code == 200


def test_the_marker_after_the_commit_ends_a_copy_made_while_the_change_was_open(
    django_capture_on_commit_callbacks,
):
    user = make_patient().user
    token = token_for(user)
    record = ApiToken.objects.select_related("user").get(digest=token_digest(token))

    with django_capture_on_commit_callbacks(execute=True):
        revoke_token(record)
        # A long transaction: the marker written before it has expired, and a request
        # that read the rows before the commit writes its copy.
        cache.delete(_cache_key(token_digest(token)))
        keep_token(record, read_at=time.monotonic())
        assert isinstance(kept_entry(token), dict)

    assert kept_entry(token) == ENDED


def test_on_redis_a_revoked_token_ends_at_once_and_a_racing_copy_cannot_replace_it(
    settings, redis_url
):
    # As with REDIS_URL (clinic/settings.py): the default cache in Redis, under a prefix.
    settings.CACHES = settings.CACHES | {
        "default": {
            "BACKEND": "clinic.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"token-cache-test-{time.time_ns()}",
        }
    }
    user = make_patient().user
    token = token_for(user)
    client = bearer(token)
    assert client.get(APPOINTMENTS).status_code == 200
    _response, queries = queries_of(lambda: client.get(APPOINTMENTS))
    assert token_rows_read(queries) == []
    read_at = time.monotonic()
    record = ApiToken.objects.select_related("user").get(digest=token_digest(token))

    revoke_token(record)
    keep_token(record, read_at=read_at)

    assert kept_entry(token) == ENDED
    assert_problem(client.get(APPOINTMENTS), 401, "invalid_token")
