"""The shared cache's copy of a session's user and of the device that verified it
(accounts/session_users.py): the next page reads neither row, the copy names nobody,
Django's session verification still holds, and every change that ends a session or its
verification takes effect on the very next request, because the change writes a marker
over the copy (accounts/kept_copies.py) that a racing request's copy cannot replace.

Each "on the next request" test was checked to fail with ``KeptCopies.end`` doing
nothing; the control test below does that on purpose and sees the stale copy let an
ended session in."""

import pickle
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import HASH_SESSION_KEY
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice

from accounts import services
from accounts.kept_copies import ENDED, KeptCopies
from accounts.models import Authenticator, Patient, User
from accounts.session_users import SESSION_USERS, VERIFIED_DEVICES
from tests.factories import (
    log_in,
    log_in_staff,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

MINE = "/appointments/"
STAFF_HOME = "/staff/"
DEVICE_TABLES = (EmailDevice._meta.db_table, Authenticator._meta.db_table)


@pytest.fixture(autouse=True)
def session_user_cache(settings):
    # The shared cache in memory, as Redis would be: a cache read is no query.
    settings.CACHES = settings.CACHES | {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    settings.SESSION_USER_CACHE_SECONDS = 60


def queries_of(call: Callable[[], Any]) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        result = call()
    return result, [query["sql"] for query in captured.captured_queries]


def user_rows_read(queries: list[str]) -> list[str]:
    return [sql for sql in queries if sql.startswith('SELECT "accounts_user"')]


def device_rows_read(queries: list[str]) -> list[str]:
    return [sql for sql in queries if any(f'FROM "{table}"' in sql for table in DEVICE_TABLES)]


def kept_user(user: User) -> Any:
    return cache.get(SESSION_USERS.key(str(user.pk)))


def signed_in_patient(client: Client) -> Patient:
    """A patient signed in on ``client`` whose page has been seen once (the copies kept)."""
    patient = make_patient()
    log_in(client, patient)
    assert client.get(MINE).status_code == 200
    assert isinstance(kept_user(patient.user), dict)
    return patient


def signed_in_staff(client: Client) -> User:
    user = make_staff(clinics=(make_clinic(),))
    log_in_staff(client, user)
    assert client.get(STAFF_HOME).status_code == 200
    assert isinstance(kept_user(user), dict)
    return user


def sent_to_sign_in(response: Any, login: str = "accounts:login") -> bool:
    return bool(response.status_code == 302 and response["Location"].startswith(reverse(login)))


def queries_of_page(client: Client, path: str) -> int:
    return len(queries_of(lambda: client.get(path))[1])


# --- The copy -----------------------------------------------------------------------------


def test_the_next_page_reads_neither_the_user_nor_the_device(client):
    signed_in_patient(client)

    response, queries = queries_of(lambda: client.get(MINE))

    assert response.status_code == 200
    assert user_rows_read(queries) == []
    assert device_rows_read(queries) == []


@pytest.mark.usefixtures("frozen_now")
def test_the_hot_pages_take_one_query_fewer_and_my_appointments_two(settings, client):
    doctor = make_doctor(make_clinic())
    signed_in_patient(client)
    pages = {
        "/doctors/": 1,
        f"/doctors/{doctor.pk}/?week=2026-03-09": 1,
        "/search/?date=2026-03-09": 1,
        MINE: 2,
    }
    for path in pages:  # what is kept of each page, kept now
        assert client.get(path).status_code == 200
    kept = {path: queries_of_page(client, path) for path in pages}

    settings.SESSION_USER_CACHE_SECONDS = 0
    read = {path: queries_of_page(client, path) for path in pages}

    assert {path: read[path] - kept[path] for path in pages} == pages


def test_without_the_setting_every_page_reads_the_user_and_the_device(settings, client):
    signed_in_patient(client)
    settings.SESSION_USER_CACHE_SECONDS = 0

    _response, queries = queries_of(lambda: client.get(MINE))

    assert len(user_rows_read(queries)) == 1
    assert len(device_rows_read(queries)) == 1


def test_the_copies_name_nobody(client):
    patient = signed_in_patient(client)
    device = EmailDevice.objects.get(user=patient.user)
    stored = pickle.dumps(kept_user(patient.user)) + pickle.dumps(
        cache.get(VERIFIED_DEVICES.key(f"otp_email.emaildevice/{device.pk}"))
    )

    assert patient.user.email.encode() not in stored
    assert patient.full_name.encode() not in stored
    assert set(kept_user(patient.user)) == {"user", "auth_hash"}
    assert set(kept_user(patient.user)["user"]) == {"id", "is_superuser", "is_staff", "is_active"}
    assert set(cache.get(VERIFIED_DEVICES.key(f"otp_email.emaildevice/{device.pk}"))) == {
        "id",
        "user_id",
        "confirmed",
    }


def test_a_page_that_shows_the_email_still_reads_it(client):
    patient = signed_in_patient(client)

    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 200
    assert patient.user.email in response.text


def test_an_anonymous_visitor_reads_and_keeps_no_copy(monkeypatch, client):
    make_doctor(make_clinic())

    def no_copy(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("an anonymous request asked for a copy")

    monkeypatch.setattr(KeptCopies, "get", no_copy)
    monkeypatch.setattr(KeptCopies, "keep", no_copy)

    assert client.get("/doctors/").status_code == 200
    assert sent_to_sign_in(client.get(MINE))


def test_a_session_whose_hash_is_not_the_users_is_not_let_in_by_the_copy(client):
    signed_in_patient(client)
    session = client.session
    session[HASH_SESSION_KEY] = "0" * 64
    session.save()

    assert sent_to_sign_in(client.get(MINE))


def test_after_a_key_rotation_the_session_is_renewed_onto_the_new_key_not_kept_on_the_old(
    settings, client
):
    # Django's own way: a session hash made under a fallback key is renewed. A copy kept
    # under a key of its own (not SECRET_KEY's) would let the old hash in unrenewed.
    patient = signed_in_patient(client)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" * 3

    assert client.get(MINE).status_code == 200
    assert client.session[HASH_SESSION_KEY] == (
        User.objects.get(pk=patient.user.pk).get_session_auth_hash()
    )


def test_saving_only_the_last_sign_in_keeps_the_copy(client):
    patient = signed_in_patient(client)

    patient.user.last_login = timezone.now()
    patient.user.save(update_fields=["last_login"])

    assert isinstance(kept_user(patient.user), dict)


# --- Every change that ends a session or its verification, on the very next request -------


def test_a_password_change_ends_the_other_sessions_on_the_next_request(client):
    user = signed_in_staff(client)

    user.set_password("a-new-password-after-a-leak")
    user.save()

    assert sent_to_sign_in(client.get(STAFF_HOME), "staff:login")


def test_signing_out_everywhere_ends_the_other_sessions_on_the_next_request(client):
    patient = signed_in_patient(client)
    here = Client()
    log_in(here, patient)

    here.post(reverse("accounts:logout"), {"everywhere": "1"})

    assert sent_to_sign_in(client.get(MINE))


def test_deactivating_the_account_ends_the_session_on_the_next_request(client):
    patient = signed_in_patient(client)

    services.deactivate_user(user=patient.user)

    assert sent_to_sign_in(client.get(MINE))


def test_unticking_active_in_the_admin_ends_the_session_on_the_next_request(client):
    user = signed_in_staff(client)

    user.is_active = False
    user.save()

    assert sent_to_sign_in(client.get(STAFF_HOME), "staff:login")


def test_an_account_made_staff_loses_the_patient_pages_on_the_next_request(client):
    patient = signed_in_patient(client)

    patient.user.is_staff = True
    patient.user.save(update_fields=["is_staff"])

    assert client.get(MINE).status_code == 403


def test_an_account_no_longer_staff_loses_the_staff_pages_on_the_next_request(client):
    user = signed_in_staff(client)

    user.is_staff = False
    user.save(update_fields=["is_staff"])

    assert sent_to_sign_in(client.get(STAFF_HOME), "staff:login")


def test_a_superuser_no_longer_superuser_sees_it_on_the_next_request(client):
    user = make_staff(clinics=(make_clinic(),), is_superuser=True)
    log_in_staff(client, user)
    assert "a superuser" in client.get(STAFF_HOME).text

    user.is_superuser = False
    user.save()

    assert "a superuser" not in client.get(STAFF_HOME).text


def test_deleting_the_account_ends_the_session_on_the_next_request(client):
    # A patient's account is kept (Patient.user is protected); a staff member's can go.
    user = signed_in_staff(client)

    user.delete()

    assert sent_to_sign_in(client.get(STAFF_HOME), "staff:login")


def test_deleting_the_device_ends_the_verification_on_the_next_request(client):
    patient = signed_in_patient(client)

    EmailDevice.objects.filter(user=patient.user).delete()

    assert sent_to_sign_in(client.get(MINE))


def test_an_unconfirmed_device_ends_the_verification_on_the_next_request(client):
    patient = signed_in_patient(client)
    device = EmailDevice.objects.get(user=patient.user)

    device.confirmed = False
    device.save()

    assert sent_to_sign_in(client.get(MINE))


def test_a_removed_authenticator_sends_staff_to_the_staff_sign_in_on_the_next_request(client):
    user = signed_in_staff(client)

    Authenticator.objects.get(user=user).delete()  # the admin resets a lost phone's

    assert sent_to_sign_in(client.get(STAFF_HOME), "staff:login")


# --- Races and the control ----------------------------------------------------------------


def test_a_copy_of_a_row_read_before_signing_out_everywhere_cannot_replace_its_marker(client):
    patient = signed_in_patient(client)
    cache.delete(SESSION_USERS.key(str(patient.user.pk)))
    read_at = time.monotonic()
    racing = {
        "user": {
            "id": patient.user.pk,
            "is_superuser": False,
            "is_staff": False,
            "is_active": True,
        },
        "auth_hash": client.session[HASH_SESSION_KEY],
    }

    services.sign_out_everywhere(user=patient.user)  # commits while the racing request waits
    SESSION_USERS.keep(str(patient.user.pk), racing, read_at=read_at)

    assert kept_user(patient.user) == ENDED
    assert sent_to_sign_in(client.get(MINE))


def test_a_copy_of_rows_read_longer_ago_than_a_marker_lives_is_not_written(settings, client):
    patient = signed_in_patient(client)
    cache.delete(SESSION_USERS.key(str(patient.user.pk)))

    SESSION_USERS.keep(
        str(patient.user.pk),
        {"user": {}, "auth_hash": ""},
        read_at=time.monotonic() - settings.SESSION_USER_CACHE_SECONDS,
    )

    assert kept_user(patient.user) is None


def test_the_marker_after_the_commit_ends_a_copy_made_while_the_change_was_open(
    client, django_capture_on_commit_callbacks
):
    patient = signed_in_patient(client)
    racing = kept_user(patient.user)

    with django_capture_on_commit_callbacks(execute=True):
        services.sign_out_everywhere(user=patient.user)
        # A long transaction: the marker written before it has expired, and a request
        # that read the row before the commit writes its copy.
        cache.delete(SESSION_USERS.key(str(patient.user.pk)))
        SESSION_USERS.keep(str(patient.user.pk), racing, read_at=time.monotonic())
        assert isinstance(kept_user(patient.user), dict)

    assert kept_user(patient.user) == ENDED


def test_control_without_the_markers_an_ended_session_would_still_get_in(monkeypatch, client):
    """The harness sees a stale copy: with the markers switched off a session that
    "sign out everywhere" ended still gets in, so the tests above fail without them."""
    patient = signed_in_patient(client)
    monkeypatch.setattr(KeptCopies, "end", lambda self, identities: None)

    services.sign_out_everywhere(user=patient.user)

    assert client.get(MINE).status_code == 200


def test_on_redis_signing_out_everywhere_ends_at_once_and_a_racing_copy_cannot_replace_it(
    settings, redis_url, client
):
    # As with REDIS_URL (clinic/settings.py): the default cache in Redis, under a prefix.
    settings.CACHES = settings.CACHES | {
        "default": {
            "BACKEND": "clinic.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"session-user-cache-test-{time.time_ns()}",
        }
    }
    patient = signed_in_patient(client)
    _response, queries = queries_of(lambda: client.get(MINE))
    assert user_rows_read(queries) == []
    assert device_rows_read(queries) == []
    read_at = time.monotonic()
    racing = kept_user(patient.user)

    services.sign_out_everywhere(user=patient.user)
    SESSION_USERS.keep(str(patient.user.pk), racing, read_at=read_at)

    assert kept_user(patient.user) == ENDED
    assert sent_to_sign_in(client.get(MINE))
