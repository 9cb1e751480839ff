"""Errors as RFC 9457 problems with a stable ``code``, and request limits (429 with
``Retry-After``) counted in the shared cache."""

import hashlib
import json
import time
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import CODE_EMAILS_PER_TARGET
from clinic.api.models import IdempotencyKey
from clinic.api.parsers import MAX_DEPTH
from tests.api.helpers import assert_problem, client_for, new_key, post_booking
from tests.factories import book, local, make_clinic, make_doctor, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "code"}
HUGE = "99999999999999999999"


def request_code(email: str, address: str = "203.0.113.7") -> Any:
    return APIClient().post(
        "/api/v1/auth/otp/request", {"email": email}, format="json", REMOTE_ADDR=address
    )


def throttle_key(scope: str, identity: str) -> str:
    """The cache key counting ``identity``'s requests this hour (``rates "N/hour"``)."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
    return f"rate:api-{scope}:{digest}:{int(time.time()) // 3600}"


def assert_throttled(response: Any) -> None:
    assert_problem(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


# --- Problem details ----------------------------------------------------------------------


def test_a_problem_has_the_rfc_members_and_our_code():
    response = APIClient().get("/api/v1/me")

    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_MEMBERS
    assert body["type"] == "about:blank"
    assert body["title"] == "Unauthorized"
    assert body["status"] == 401
    assert body["code"] == "not_authenticated"


def test_invalid_input_lists_the_fields(frozen_now):
    patient = make_patient()

    response = post_booking(client_for(patient.user), doctor="x")

    body = assert_problem(response, 400, "invalid_request")
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"doctor", "appointment_type", "start"}
    doctor_error = next(error for error in body["errors"] if error["field"] == "doctor")
    assert doctor_error["code"] == "invalid"
    assert doctor_error["message"]
    assert "doctor" in body["detail"]


def test_a_list_field_error_names_the_item():
    clinic = make_clinic()
    doctor = make_doctor(clinic)
    staff = make_staff(clinics=(clinic,))

    response = client_for(staff).put(
        f"/api/v1/doctors/{doctor.pk}/weekly-availability",
        {"intervals": [{"weekday": 0, "start": "09:00", "end": "17:00"}, {"weekday": 9}]},
        format="json",
    )

    body = assert_problem(response, 400, "invalid_request")
    assert {error["field"] for error in body["errors"]} >= {"intervals.1.weekday"}


def test_a_malformed_json_body_is_a_malformed_request():
    patient = make_patient()

    response = client_for(patient.user).put(
        "/api/v1/me", '{"full_name": ', content_type="application/json"
    )

    assert_problem(response, 400, "malformed_request")


def test_a_malformed_json_body_on_a_sign_in_endpoint_is_a_malformed_request():
    response = APIClient().post(
        "/api/v1/auth/otp/request", "{not json", content_type="application/json"
    )

    assert_problem(response, 400, "malformed_request")


def nested(depth: int, inner: Any = "ada@example.com") -> str:
    """JSON with ``depth`` levels of objects: {"a": {"a": ... inner ...}}."""
    return '{"a": ' * depth + json.dumps(inner) + "}" * depth


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 50_000])
def test_a_json_body_nested_too_deeply_is_a_malformed_request_not_a_500(depth):
    response = APIClient().post(
        "/api/v1/auth/otp/request", nested(depth), content_type="application/json"
    )

    body = assert_problem(response, 400, "malformed_request")
    assert "nested" in body["detail"]


def test_a_deeply_nested_booking_is_a_malformed_request_and_stores_no_key(frozen_now):
    patient = make_patient()
    api = client_for(patient.user)

    response = api.post(
        "/api/v1/appointments",
        "[" * 100_000 + "]" * 100_000,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=new_key(),
    )

    assert_problem(response, 400, "malformed_request")
    assert not IdempotencyKey.objects.exists()


def test_a_json_body_nested_up_to_the_limit_is_read_and_validated():
    response = APIClient().post(
        "/api/v1/auth/otp/request",
        '{"email": ' + nested(MAX_DEPTH - 1) + "}",
        content_type="application/json",
    )

    body = assert_problem(response, 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["email"]


def test_a_body_over_the_upload_limit_is_a_413_problem(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    client = APIClient(raise_request_exception=False)

    response = client.post(
        "/api/v1/auth/otp/request",
        {"email": "ada@example.com", "padding": "x" * 2_000},
        format="json",
    )

    body = assert_problem(response, 413, "request_too_large")
    assert "1,000 bytes" in body["detail"]


def test_a_page_over_the_upload_limit_keeps_djangos_own_400_page(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    client = Client(raise_request_exception=False)

    response = client.post(
        "/login/",
        "email=ada%40example.com&padding=" + "x" * 2_000,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_json_body_that_is_not_an_object_is_a_validation_error():
    response = APIClient().post("/api/v1/auth/otp/request", ["ada@example.com"], format="json")

    assert_problem(response, 400, "invalid_request")


def test_a_form_encoded_body_is_an_unsupported_media_type():
    response = APIClient().post(
        "/api/v1/auth/otp/request",
        "email=ada%40example.com",
        content_type="application/x-www-form-urlencoded",
    )

    assert_problem(response, 415, "unsupported_media_type")


def test_a_wrong_method_is_method_not_allowed():
    response = APIClient().delete("/api/v1/clinics")

    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/clinics/1/nope", "/api/v1/"])
def test_an_unknown_path_is_a_not_found_problem(path):
    response = APIClient().get(path)

    assert_problem(response, 404, "not_found")


def test_a_record_that_does_not_exist_is_a_not_found_problem():
    assert_problem(APIClient().get("/api/v1/doctors/12345"), 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/doctors?clinic={HUGE}",
        f"/api/v1/doctors?clinic=-{HUGE}",
        "/api/v1/doctors?clinic=abc",
        f"/api/v1/doctors/1/availability?type={HUGE}",
        f"/api/v1/appointments?doctor={HUGE}",
        "/api/v1/appointments?date=2026-02-30",
        "/api/v1/appointments?status=lost",
    ],
)
def test_bad_query_values_are_a_400_not_a_500(path):
    doctor = make_doctor()
    patient = make_patient()

    response = client_for(patient.user).get(path.replace("/doctors/1/", f"/doctors/{doctor.pk}/"))

    body = assert_problem(response, 400, "invalid_request")
    assert body["errors"][0]["field"] in {"clinic", "type", "doctor", "date", "status"}


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/doctors/{HUGE}",
        f"/api/v1/doctors/{HUGE}/availability",
        f"/api/v1/appointments/{HUGE}",
        f"/api/v1/appointments/{HUGE}/history",
    ],
)
def test_a_huge_id_in_the_path_is_a_404_not_a_500(path):
    patient = make_patient()

    assert_problem(client_for(patient.user).get(path), 404, "not_found")


def test_a_huge_id_in_a_body_is_a_field_error(frozen_now):
    patient = make_patient()

    response = post_booking(
        client_for(patient.user),
        doctor=int(HUGE),
        appointment_type=1,
        start="2026-03-09T10:00:00+01:00",
    )

    body = assert_problem(response, 400, "invalid_request")
    assert [error["field"] for error in body["errors"]] == ["doctor"]


def test_a_domain_refusal_is_a_problem_with_the_domain_code(frozen_now):
    clinic = make_clinic()
    doctor = make_doctor(clinic)
    appointment = book(make_patient(), doctor, local(clinic, 2026, 3, 9, 10))

    response = post_booking(
        client_for(make_patient().user),
        doctor=doctor.pk,
        appointment_type=appointment.appointment_type_id,
        start=appointment.starts_at.isoformat(),
    )

    body = assert_problem(response, 409, "slot_unavailable")
    assert set(body) >= PROBLEM_MEMBERS
    assert "errors" not in body


# --- Sign-in limits -----------------------------------------------------------------------


def test_code_requests_are_limited_per_email(settings):
    settings.API_THROTTLE_RATES = {"auth_address": "100/hour", "auth_email": "2/hour"}

    # From different addresses: the limit follows the email, not the sender.
    answers = [
        request_code("ada@example.com", address=f"203.0.113.{n}").status_code for n in (1, 2)
    ]
    over = request_code(" ADA@example.com", address="203.0.113.3")

    assert answers == [202, 202]
    assert_throttled(over)
    assert request_code("grace@example.com", address="203.0.113.3").status_code == 202


def test_code_requests_are_limited_per_address(settings):
    settings.API_THROTTLE_RATES = {"auth_address": "3/hour", "auth_email": "100/hour"}

    answers = [request_code(f"user{n}@example.com").status_code for n in range(3)]
    over = request_code("user3@example.com")

    assert answers == [202, 202, 202]
    assert_throttled(over)
    assert request_code("user3@example.com", address="198.51.100.9").status_code == 202


def test_code_verifications_share_the_sign_in_limits(settings):
    settings.API_THROTTLE_RATES = {"auth_address": "100/hour", "auth_email": "2/hour"}
    client = APIClient()

    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        for _attempt in range(2):
            response = client.post(
                "/api/v1/auth/otp/verify",
                {"email": "ada@example.com", "code": "000000"},
                format="json",
            )
            assert_problem(response, 400, "wrong_code")
            clock.shift(5)  # past the wait after a wrong code
        over = client.post(
            "/api/v1/auth/otp/verify", {"email": "ada@example.com", "code": "000000"}, format="json"
        )

    assert_throttled(over)


def test_staff_token_requests_share_the_sign_in_limits(settings):
    settings.API_THROTTLE_RATES = {"auth_address": "2/hour", "auth_email": "100/hour"}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    client = APIClient()
    body = {"email": "nurse@example.com", "password": "guess", "code": "123456"}

    for _attempt in range(2):
        assert_problem(
            client.post("/api/v1/auth/staff/token", body, format="json"), 400, "wrong_password"
        )

    assert_throttled(client.post("/api/v1/auth/staff/token", body, format="json"))


def test_the_sign_in_counts_are_kept_in_the_shared_cache_without_the_email(settings):
    settings.API_THROTTLE_RATES = {"auth_address": "100/hour", "auth_email": "100/hour"}

    request_code("Ada@Example.com", address="203.0.113.7")

    assert cache.get(throttle_key("auth_email", "ada@example.com"))
    assert cache.get(throttle_key("auth_address", "203.0.113.7"))


def test_the_counts_are_kept_where_every_worker_process_sees_them(settings):
    # A per-process cache (locmem) would give each gunicorn worker its own counts.
    assert settings.CACHES["default"]["BACKEND"] in {
        "clinic.cache.DatabaseCache",
        "clinic.cache.RedisCache",
    }


def test_the_code_service_limits_emails_per_address_when_the_api_allows_more(settings):
    settings.API_THROTTLE_RATES = {"auth_address": "1000/hour", "auth_email": "1000/hour"}
    limit, per = CODE_EMAILS_PER_TARGET

    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        answers = []
        for _request in range(limit):
            answers.append(request_code("ada@example.com").status_code)
            clock.shift(61)  # past the resend cooldown, so that each one sends
        over = request_code("ada@example.com")

    assert answers == [202] * limit
    assert_problem(over, 429, "too_many_code_emails")
    assert 0 < int(over["Retry-After"]) <= per.total_seconds()


# --- Write limits -------------------------------------------------------------------------


def test_writes_are_limited_per_user_and_reads_are_not(settings, frozen_now):
    settings.API_THROTTLE_RATES = {"writes": "2/hour"}
    clinic = make_clinic()
    doctor = make_doctor(clinic)
    patient = make_patient()
    other = make_patient()
    appointment = book(patient, doctor, local(clinic, 2026, 3, 9, 10))
    others = book(other, doctor, local(clinic, 2026, 3, 9, 11))
    api = client_for(patient.user)
    cancel = f"/api/v1/appointments/{appointment.pk}/cancel"

    answers = [api.post(cancel, {}, format="json").status_code for _write in range(2)]
    over = api.post(cancel, {}, format="json")

    assert answers == [200, 200]  # cancelling again answers with the same state
    assert_throttled(over)
    assert api.get(f"/api/v1/appointments/{appointment.pk}").status_code == 200
    assert api.get("/api/v1/appointments").status_code == 200
    other_api = client_for(other.user)
    other_cancel = other_api.post(f"/api/v1/appointments/{others.pk}/cancel", {}, format="json")
    assert other_cancel.status_code == 200
    assert cache.get(throttle_key("writes", f"user:{patient.user.pk}"))


def test_a_throttled_write_changes_nothing(settings, frozen_now):
    settings.API_THROTTLE_RATES = {"writes": "1/hour"}
    clinic = make_clinic()
    doctor = make_doctor(clinic)
    patient = make_patient()
    api = client_for(patient.user)
    api.put(
        "/api/v1/me",
        {"full_name": "Ada", "phone": "+49 1", "date_of_birth": "1980-01-01"},
        format="json",
    )

    over = post_booking(
        api,
        key=new_key(),
        doctor=doctor.pk,
        appointment_type=doctor.appointment_types.get().pk,
        start=local(clinic, 2026, 3, 9, 10).isoformat(),
    )

    assert_throttled(over)
    assert not patient.appointments.exists()


def test_a_bug_in_an_api_view_is_still_a_problem_not_an_html_page(monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("scheduling.api.ClinicList.get", broken)
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/v1/clinics")

    assert_problem(response, 500, "server_error")
