"""What every answer carries: a Content-Security-Policy without inline script or style,
no-store where there may be patient data, a request id; and TRACE refused everywhere."""

import re

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.api.helpers import client_for
from tests.factories import log_in, log_in_staff, make_clinic, make_patient, make_staff

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values for name, *values in (directive.split() for directive in header.split(";"))
    }


def test_pages_carry_a_content_security_policy_without_inline_script_or_style():
    csp = policy(Client().get("/"))

    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert not any("unsafe" in value for values in csp.values() for value in values)


@pytest.mark.parametrize("path", ["/", "/login/", "/doctors/", "/staff/login/", "/api/v1/docs/"])
def test_no_page_has_inline_script_style_or_event_handlers(path):
    page = Client().get(path).content.decode()

    assert "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "an inline <script>"
    assert not re.search(r"\sstyle=", page), "an inline style attribute"
    assert not re.search(r"\son[a-z]+=", page), "an inline event handler"


def test_htmx_is_told_to_add_no_inline_style_and_evaluate_no_code():
    page = Client().get("/").content.decode()

    assert '"includeIndicatorStyles":false' in page
    assert '"allowEval":false' in page


def no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives


def test_a_patients_pages_are_not_stored():
    client = Client()
    log_in(client, make_patient())

    for path in ("/appointments/", "/account/", "/", "/doctors/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert no_store(response), path


def test_staff_pages_are_not_stored():
    client = Client()
    log_in_staff(client, make_staff(clinics=(make_clinic(),)))

    response = client.get("/staff/")

    assert response.status_code == 200
    assert no_store(response)


def test_api_answers_are_not_stored():
    response = client_for(make_patient().user).get("/api/v1/me")

    assert response.status_code == 200
    assert no_store(response)


def test_sign_in_pages_are_not_stored():
    assert no_store(Client().get("/login/"))


def test_public_pages_for_anonymous_visitors_keep_their_default_caching():
    response = Client().get("/doctors/")

    assert response.status_code == 200
    assert not no_store(response)


@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_keep_long_caching_even_for_a_signed_in_browser():
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = "anything"

    response = client.get("/static/css/site.css")

    assert response.status_code == 200
    assert not no_store(response)
    assert "max-age" in response["Cache-Control"]


@pytest.mark.parametrize(
    "path", ["/", "/doctors/", "/login/", "/admin/", "/staff/", "/no-such-page/"]
)
def test_trace_is_refused_on_every_page(path):
    response = Client().generic("TRACE", path)

    assert response.status_code == 405
    assert "TRACE" not in response["Allow"]


def test_trace_is_refused_in_the_api_with_a_problem():
    response = Client().generic("TRACE", "/api/v1/clinics")

    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "method_not_allowed"


def test_a_sane_request_id_is_echoed():
    response = Client().get("/", HTTP_X_REQUEST_ID="edge-4f1c2a9e7b3d")

    assert response["X-Request-ID"] == "edge-4f1c2a9e7b3d"


@pytest.mark.parametrize(
    "sent", ["ada@example.com", "two words here", "x" * 200, "short", "<script>"]
)
def test_a_request_id_that_is_not_a_sane_token_is_replaced(sent):
    response = Client().get("/", HTTP_X_REQUEST_ID=sent)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_every_request_gets_an_id_of_its_own():
    first, second = Client().get("/"), Client().get("/")

    assert first["X-Request-ID"] != second["X-Request-ID"]
