"""The one-time code login, at the service level."""

import re

import pytest
import time_machine
from django.core import mail
from django_otp.plugins.otp_email.models import EmailDevice

from accounts import services
from accounts.models import Patient, User
from tests.factories import last_emailed_code, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

ADDRESS = "203.0.113.7"


def request_code(email="ada@example.com", address=ADDRESS):
    services.request_login_code(email=email, client_address=address)
    return last_emailed_code()


def verify(code, email="ada@example.com"):
    return services.verify_login_code(email=email, code=code, client_address=ADDRESS)


def test_a_new_email_gets_a_pending_account_and_a_six_digit_code():
    code = request_code(" Ada@Example.com ")

    user = User.objects.get(email="ada@example.com")
    assert not user.has_usable_password()
    assert not Patient.objects.filter(user=user).exists(), "a profile comes with signing in"
    assert mail.outbox[-1].to == ["ada@example.com"]
    assert len(code) == 6


def test_the_right_code_logs_in():
    code = request_code()

    user, device = verify(code)

    assert user.email == "ada@example.com"
    assert device.user == user


def test_spaces_in_the_typed_code_are_ignored():
    code = request_code()

    assert verify(f"{code[:3]} {code[3:]}")[0].email == "ada@example.com"


def test_a_code_works_only_once():
    code = request_code()
    verify(code)

    with pytest.raises(services.WrongCode):
        verify(code)


def test_a_code_expires_after_ten_minutes():
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        code = request_code()
        clock.shift(601)
        with pytest.raises(services.WrongCode):
            verify(code)


def test_a_code_still_works_just_before_ten_minutes():
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        code = request_code()
        clock.shift(590)
        assert verify(code)


def test_a_newer_code_replaces_the_older_one(monkeypatch):
    codes = iter(["111111", "222222"])
    monkeypatch.setattr("django_otp.models.random_number_token", lambda length: next(codes))
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        first = request_code()
        clock.shift(61)
        second = request_code()

        with pytest.raises(services.WrongCode):
            verify(first)
        clock.shift(2)
        assert verify(second)


def test_a_resend_inside_the_cooldown_sends_nothing_new():
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        code = request_code()
        clock.shift(30)
        services.request_login_code(email="ada@example.com", client_address=ADDRESS)

        assert len(mail.outbox) == 1
        assert verify(code)


def test_wrong_codes_slow_down_the_next_attempt():
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        code = request_code()
        wrong = "000000" if code != "000000" else "111111"
        with pytest.raises(services.WrongCode):
            verify(wrong)
        with pytest.raises(services.SlowDown):
            verify(code)
        clock.shift(2)
        assert verify(code)


def test_ten_wrong_codes_void_the_code_for_the_address_that_guessed():
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        code = request_code()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(10):
            with pytest.raises(services.WrongCode):
                verify(wrong)
            clock.shift(31)  # past the growing wait, which stops at 30 seconds
        with pytest.raises(services.CodeVoid):
            verify(wrong)

        with pytest.raises(services.CodeVoid):
            verify(code)


def test_a_guesser_elsewhere_cannot_lock_the_owner_out():
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        code = request_code()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(10):
            with pytest.raises(services.WrongCode):
                services.verify_login_code(
                    email="ada@example.com", code=wrong, client_address="198.51.100.66"
                )
            clock.shift(31)
        clock.shift(31)

        # The owner, from their own address, still signs in with the code they got.
        assert verify(code)[0].email == "ada@example.com"


def test_a_new_code_after_voiding_works():
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        code = request_code()
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(10):
            with pytest.raises(services.LoginError):
                verify(wrong)
            clock.shift(600)

        assert verify(request_code())


def test_code_requests_are_limited_per_email():
    with time_machine.travel("2026-03-04 08:00Z", tick=False) as clock:
        for _ in range(5):
            services.request_login_code(email="ada@example.com", client_address=ADDRESS)
            clock.shift(61)
        with pytest.raises(services.TooManyRequests):
            services.request_login_code(email="ada@example.com", client_address="198.51.100.1")


def test_code_requests_are_limited_per_client_address():
    for number in range(20):
        services.request_login_code(email=f"p{number}@example.com", client_address=ADDRESS)

    with pytest.raises(services.TooManyRequests):
        services.request_login_code(email="someone@example.com", client_address=ADDRESS)
    services.request_login_code(email="someone@example.com", client_address="198.51.100.1")


def test_staff_accounts_get_no_code_but_a_pointer_to_the_staff_login():
    make_user("nurse@example.com", is_staff=True)

    services.request_login_code(email="nurse@example.com", client_address=ADDRESS)

    assert not EmailDevice.objects.exists()
    assert "/staff/login/" in mail.outbox[-1].body
    assert not re.search(r"\b\d{6}\b", str(mail.outbox[-1].body))


def test_a_staff_account_cannot_verify_a_patient_code():
    user = make_user("nurse@example.com", is_staff=True)
    device = EmailDevice.objects.create(user=user, name="email")
    device.generate_token(valid_secs=600)

    with pytest.raises(services.WrongCode):
        verify(device.token, email="nurse@example.com")


def test_an_unknown_email_cannot_verify():
    with pytest.raises(services.WrongCode):
        verify("123456", email="nobody@example.com")
