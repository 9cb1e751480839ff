"""The sign-in pages: email, code, profile, sign-out."""

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.models import Patient, User
from tests.factories import last_emailed_code, make_patient, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


def sign_in(client, email="ada@example.com", next_url=""):
    client.post(reverse("accounts:login"), {"email": email, "next": next_url})
    return client.post(reverse("accounts:login-verify"), {"code": last_emailed_code()})


def test_the_login_page_asks_for_an_email(client):
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    assert b'<label for="id_email">Email address</label>' in response.content


def test_submitting_an_email_sends_a_code_and_asks_for_it(client):
    response = client.post(reverse("accounts:login"), {"email": "ada@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login-verify")
    assert mail.outbox[-1].subject.startswith("Your sign-in code")
    page = client.get(response["Location"])
    assert b"ada@example.com" in page.content


def test_the_answer_is_the_same_for_known_unknown_and_staff_emails(client):
    make_patient("known@example.com")
    make_user("staff@example.com", is_staff=True)

    answers = []
    for email in ("known@example.com", "new@example.com", "staff@example.com"):
        response = client.post(reverse("accounts:login"), {"email": email})
        page = client.get(response["Location"])
        html = re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', "", page.text)
        answers.append(
            (
                response.status_code,
                response["Location"],
                page.status_code,
                html.replace(email, "EMAIL"),
            )
        )

    assert answers[0] == answers[1] == answers[2]


def test_an_invalid_email_gets_a_form_error(client):
    response = client.post(reverse("accounts:login"), {"email": "not-an-email"})

    assert response.status_code == 200
    assert b"Enter a valid email address." in response.content
    assert not mail.outbox


def test_the_right_code_signs_in_and_rotates_the_session(client):
    client.get(reverse("accounts:login"))
    client.post(reverse("accounts:login"), {"email": "ada@example.com"})
    key_before = client.session.session_key

    response = client.post(reverse("accounts:login-verify"), {"code": last_emailed_code()})

    assert response.status_code == 302
    assert client.session.session_key != key_before
    assert client.session["_auth_user_id"] == str(User.objects.get(email="ada@example.com").pk)


def test_a_new_patient_is_asked_for_their_details_first(client):
    response = sign_in(client, next_url="/doctors/1/")

    assert response["Location"] == reverse("accounts:profile") + "?next=%2Fdoctors%2F1%2F"


def test_a_returning_patient_goes_where_they_were_going(client):
    make_patient("ada@example.com")

    response = sign_in(client, next_url="/doctors/1/")

    assert response["Location"] == "/doctors/1/"


def test_a_next_url_to_another_site_is_ignored(client):
    make_patient("ada@example.com")

    response = sign_in(client, next_url="https://evil.example.net/")

    assert response["Location"] == reverse("appointments:list")


def test_a_refused_email_keeps_where_the_patient_was_going(client):
    response = client.post(
        reverse("accounts:login"), {"email": "not an email", "next": "/doctors/1/"}
    )

    assert response.status_code == 200
    assert b'<input type="hidden" name="next" value="/doctors/1/">' in response.content


def test_a_refused_profile_keeps_where_the_patient_was_going(client):
    sign_in(client)

    response = client.post(reverse("accounts:profile"), {"full_name": "", "next": "/doctors/1/"})

    assert response.status_code == 400
    assert b'<input type="hidden" name="next" value="/doctors/1/">' in response.content


def test_a_wrong_code_is_an_inline_error(client):
    client.post(reverse("accounts:login"), {"email": "ada@example.com"})
    wrong = "000000" if last_emailed_code() != "000000" else "111111"

    response = client.post(reverse("accounts:login-verify"), {"code": wrong})

    assert response.status_code == 400
    assert b"That code is wrong or has expired" in response.content
    assert "_auth_user_id" not in client.session


def test_a_malformed_code_is_an_inline_error(client):
    client.post(reverse("accounts:login"), {"email": "ada@example.com"})

    response = client.post(reverse("accounts:login-verify"), {"code": "12ab"})

    assert response.status_code == 200
    assert b"Enter the 6 digits from the email." in response.content


def test_the_code_page_without_an_email_goes_back_to_the_start(client):
    response = client.get(reverse("accounts:login-verify"))

    assert response["Location"] == reverse("accounts:login")


def test_past_the_code_emails_of_an_hour_the_newest_code_is_asked_for(client):
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        for _ in range(5):
            client.post(reverse("accounts:login"), {"email": "ada@example.com"})
            clock.shift(61)  # past the resend cooldown
        sent = len(mail.outbox)

        response = client.post(reverse("accounts:login"), {"email": "ada@example.com"}, follow=True)

    assert len(mail.outbox) == sent == 5
    assert response.redirect_chain[-1][0] == reverse("accounts:login-verify")
    assert "Use the newest one" in response.text


def test_sign_out_ends_the_session(client):
    sign_in(client)

    response = client.post(reverse("accounts:logout"))

    assert response["Location"] == reverse("home")
    assert "_auth_user_id" not in client.session


def test_sign_out_needs_a_post(client):
    assert client.get(reverse("accounts:logout")).status_code == 405


def test_the_profile_form_saves_the_details(client):
    sign_in(client)

    response = client.post(
        reverse("accounts:profile") + "?next=/doctors/",
        {
            "full_name": "Ada Lovelace",
            "phone": "+44 20 7946 0000",
            "date_of_birth": "1985-12-10",
            "next": "/doctors/",
        },
    )

    assert response["Location"] == "/doctors/"
    patient = Patient.objects.get(user__email="ada@example.com")
    assert patient.full_name == "Ada Lovelace"
    assert patient.is_complete


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "call me", b"Enter a phone number"),
        ("date_of_birth", "2999-01-01", b"cannot be in the future"),
        ("date_of_birth", "yesterday", b"Enter a valid date."),
        ("full_name", "", b"This field is required."),
    ],
)
def test_the_profile_form_explains_bad_input(client, field, value, message):
    sign_in(client)
    data = {"full_name": "Ada", "phone": "+44 20 7946 0000", "date_of_birth": "1985-12-10"}

    response = client.post(reverse("accounts:profile"), data | {field: value})

    assert response.status_code == 400
    assert message in response.content
    assert not Patient.objects.get(user__email="ada@example.com").is_complete


def test_the_profile_page_needs_a_signed_in_patient(client):
    response = client.get(reverse("accounts:profile"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_staff_session_cannot_use_patient_pages(client):
    staff = make_user("staff@example.com", is_staff=True)
    client.force_login(staff)

    assert client.get(reverse("accounts:profile")).status_code == 302  # not OTP-verified
