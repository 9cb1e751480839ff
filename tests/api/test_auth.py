"""Signing in to the JSON API (emailed codes for patients, password and authenticator
code for staff), bearer tokens (expiry, revocation, kinds), and the patient's profile."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_otp.oath import totp
from rest_framework.test import APIClient

from accounts.api_tokens import issue_token, token_digest
from accounts.models import ApiToken, Authenticator, Patient, User
from tests.api.helpers import assert_problem, client_for
from tests.factories import (
    last_emailed_code,
    make_authenticator,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

STAFF_EMAIL = "nurse@example.com"
STAFF_PASSWORD = "staff-password"


def request_code(client: APIClient, email: str) -> Any:
    return client.post("/api/v1/auth/otp/request", {"email": email}, format="json")


def verify_code(client: APIClient, email: str, code: str) -> Any:
    return client.post("/api/v1/auth/otp/verify", {"email": email, "code": code}, format="json")


def sign_in(email: str = "ada@example.com") -> str:
    """A patient token obtained the way an app gets one."""
    client = APIClient()
    assert request_code(client, email).status_code == 202
    response = verify_code(client, email, last_emailed_code())
    assert response.status_code == 200, response.content
    token: str = response.json()["token"]
    return token


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def authenticator_code(device: Authenticator) -> str:
    """The code the authenticator app shows now."""
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def staff_token_request(email: str, password: str, code: str) -> Any:
    return APIClient().post(
        "/api/v1/auth/staff/token",
        {"email": email, "password": password, "code": code},
        format="json",
    )


# --- Emailed codes ------------------------------------------------------------------------


def test_requesting_a_code_answers_the_same_for_patients_strangers_and_staff():
    make_patient("known@example.com")
    make_staff(STAFF_EMAIL)
    client = APIClient()

    answers = [
        request_code(client, email)
        for email in ("known@example.com", "stranger@example.com", STAFF_EMAIL)
    ]

    assert [answer.status_code for answer in answers] == [202, 202, 202]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    assert answers[0].content == answers[1].content == answers[2].content


def test_a_patient_who_requests_a_code_gets_it_by_email():
    make_patient("known@example.com")

    request_code(APIClient(), "known@example.com")

    assert mail.outbox[-1].to == ["known@example.com"]
    assert len(last_emailed_code()) == 6


def test_staff_who_request_a_code_get_no_code_but_are_told_to_use_the_staff_sign_in():
    make_staff(STAFF_EMAIL)

    request_code(APIClient(), STAFF_EMAIL)

    assert mail.outbox[-1].to == [STAFF_EMAIL]
    assert "staff" in str(mail.outbox[-1].subject).lower()
    assert not ApiToken.objects.exists()


def test_an_invalid_email_is_a_field_error():
    response = request_code(APIClient(), "not an email")

    body = assert_problem(response, 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["email"]
    assert not mail.outbox


def test_a_missing_email_is_a_field_error():
    response = APIClient().post("/api/v1/auth/otp/request", {}, format="json")

    body = assert_problem(response, 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["email"]


def test_the_emailed_code_buys_a_token_that_expires_in_thirty_days(frozen_now):
    client = APIClient()
    request_code(client, "ada@example.com")

    response = verify_code(client, "ada@example.com", last_emailed_code())

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    expires_at = dt.datetime.fromisoformat(body["expires_at"])
    lifetime = dt.timedelta(days=django_settings.API_TOKEN_LIFETIME_DAYS)
    assert lifetime == dt.timedelta(days=30)
    assert expires_at == timezone.now() + lifetime


def test_the_token_signs_the_patient_in():
    token = sign_in("ada@example.com")

    response = bearer(token).get("/api/v1/me")

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "ada@example.com"


def test_the_token_is_kept_only_as_its_digest():
    token = sign_in()

    record = ApiToken.objects.get()
    assert record.digest != token
    assert token not in record.digest
    assert record.digest == token_digest(token)
    assert record.kind == ApiToken.Kind.PATIENT


def test_a_wrong_code_gets_no_token():
    client = APIClient()
    request_code(client, "ada@example.com")
    wrong = next(code for code in ("000000", "111111") if code != last_emailed_code())

    response = verify_code(client, "ada@example.com", wrong)

    assert_problem(response, 400, "wrong_code")
    assert not ApiToken.objects.exists()


def test_a_code_for_an_email_that_never_asked_is_wrong():
    response = verify_code(APIClient(), "nobody@example.com", "123456")

    assert_problem(response, 400, "wrong_code")


def test_a_token_stops_working_when_it_expires(frozen_now):
    token = sign_in()
    lifetime = dt.timedelta(days=django_settings.API_TOKEN_LIFETIME_DAYS)

    with time_machine.travel(timezone.now() + lifetime - dt.timedelta(minutes=1), tick=False):
        assert bearer(token).get("/api/v1/me").status_code == 200
    with time_machine.travel(timezone.now() + lifetime, tick=False):
        response = bearer(token).get("/api/v1/me")

    assert_problem(response, 401, "invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- Logging out --------------------------------------------------------------------------


def test_logging_out_ends_that_token_only():
    first = sign_in()
    second = sign_in()

    response = bearer(first).post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert_problem(bearer(first).get("/api/v1/me"), 401, "invalid_token")
    assert bearer(second).get("/api/v1/me").status_code == 200


def test_logging_out_without_a_token_is_not_authenticated():
    response = APIClient().post("/api/v1/auth/logout")

    assert_problem(response, 401, "not_authenticated")


# --- Staff tokens -------------------------------------------------------------------------


def test_staff_get_a_token_with_password_and_authenticator_code():
    clinic = make_clinic()
    doctor = make_doctor(clinic)
    staff = make_staff(STAFF_EMAIL, clinics=(clinic,))
    device = make_authenticator(staff)

    response = staff_token_request(STAFF_EMAIL, STAFF_PASSWORD, authenticator_code(device))

    assert response.status_code == 200, response.content
    record = ApiToken.objects.get()
    assert (record.kind, record.device) == (ApiToken.Kind.STAFF, device)
    hours = bearer(response.json()["token"]).get(f"/api/v1/doctors/{doctor.pk}/weekly-availability")
    assert hours.status_code == 200, hours.content


def test_a_wrong_staff_password_gets_no_token():
    staff = make_staff(STAFF_EMAIL)
    device = make_authenticator(staff)

    response = staff_token_request(STAFF_EMAIL, "guess", authenticator_code(device))

    assert_problem(response, 400, "wrong_password")
    assert not ApiToken.objects.exists()


def test_a_wrong_authenticator_code_gets_no_token():
    staff = make_staff(STAFF_EMAIL)
    device = make_authenticator(staff)
    accepted = {f"{totp(device.bin_key, drift=drift):06d}" for drift in (-1, 0, 1)}
    wrong = next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)

    response = staff_token_request(STAFF_EMAIL, STAFF_PASSWORD, wrong)

    assert_problem(response, 400, "wrong_authenticator_code")
    assert not ApiToken.objects.exists()


def test_a_patient_cannot_get_a_staff_token():
    patient = make_patient("ada@example.com")
    patient.user.set_password(STAFF_PASSWORD)
    patient.user.save()

    response = staff_token_request("ada@example.com", STAFF_PASSWORD, "123456")

    assert_problem(response, 400, "wrong_password")


def test_a_patient_token_cannot_call_staff_endpoints():
    clinic = make_clinic()
    doctor = make_doctor(clinic)
    patient = make_patient()

    response = client_for(patient.user).get(f"/api/v1/doctors/{doctor.pk}/weekly-availability")

    assert_problem(response, 403, "staff_only")


@pytest.mark.parametrize("method", ["get", "put"])
def test_a_staff_token_cannot_call_the_patients_profile(method):
    staff = make_staff(clinics=(make_clinic(),))

    response = getattr(client_for(staff), method)("/api/v1/me", {}, format="json")

    assert_problem(response, 403, "patients_only")
    assert not Patient.objects.filter(user=staff).exists()


def test_a_patient_token_stops_working_when_the_account_is_made_staff():
    token = sign_in("ada@example.com")
    User.objects.filter(email="ada@example.com").update(is_staff=True)

    response = bearer(token).get("/api/v1/me")

    assert_problem(response, 401, "invalid_token")


def test_a_staff_token_stops_working_when_the_account_is_no_longer_staff():
    staff = make_staff(clinics=(make_clinic(),))
    api = client_for(staff)
    User.objects.filter(pk=staff.pk).update(is_staff=False)

    assert_problem(api.get("/api/v1/appointments"), 401, "invalid_token")


def test_a_password_change_ends_every_token_of_the_account():
    staff = make_staff(clinics=(make_clinic(),))
    api = client_for(staff)
    assert api.get("/api/v1/appointments").status_code == 200

    staff.set_password("a-new-password-after-a-leak")
    staff.save()

    assert_problem(api.get("/api/v1/appointments"), 401, "invalid_token")


def test_resetting_a_staff_members_authenticator_ends_their_tokens():
    staff = make_staff(STAFF_EMAIL, clinics=(make_clinic(),))
    device = make_authenticator(staff)
    response = staff_token_request(STAFF_EMAIL, STAFF_PASSWORD, authenticator_code(device))
    api = bearer(response.json()["token"])
    assert api.get("/api/v1/appointments").status_code == 200

    device.delete()  # the admin removes the lost phone's authenticator

    assert_problem(api.get("/api/v1/appointments"), 401, "invalid_token")


def test_the_database_refuses_a_staff_token_without_an_authenticator():
    staff = make_staff()

    with pytest.raises(IntegrityError), transaction.atomic():
        issue_token(user=staff, kind=ApiToken.Kind.STAFF)


def test_the_database_refuses_a_patient_token_bound_to_an_authenticator():
    patient = make_patient()

    with pytest.raises(IntegrityError), transaction.atomic():
        issue_token(
            user=patient.user, kind=ApiToken.Kind.PATIENT, device=make_authenticator(patient.user)
        )


def test_a_token_outlives_a_secret_key_rotation_with_the_old_key_as_a_fallback(settings):
    token = sign_in("ada@example.com")
    old_key = settings.SECRET_KEY

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-secret-key-" * 3, [old_key]
    assert bearer(token).get("/api/v1/me").status_code == 200

    settings.SECRET_KEY_FALLBACKS = []  # the rotation is over
    assert bearer(token).get("/api/v1/me").status_code == 200


def test_a_token_ends_when_the_secret_key_changes_without_a_fallback(settings):
    token = sign_in("ada@example.com")

    settings.SECRET_KEY = "a-new-secret-key-" * 3

    assert_problem(bearer(token).get("/api/v1/me"), 401, "invalid_token")


def test_a_token_of_a_deactivated_account_stops_working():
    token = sign_in("ada@example.com")
    User.objects.filter(email="ada@example.com").update(is_active=False)

    assert_problem(bearer(token).get("/api/v1/me"), 401, "invalid_token")


# --- Missing and bad tokens ---------------------------------------------------------------


def test_a_protected_endpoint_without_a_token_is_not_authenticated():
    response = APIClient().get("/api/v1/me")

    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer ",
        "Bearer two parts",
        # UTF-8 bytes as a WSGI server passes them on: decoded as Latin-1.
        "Bearer t\xc5\x8dken",
    ],
)
def test_a_bad_token_is_refused_not_treated_as_anonymous(header):
    make_patient()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/me")

    assert_problem(response, 401, "invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_token_is_refused_even_on_a_public_endpoint():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer garbage")

    assert_problem(client.get("/api/v1/clinics"), 401, "invalid_token")


# --- The patient's profile ----------------------------------------------------------------


def test_a_patient_reads_their_profile():
    patient = make_patient("ada@example.com", full_name="Ada Lovelace")

    response = client_for(patient.user).get("/api/v1/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": patient.pk,
        "email": "ada@example.com",
        "full_name": "Ada Lovelace",
        "phone": "+491700000000",  # stored in E.164 (issue 12)
        "date_of_birth": "1980-01-01",
        "sms_opt_in": False,
        "is_complete": True,
        "language": "en",
    }


def test_a_new_patient_completes_their_profile():
    token = sign_in("ada@example.com")
    api = bearer(token)
    assert api.get("/api/v1/me").json()["is_complete"] is False

    response = api.put(
        "/api/v1/me",
        {"full_name": " Ada Lovelace ", "phone": "+44 20 7946 0000", "date_of_birth": "1990-12-10"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["is_complete"] is True
    patient = Patient.objects.get(user__email="ada@example.com")
    assert patient.full_name == "Ada Lovelace"
    assert patient.phone == "+442079460000"  # E.164 (issue 12)
    assert patient.date_of_birth == dt.date(1990, 12, 10)


def test_the_email_and_id_cannot_be_changed_through_the_profile():
    patient = make_patient("ada@example.com")

    response = client_for(patient.user).put(
        "/api/v1/me",
        {
            "id": patient.pk + 100,
            "email": "eve@example.com",
            "full_name": "Ada",
            "phone": "+49 30 1234567",
            "date_of_birth": "1980-01-01",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    patient.refresh_from_db()
    assert patient.user.email == "ada@example.com"
    assert response.json()["id"] == patient.pk


def test_a_blank_name_is_a_field_error():
    patient = make_patient(full_name="Ada Lovelace")

    response = client_for(patient.user).put(
        "/api/v1/me",
        {"full_name": "   ", "phone": "+49 30 1234567", "date_of_birth": "1980-01-01"},
        format="json",
    )

    body = assert_problem(response, 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["full_name"]
    patient.refresh_from_db()
    assert patient.full_name == "Ada Lovelace"


def test_a_date_of_birth_in_the_future_is_a_field_error():
    patient = make_patient()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = client_for(patient.user).put(
        "/api/v1/me",
        {"full_name": "Ada", "phone": "+49 30 1234567", "date_of_birth": tomorrow.isoformat()},
        format="json",
    )

    body = assert_problem(response, 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["date_of_birth"]
    patient.refresh_from_db()
    assert patient.date_of_birth == dt.date(1980, 1, 1)


def test_a_new_patients_profile_has_empty_fields_and_no_date_of_birth():
    api = bearer(sign_in("ada@example.com"))

    response = api.get("/api/v1/me")

    assert response.status_code == 200
    body = response.json()
    assert (body["full_name"], body["phone"], body["date_of_birth"]) == ("", "", None)
    assert body["is_complete"] is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "x", "Enter a phone number, e.g. +49 30 1234567."),
        ("date_of_birth", "1850-01-01", "Enter a date of birth after 1900."),
    ],
)
def test_the_profile_checks_phone_and_birth_date_as_the_profile_page_does(field, value, message):
    patient = make_patient(full_name="Ada Lovelace")
    details = {"full_name": "Ada", "phone": "+49 30 1234567", "date_of_birth": "1980-01-01"}

    response = client_for(patient.user).put("/api/v1/me", details | {field: value}, format="json")

    body = assert_problem(response, 400, "invalid_request")
    assert [(error["field"], error["message"]) for error in body["errors"]] == [(field, message)]
    patient.refresh_from_db()
    assert patient.full_name == "Ada Lovelace"


def test_a_profile_without_its_fields_lists_each_missing_one():
    patient = make_patient()

    response = client_for(patient.user).put("/api/v1/me", {}, format="json")

    body = assert_problem(response, 400, "invalid_request")
    assert {error["field"] for error in body["errors"]} == {
        "full_name",
        "phone",
        "date_of_birth",
    }
