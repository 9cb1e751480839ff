"""German and English (issue 13): the page's language (Accept-Language, the switcher's
cookie), the patient's stored language (first sign-in, profile page, API, switcher) and
the messages written in it."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from tests.api.helpers import client_for
from tests.factories import last_emailed_code, log_in, make_patient, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9,en;q=0.5"}


def sign_in(client, email="ada@example.com", **headers):
    client.post(reverse("accounts:login"), {"email": email}, **headers)
    return client.post(reverse("accounts:login-verify"), {"code": last_emailed_code()}, **headers)


def test_pages_are_english_by_default(client):
    page = client.get(reverse("accounts:login"))

    assert '<html lang="en">' in page.text
    assert "Email me a code" in page.text


def test_a_browser_that_asks_for_german_gets_german_pages(client):
    page = client.get(reverse("accounts:login"), **GERMAN)

    assert '<html lang="de">' in page.text
    assert "Code per E-Mail senden" in page.text
    assert "Accept-Language" in page["Vary"]


def test_the_switcher_is_a_form_posting_to_set_language_in_the_header(client):
    page = client.get(reverse("accounts:login") + "?next=/doctors/")

    header = page.text.split('<header class="site-header">')[1].split("</header>")[0]
    form = re.search(r'<form class="language-switcher" method="post" action="([^"]+)">', header)
    assert form
    assert form.group(1) == reverse("accounts:set-language")
    assert 'name="csrfmiddlewaretoken"' in header
    assert re.search(
        r'<button type="submit"[^>]* name="language" value="de" lang="de">Deutsch<', header
    )


def test_the_staff_pages_have_the_switcher_too(client):
    page = client.get(reverse("staff:login"))

    assert 'class="language-switcher"' in page.text


def test_switching_sets_the_language_cookie_and_goes_back_to_the_page(client):
    response = client.post(
        reverse("accounts:set-language"),
        {"language": "de"},
        HTTP_REFERER="http://testserver/login/?next=/doctors/",
    )

    assert response.status_code == 302
    assert response["Location"] == "http://testserver/login/?next=/doctors/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    page = client.get("/login/")
    assert '<html lang="de">' in page.text
    english = '<button type="submit" class="link-button" name="language" value="en" lang="en">'
    assert f"{english}English</button>" in page.text


def test_the_cookie_wins_over_accept_language(client):
    client.post(reverse("accounts:set-language"), {"language": "en", "next": "/login/"})

    page = client.get("/login/", **GERMAN)

    assert '<html lang="en">' in page.text


def test_switching_never_leads_to_another_site(client):
    response = client.post(
        reverse("accounts:set-language"),
        {"language": "de", "next": "https://evil.example/"},
        HTTP_REFERER="https://evil.example/",
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_unknown_language_is_a_bad_request_that_changes_nothing(client):
    response = client.post(reverse("accounts:set-language"), {"language": "fr", "next": "/"})

    assert response.status_code == 400
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_a_signed_in_patient_s_switch_is_stored_for_their_emails(client):
    patient = make_patient()
    log_in(client, patient)

    client.post(reverse("accounts:set-language"), {"language": "de", "next": "/"})

    patient.user.refresh_from_db()
    assert patient.user.language == "de"


def test_the_first_sign_in_stores_the_page_s_language(client):
    sign_in(client, **GERMAN)

    assert User.objects.get(email="ada@example.com").language == "de"


def test_the_sign_in_code_email_is_in_the_page_s_language_before_the_first_sign_in(client):
    client.post(reverse("accounts:login"), {"email": "ada@example.com"}, **GERMAN)

    assert mail.outbox[-1].subject.startswith("Ihr Anmeldecode: ")
    assert "Ihr Anmeldecode lautet" in mail.outbox[-1].body


def test_the_sign_in_code_email_is_in_the_patient_s_language_afterwards(client):
    make_patient("ada@example.com").user.__class__.objects.filter(email="ada@example.com").update(
        language="de"
    )

    client.post(reverse("accounts:login"), {"email": "ada@example.com"})

    assert mail.outbox[-1].subject.startswith("Ihr Anmeldecode: ")


def test_signing_in_brings_the_patient_s_language_to_this_browser(client):
    patient = make_patient("ada@example.com")
    User.objects.filter(pk=patient.user.pk).update(language="de")

    response = sign_in(client)

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert '<html lang="de">' in client.get(response["Location"]).text
    assert User.objects.get(pk=patient.user.pk).language == "de"


def test_the_profile_page_sets_the_language_of_the_emails(client):
    patient = make_patient()
    log_in(client, patient)
    page = client.get(reverse("accounts:profile"))
    assert '<option value="en" selected>English</option>' in page.text

    response = client.post(
        reverse("accounts:profile"),
        {
            "full_name": patient.full_name,
            "phone": "+49 170 0000000",
            "date_of_birth": "1980-01-01",
            "language": "de",
        },
    )

    assert response.status_code == 302
    patient.user.refresh_from_db()
    assert patient.user.language == "de"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"


def test_the_profile_page_refuses_an_unknown_language(client):
    patient = make_patient()
    log_in(client, patient)

    response = client.post(
        reverse("accounts:profile"),
        {
            "full_name": patient.full_name,
            "phone": "+49 170 0000000",
            "date_of_birth": "1980-01-01",
            "language": "fr",
        },
    )

    assert response.status_code == 400
    patient.user.refresh_from_db()
    assert patient.user.language == ""


def test_the_api_profile_shows_and_sets_the_language():
    patient = make_patient()
    api = client_for(patient.user)
    assert api.get("/api/v1/me").json()["language"] == "en"

    response = api.put(
        "/api/v1/me",
        {
            "full_name": patient.full_name,
            "phone": "+49 170 0000000",
            "date_of_birth": "1980-01-01",
            "language": "de",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["language"] == "de"
    patient.user.refresh_from_db()
    assert patient.user.language == "de"


def test_the_api_profile_keeps_the_language_when_a_put_omits_it():
    patient = make_patient()
    User.objects.filter(pk=patient.user.pk).update(language="de")
    api = client_for(patient.user)

    response = api.put(
        "/api/v1/me",
        {"full_name": patient.full_name, "phone": "+49 170 0000000", "date_of_birth": "1980-01-01"},
        format="json",
    )

    assert response.json()["language"] == "de"


def test_the_api_profile_refuses_an_unknown_language():
    patient = make_patient()
    api = client_for(patient.user)

    response = api.put(
        "/api/v1/me",
        {
            "full_name": patient.full_name,
            "phone": "+49 170 0000000",
            "date_of_birth": "1980-01-01",
            "language": "fr",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "language" in str(response.content)


def test_a_first_sign_in_through_the_api_stores_the_accept_language():
    client = APIClient()
    client.post("/api/v1/auth/otp/request", {"email": "ada@example.com"}, format="json")

    response = client.post(
        "/api/v1/auth/otp/verify",
        {"email": "ada@example.com", "code": last_emailed_code()},
        format="json",
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert response.status_code == 200
    assert User.objects.get(email="ada@example.com").language == "de"


def test_a_user_without_a_language_is_written_to_in_the_default_one():
    assert make_user().message_language == "en"


def test_the_api_answers_in_english_whatever_accept_language_says():
    patient = make_patient()
    api = client_for(patient.user)

    response = api.put(
        "/api/v1/me",
        {"full_name": "Ada", "phone": "+49 170 0000000", "date_of_birth": "2999-01-01"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert response.status_code == 400
    assert response["Content-Language"] == "en"
    assert "The date of birth cannot be in the future." in response.json()["detail"]


def test_the_api_sends_a_new_patient_s_code_in_the_client_s_language():
    client = APIClient()

    client.post(
        "/api/v1/auth/otp/request",
        {"email": "ada@example.com"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="de",
    )

    assert mail.outbox[-1].subject.startswith("Ihr Anmeldecode: ")
