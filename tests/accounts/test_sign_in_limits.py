"""Sign-in limits stop guessers, not the account's owner, answer alike for every address,
and never turn a mail server's trouble into a 500 (accounts.services, accounts.attempts)."""

import datetime as dt
import smtplib
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import attempts, services
from accounts.models import SignInCode, User
from clinic import rate_limits
from tests.concurrency import run_together
from tests.factories import last_emailed_code, make_patient, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

ADDRESS = "203.0.113.7"


def verify_api(email: str, code: str) -> Any:
    return APIClient().post(
        "/api/v1/auth/otp/verify", {"email": email, "code": code}, format="json"
    )


def test_wrong_codes_answer_alike_for_an_address_with_a_code_and_one_without():
    make_patient("known@example.com")
    APIClient().post("/api/v1/auth/otp/request", {"email": "known@example.com"}, format="json")
    code = last_emailed_code()
    wrong = "000000" if code != "000000" else "111111"

    with time_machine.travel(timezone.now(), tick=False) as clock:
        answers = {}
        for email in ("known@example.com", "stranger@example.com"):
            first = verify_api(email, wrong)
            second = verify_api(email, wrong)
            clock.shift(2)
            third = verify_api(email, wrong)
            answers[email] = [(r.status_code, r.content) for r in (first, second, third)]

    assert answers["known@example.com"] == answers["stranger@example.com"]
    assert [status for status, _body in answers["known@example.com"]] == [400, 429, 400]


@pytest.mark.parametrize("kind", ["patient", "stranger", "staff", "deactivated"])
def test_every_address_that_asks_gets_one_email_and_the_same_answer(kind):
    email = f"{kind}@example.com"
    if kind == "patient":
        make_patient(email)
    elif kind == "staff":
        make_user(email, is_staff=True)
    elif kind == "deactivated":
        make_user(email, is_active=False)

    response = APIClient().post("/api/v1/auth/otp/request", {"email": email}, format="json")

    assert response.status_code == 202
    assert response.json() == {
        "detail": "If this address can sign in, a code is on its way. It is valid 10 minutes."
    }
    assert [message.to for message in mail.outbox] == [[email]]


def test_an_address_that_never_signs_in_keeps_no_account():
    services.request_login_code(email="typo@example.com", client_address=ADDRESS)
    make_patient("registered@example.com")  # by staff: a profile, never signed in

    with time_machine.travel(timezone.now() + dt.timedelta(days=1, minutes=1)):
        deleted = services.purge_pending_accounts()

    assert deleted >= 1
    assert not User.objects.filter(email="typo@example.com").exists()
    assert not SignInCode.objects.exists()
    assert User.objects.filter(email="registered@example.com").exists()


def test_a_pending_account_is_kept_while_its_code_is_young():
    services.request_login_code(email="new@example.com", client_address=ADDRESS)

    services.purge_pending_accounts()

    assert User.objects.filter(email="new@example.com").exists()


def test_the_mail_server_down_is_a_clear_refusal_and_asking_again_sends_again(monkeypatch):
    real_send = mail.send_mail

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise smtplib.SMTPConnectError(421, "try later")

    monkeypatch.setattr(services, "send_mail", refuse)
    with pytest.raises(services.MailNotSent) as refused:
        services.request_login_code(email="ada@example.com", client_address=ADDRESS)
    assert refused.value.http_status == 503

    monkeypatch.setattr(services, "send_mail", real_send)
    services.request_login_code(email="ada@example.com", client_address=ADDRESS)

    assert len(mail.outbox) == 1, "the retry inside the cooldown sends, since nothing was sent"
    assert services.verify_login_code(
        email="ada@example.com", code=last_emailed_code(), client_address=ADDRESS
    )


def test_the_sign_in_page_says_so_when_the_mail_server_is_down(client, monkeypatch):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(services, "send_mail", refuse)

    response = client.post("/login/", {"email": "ada@example.com"})

    assert response.status_code == 503
    assert "could not send the email" in response.text


@pytest.mark.parametrize("kind", ["patient", "staff"])
def test_no_email_is_sent_inside_a_database_transaction(monkeypatch, kind):
    if kind == "staff":
        make_user("ada@example.com", is_staff=True)
    inside: list[bool] = []
    real_send = mail.send_mail

    def record(*args: Any, **kwargs: Any) -> Any:
        inside.append(bool(connection.savepoint_ids))
        return real_send(*args, **kwargs)

    monkeypatch.setattr(services, "send_mail", record)
    services.request_login_code(email="ada@example.com", client_address=ADDRESS)

    # pytest-django wraps the test in a transaction of its own; one of ours would be a
    # savepoint inside it.
    assert inside == [False]


def test_ten_wrong_codes_tell_the_account_once(monkeypatch):
    monkeypatch.setattr(attempts, "MAX_WAIT", 0)
    make_patient("ada@example.com")
    services.request_login_code(email="ada@example.com", client_address=ADDRESS)
    code = last_emailed_code()
    wrong = "000000" if code != "000000" else "111111"

    for number in range(12):
        with pytest.raises(services.LoginError):
            services.verify_login_code(
                email="ada@example.com", code=wrong, client_address=f"198.51.100.{number}"
            )

    notices = [m for m in mail.outbox if "Wrong sign-in codes" in str(m.subject)]
    assert [m.to for m in notices] == [["ada@example.com"]]


# --- Under concurrency: exactly ten guesses ------------------------------------------------

RACERS = 20


def race_guesses() -> tuple[int, int]:
    """Twenty wrong guesses at once from one address: (looked at, refused unseen)."""
    checked = 0

    def guess() -> str:
        nonlocal checked
        try:
            services.verify_login_code(
                email="ada@example.com", code="000000", client_address=ADDRESS
            )
        except services.CodeVoid:
            return "void"
        except services.WrongCode:
            checked += 1
            return "wrong"
        return "signed in"

    outcomes = run_together([guess] * RACERS)
    return outcomes.count("wrong"), outcomes.count("void")


@pytest.fixture
def a_code_to_guess(monkeypatch):
    # The growing wait would refuse some guesses before they are counted; this race is
    # about the per-code count alone.
    monkeypatch.setattr(attempts, "MAX_WAIT", 0)
    make_patient("ada@example.com")
    device = SignInCode.objects.create(user=User.objects.get(email="ada@example.com"), name="email")
    while device.issue_code(valid_for=dt.timedelta(minutes=10)) == "000000":
        pass  # the guesses below must all be wrong


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.xdist_group("postgres_races")
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_guesses_get_exactly_ten_looks_at_the_code(a_code_to_guess):
    looked_at, refused = race_guesses()

    assert (looked_at, refused) == (10, 10)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.xdist_group("postgres_races")
@pytest.mark.django_db(transaction=True)
def test_control_with_a_count_that_reads_then_writes_guesses_slip_past(
    a_code_to_guess, monkeypatch
):
    import time

    from django.core.cache import cache

    def racy_count(scope: str, identifier: str, *, per: dt.timedelta) -> int:
        key, seconds = rate_limits.window_key(scope, identifier, per)
        value = cache.get(key, 0) + 1
        time.sleep(0.05)  # the window between reading and writing
        cache.set(key, value, timeout=seconds)
        return int(value)

    monkeypatch.setattr(rate_limits, "count", racy_count)

    looked_at, _refused = race_guesses()

    assert looked_at > 10, "the harness sees guesses slip past a non-atomic count"
