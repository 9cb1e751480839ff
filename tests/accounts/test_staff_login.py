"""The staff sign-in (password, then an authenticator app), the staff page, the admin
behind the same second factor, and the clinics a staff member may see."""

import re
import time
from base64 import b32encode

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_email.models import EmailDevice

from accounts import services
from accounts.models import Authenticator, User
from scheduling.models import StaffMembership, StaffRole
from scheduling.selectors import staff_can_access, staff_clinics
from tests.factories import (
    book,
    local,
    log_in,
    log_in_staff,
    make_authenticator,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
    make_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

EMAIL = "nurse@example.com"
PASSWORD = "staff-password"
WRONG_PASSWORD_MESSAGE = "Email or password is wrong."


@pytest.fixture
def staff() -> User:
    return make_staff(EMAIL)


def code_for(device: Authenticator) -> str:
    """The code the authenticator app shows now."""
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def wrong_code_for(device: Authenticator) -> str:
    # The codes of the previous, current and next 30 s are all accepted (clock drift).
    accepted = {f"{totp(device.bin_key, drift=drift):06d}" for drift in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in accepted)


def enter_password(client, email=EMAIL, password=PASSWORD, next_url=""):
    query = f"?next={next_url}" if next_url else ""
    return client.post(
        reverse("staff:login") + query, {"email": email, "password": password, "next": next_url}
    )


def enrolment_device(user: User) -> Authenticator:
    device: Authenticator = Authenticator.objects.get(user=user, confirmed=False)
    return device


def enrol(client, user: User):
    """Password, set-up page, right code: a first sign-in from start to end."""
    enter_password(client, email=user.email)
    client.get(reverse("staff:login-enrol"))
    device = enrolment_device(user)
    return client.post(reverse("staff:login-enrol"), {"code": code_for(device)})


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def without_csrf(html: str) -> str:
    return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', "", html)


# --- The password step ---------------------------------------------------------------------


def test_the_staff_sign_in_page_asks_for_email_and_password(client):
    response = client.get(reverse("staff:login"))

    assert response.status_code == 200
    assert b'<label for="id_email">Email address</label>' in response.content
    assert b'<label for="id_password">Password</label>' in response.content


def test_a_wrong_password_gets_the_generic_error_and_signs_nobody_in(client, staff):
    response = enter_password(client, password="not-the-password")

    assert response.status_code == 400
    assert WRONG_PASSWORD_MESSAGE in response.text
    assert signed_in_user_id(client) is None
    assert client.get(reverse("staff:login-code"))["Location"] == reverse("staff:login")


def test_a_patient_account_is_refused_with_the_same_generic_error(client):
    patient = make_patient("patient@example.com")
    patient.user.set_password(PASSWORD)
    patient.user.save()

    response = enter_password(client, email="patient@example.com")

    assert response.status_code == 400
    assert WRONG_PASSWORD_MESSAGE in response.text
    assert signed_in_user_id(client) is None


def test_an_inactive_staff_account_is_refused_with_the_same_generic_error(client):
    make_staff(EMAIL, is_active=False)

    response = enter_password(client)

    assert response.status_code == 400
    assert WRONG_PASSWORD_MESSAGE in response.text


def test_the_page_is_the_same_for_unknown_emails_wrong_passwords_patients_and_the_inactive(
    client,
):
    make_staff("staff@example.com")
    make_staff("gone@example.com", is_active=False)
    make_user("patient@example.com", password=PASSWORD)

    pages = set()
    for email, password in [
        ("nobody@example.com", PASSWORD),
        ("staff@example.com", "wrong-password"),
        ("patient@example.com", PASSWORD),
        ("gone@example.com", PASSWORD),
    ]:
        response = enter_password(client, email=email, password=password)
        pages.add((response.status_code, without_csrf(response.text).replace(email, "EMAIL")))

    assert len(pages) == 1


def test_the_email_is_matched_whatever_its_case(client, staff):
    response = enter_password(client, email=" Nurse@Example.COM ")

    assert response["Location"] == reverse("staff:login-enrol")


def test_the_right_password_alone_signs_nobody_in(client, staff):
    make_authenticator(staff)

    response = enter_password(client)

    assert response["Location"] == reverse("staff:login-code")
    assert signed_in_user_id(client) is None
    assert client.get(reverse("staff_appointments:home"))["Location"].startswith(
        reverse("staff:login")
    )


def test_ten_wrong_passwords_lock_out_the_address_that_sent_them(client, staff, frozen_now):
    for _ in range(10):
        enter_password(client, password="wrong-password")
        frozen_now.shift(31)  # past the growing wait, which stops at 30 seconds

    response = enter_password(client)

    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert signed_in_user_id(client) is None


def test_wrong_passwords_from_elsewhere_only_make_the_owner_wait(client, staff, frozen_now):
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    for _ in range(10):
        frozen_now.shift(31)  # each guess counted, not refused inside the wait
        assert enter_password(attacker, password="wrong-password").status_code == 400
    mail_before = len(mail.outbox)

    waiting = enter_password(client)
    frozen_now.shift(31)
    after_the_wait = enter_password(client)

    assert waiting.status_code == 429
    assert "Please wait" in waiting.text
    assert after_the_wait["Location"] == reverse("staff:login-enrol")  # no app set up yet
    # The owner was told about the guessing, once.
    assert mail_before == 1
    assert mail.outbox[0].to == [staff.email]
    assert "Wrong passwords" in str(mail.outbox[0].subject)


def test_a_signed_in_staff_member_is_sent_on_from_the_sign_in_page(client, staff):
    log_in_staff(client, staff)

    response = client.get(reverse("staff:login"))

    assert response["Location"] == reverse("staff_appointments:home")


# --- First sign-in: setting up the authenticator ----------------------------------------


def test_a_first_sign_in_goes_to_the_authenticator_set_up(client, staff):
    response = enter_password(client)

    assert response["Location"] == reverse("staff:login-enrol")


def test_the_set_up_page_shows_a_qr_code_and_the_key_to_type_in(client, staff):
    enter_password(client)

    response = client.get(reverse("staff:login-enrol"))

    device = enrolment_device(staff)
    key = b32encode(device.bin_key).decode()
    grouped = " ".join(key[start : start + 4] for start in range(0, len(key), 4))
    assert response.status_code == 200
    assert re.search(r'<svg [^>]*viewBox="0 0 \d+ \d+"[^>]*><path d="M', response.text)
    assert f'<code id="manual-key">{grouped}</code>' in response.text
    assert not device.confirmed


def test_the_set_up_page_keeps_its_key_when_reloaded(client, staff):
    enter_password(client)
    first = client.get(reverse("staff:login-enrol"))

    second = client.get(reverse("staff:login-enrol"))

    key = re.compile(r'<code id="manual-key">([A-Z2-7 ]+)</code>')
    shown = [key.findall(page.text) for page in (first, second)]
    assert len(shown[0]) == 1
    assert shown[0] == shown[1]
    assert Authenticator.objects.filter(user=staff).count() == 1


def test_a_new_sign_in_shows_a_new_key(client, staff):
    enter_password(client)
    client.get(reverse("staff:login-enrol"))
    old_key = enrolment_device(staff).key

    enter_password(client)
    client.get(reverse("staff:login-enrol"))

    assert enrolment_device(staff).key != old_key
    assert Authenticator.objects.filter(user=staff).count() == 1


def test_a_wrong_code_does_not_set_up_the_authenticator(client, staff):
    enter_password(client)
    client.get(reverse("staff:login-enrol"))
    device = enrolment_device(staff)

    response = client.post(reverse("staff:login-enrol"), {"code": wrong_code_for(device)})

    assert response.status_code == 400
    assert "That code is wrong" in response.text
    assert not Authenticator.objects.filter(user=staff, confirmed=True).exists()
    assert signed_in_user_id(client) is None


def test_the_right_code_sets_up_the_authenticator_and_signs_in(client, staff):
    response = enrol(client, staff)

    assert response["Location"] == reverse("staff_appointments:home")
    device = Authenticator.objects.get(user=staff)
    assert device.confirmed
    assert signed_in_user_id(client) == str(staff.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("staff_appointments:home")).status_code == 200


def test_the_set_up_page_needs_the_password_step_first(client, staff):
    assert client.get(reverse("staff:login-enrol"))["Location"] == reverse("staff:login")
    assert not Authenticator.objects.exists()


def test_nobody_with_an_authenticator_is_offered_a_new_one(client, staff):
    make_authenticator(staff)
    enter_password(client)

    response = client.get(reverse("staff:login-enrol"))

    assert response["Location"] == reverse("staff:login-code")
    assert Authenticator.objects.filter(user=staff).count() == 1


def test_a_set_up_replaced_by_a_newer_sign_in_cannot_be_confirmed(client, staff):
    enter_password(client)
    client.get(reverse("staff:login-enrol"))
    replaced = enrolment_device(staff)
    Authenticator.objects.filter(pk=replaced.pk).delete()  # as a sign-in in another tab does

    response = client.post(reverse("staff:login-enrol"), {"code": code_for(replaced)}, follow=True)

    assert response.redirect_chain == [(reverse("staff:login"), 302)]
    assert "replaced by a newer sign-in" in response.text
    assert not Authenticator.objects.filter(user=staff).exists()


# --- Later sign-ins: the code step ------------------------------------------------------


def test_a_returning_staff_member_is_asked_for_their_code(client, staff):
    make_authenticator(staff)
    enter_password(client)

    response = client.get(reverse("staff:login-code"))

    assert response.status_code == 200
    assert "Enter your code" in response.text


def test_the_right_code_signs_a_returning_staff_member_in(client, staff):
    device = make_authenticator(staff)
    enter_password(client)

    response = client.post(reverse("staff:login-code"), {"code": code_for(device)})

    assert response["Location"] == reverse("staff_appointments:home")
    assert signed_in_user_id(client) == str(staff.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_a_wrong_code_is_refused(client, staff):
    device = make_authenticator(staff)
    enter_password(client)

    response = client.post(reverse("staff:login-code"), {"code": wrong_code_for(device)})

    assert response.status_code == 400
    assert "That code is wrong" in response.text
    assert signed_in_user_id(client) is None


def test_a_code_that_is_not_six_digits_is_a_form_error(client, staff):
    make_authenticator(staff)
    enter_password(client)

    response = client.post(reverse("staff:login-code"), {"code": "12ab"})

    assert response.status_code == 200
    assert "Enter the 6 digits your authenticator app shows." in response.text


def test_a_code_works_only_once(client, staff, frozen_now):
    device = make_authenticator(staff)
    code = code_for(device)
    enter_password(client)
    client.post(reverse("staff:login-code"), {"code": code})
    client.post(reverse("accounts:logout"))

    enter_password(client)
    response = client.post(reverse("staff:login-code"), {"code": code})

    assert response.status_code == 400
    assert signed_in_user_id(client) is None


def test_wrong_codes_slow_down_even_the_right_one(client, staff, frozen_now):
    device = make_authenticator(staff)
    enter_password(client)
    for _ in range(3):
        frozen_now.shift(60)
        client.post(reverse("staff:login-code"), {"code": wrong_code_for(device)})

    refused = client.post(reverse("staff:login-code"), {"code": code_for(device)})
    frozen_now.shift(3)
    still_refused = client.post(reverse("staff:login-code"), {"code": code_for(device)})
    frozen_now.shift(1)
    accepted = client.post(reverse("staff:login-code"), {"code": code_for(device)})

    # The third wrong code asks for a wait of 4 s; a refused attempt does not add to it.
    assert refused.status_code == 429
    assert "Please wait 4 seconds" in refused.text
    assert still_refused.status_code == 429
    assert "Please wait 1 second," in still_refused.text
    assert accepted["Location"] == reverse("staff_appointments:home")
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_the_slow_down_outlasts_a_new_sign_in(client, staff, frozen_now):
    device = make_authenticator(staff)
    enter_password(client)
    client.post(reverse("staff:login-code"), {"code": wrong_code_for(device)})

    enter_password(client)
    response = client.post(reverse("staff:login-code"), {"code": code_for(device)})

    assert response.status_code == 429
    assert signed_in_user_id(client) is None


def test_wrong_set_up_codes_slow_down_too(client, staff, frozen_now):
    enter_password(client)
    client.get(reverse("staff:login-enrol"))
    device = enrolment_device(staff)
    client.post(reverse("staff:login-enrol"), {"code": wrong_code_for(device)})

    response = client.post(reverse("staff:login-enrol"), {"code": code_for(device)})

    assert response.status_code == 429
    assert not Authenticator.objects.filter(user=staff, confirmed=True).exists()


def test_the_password_step_is_forgotten_after_fifteen_minutes(client, staff, frozen_now):
    device = make_authenticator(staff)
    enter_password(client)
    frozen_now.shift(15 * 60 + 1)

    response = client.post(reverse("staff:login-code"), {"code": code_for(device)})

    assert response["Location"] == reverse("staff:login")
    assert signed_in_user_id(client) is None


def test_the_password_step_still_counts_just_before_fifteen_minutes(client, staff, frozen_now):
    device = make_authenticator(staff)
    enter_password(client)
    frozen_now.shift(15 * 60 - 5)

    response = client.post(reverse("staff:login-code"), {"code": code_for(device)})

    assert response["Location"] == reverse("staff_appointments:home")


def test_the_session_key_changes_at_the_password_step_and_again_at_sign_in(client, staff):
    device = make_authenticator(staff)
    client.get(reverse("staff:login"))
    client.session.save()
    planted = client.session.session_key

    enter_password(client)
    after_password = client.session.session_key
    client.post(reverse("staff:login-code"), {"code": code_for(device)})

    assert planted != after_password
    assert client.session.session_key not in (planted, after_password)
    assert signed_in_user_id(client) == str(staff.pk)


def test_it_goes_back_where_it_was_going(client, staff):
    device = make_authenticator(staff)
    enter_password(client, next_url="/admin/scheduling/clinic/")

    response = client.post(reverse("staff:login-code"), {"code": code_for(device)})

    assert response["Location"] == "/admin/scheduling/clinic/"


def test_the_next_url_survives_a_mistyped_password(client, staff):
    device = make_authenticator(staff)
    # As the browser does: the form posts to the bare URL, with next in a hidden field.
    login_url = reverse("staff:login")
    retry = client.post(login_url, {"email": EMAIL, "password": "typo", "next": "/admin/"})
    assert '<input type="hidden" name="next" value="/admin/">' in retry.text

    client.post(login_url, {"email": EMAIL, "password": PASSWORD, "next": "/admin/"})
    response = client.post(reverse("staff:login-code"), {"code": code_for(device)})

    assert response["Location"] == "/admin/"


def test_a_next_url_to_another_site_is_ignored(client, staff):
    device = make_authenticator(staff)
    enter_password(client, next_url="https://evil.example.net/")

    response = client.post(reverse("staff:login-code"), {"code": code_for(device)})

    assert response["Location"] == reverse("staff_appointments:home")


# --- The admin behind the same second factor ------------------------------------------


@pytest.fixture
def superuser() -> User:
    return make_staff("boss@example.com", is_superuser=True)


def test_the_admin_sends_a_password_only_session_to_the_staff_sign_in(client, superuser):
    client.force_login(superuser)  # what a password alone would give

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == reverse("staff:login") + "?next=/admin/"
    assert "Staff sign-in" in response.text


def test_the_admin_sign_in_page_is_the_staff_sign_in(client):
    response = client.get(reverse("admin:login") + "?next=/admin/scheduling/")

    assert response["Location"] == reverse("staff:login") + "?next=/admin/scheduling/"


def test_the_admin_refuses_a_session_verified_by_an_emailed_code(client, superuser):
    device = EmailDevice.objects.create(user=superuser, name="email", confirmed=True)
    client.force_login(superuser)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()

    assert client.get("/admin/")["Location"].startswith(reverse("admin:login"))
    assert client.get(reverse("staff_appointments:home"))["Location"].startswith(
        reverse("staff:login")
    )


def test_the_admin_opens_after_password_and_code(client, superuser):
    device = make_authenticator(superuser)
    client.get("/admin/", follow=True)
    enter_password(client, email=superuser.email, next_url="/admin/")

    response = client.post(reverse("staff:login-code"), {"code": code_for(device)}, follow=True)

    assert response.redirect_chain == [("/admin/", 302)]
    assert "Site administration" in response.text


def test_the_totp_devices_admin_does_not_show_keys(client, superuser):
    log_in_staff(client, superuser)
    device = make_authenticator(make_staff())

    response = client.get(reverse("admin:accounts_authenticator_change", args=[device.pk]))

    assert response.status_code == 200
    assert device.key not in response.text


# --- The staff page -----------------------------------------------------------------------


def test_the_staff_page_sends_visitors_to_the_staff_sign_in(client):
    response = client.get(reverse("staff_appointments:home"))

    assert response["Location"] == reverse("staff:login") + "?next=/staff/"


def test_the_staff_page_sends_a_password_only_session_to_the_staff_sign_in(client, staff):
    client.force_login(staff)

    assert client.get(reverse("staff_appointments:home"))["Location"].startswith(
        reverse("staff:login")
    )


def test_the_staff_page_sends_a_patient_to_the_staff_sign_in(client):
    log_in(client, make_patient())

    assert client.get(reverse("staff_appointments:home"))["Location"].startswith(
        reverse("staff:login")
    )


def test_the_staff_page_lists_the_members_clinics_with_their_staff_pages(client):
    lindenhof, westend = make_clinic(name="Lindenhof"), make_clinic(name="Westend")
    log_in_staff(client, make_staff(clinics=(lindenhof,)))

    page = client.get(reverse("staff_appointments:home")).text

    assert "Lindenhof" in page
    assert "Westend" not in page
    assert f"{reverse('staff_appointments:calendar')}?clinic={lindenhof.pk}" in page
    assert f"?clinic={westend.pk}" not in page
    assert reverse("admin:index") not in page


def test_the_admin_is_for_superusers_only_even_with_admin_permissions(client):
    # The admin shows every clinic's data; clinic staff use the staff pages instead.
    staff = make_staff(clinics=(make_clinic(),))
    staff.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    log_in_staff(client, staff)

    response = client.get(reverse("admin:appointments_appointment_changelist"), follow=True)

    assert response.status_code == 403


def test_staff_of_no_clinic_are_told_how_to_get_one(client, staff):
    log_in_staff(client, staff)

    assert "not a member of any clinic yet" in client.get(reverse("staff_appointments:home")).text


def test_the_staff_page_of_a_superuser_lists_every_clinic(client, superuser):
    make_clinic(name="Lindenhof")
    make_clinic(name="Westend")
    log_in_staff(client, superuser)

    page = client.get(reverse("staff_appointments:home")).text

    assert "Lindenhof" in page
    assert "Westend" in page


def test_the_admin_link_of_a_clinic_lists_only_that_clinics_appointments(
    client, superuser, frozen_now
):
    lindenhof, westend = make_clinic(), make_clinic()
    mine = book(make_patient(), make_doctor(lindenhof), local(lindenhof, 2026, 3, 9, 10))
    book(make_patient(), make_doctor(westend), local(westend, 2026, 3, 9, 10))
    log_in_staff(client, superuser)
    url = reverse("admin:appointments_appointment_changelist")

    response = client.get(url, {"doctor__clinic__id__exact": lindenhof.pk, "when": "upcoming"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [mine]


def test_staff_see_the_staff_link_instead_of_the_patient_links(client, staff):
    log_in_staff(client, staff)

    page = client.get(reverse("staff_appointments:home")).text

    nav = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    # The staff navigation (issue 12): the today view first, no "Find a doctor".
    assert f'<a href="{reverse("staff_appointments:home")}" aria-current="page">Today</a>' in nav
    assert "Find a doctor" not in nav
    assert reverse("admin:index") not in nav
    assert "My appointments" not in nav


def test_superusers_also_see_the_admin_link(client, superuser):
    log_in_staff(client, superuser)

    page = client.get(reverse("staff_appointments:home")).text

    nav = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    assert f'<a href="{reverse("admin:index")}">Admin</a>' in nav


# --- Which clinics a staff member may see ---------------------------------------------


def test_staff_clinics_are_the_clinics_of_their_memberships_with_their_role():
    lindenhof, westend, _other = make_clinic(name="L"), make_clinic(name="W"), make_clinic()
    staff = make_staff(clinics=(lindenhof,))
    StaffMembership.objects.create(user=staff, clinic=westend, role=StaffRole.CLINIC_ADMIN)

    clinics = list(staff_clinics(staff))

    assert clinics == [lindenhof, westend]
    # staff_role is a queryset annotation, which the type checker cannot see.
    roles = [clinic.staff_role for clinic in clinics]  # type: ignore[attr-defined]
    assert roles == ["staff", "clinic_admin"]


def test_staff_can_access_their_clinic_but_not_another():
    mine, other = make_clinic(), make_clinic()
    staff = make_staff(clinics=(mine,))

    assert staff_can_access(staff, mine)
    assert not staff_can_access(staff, other)


def test_a_superuser_can_access_every_clinic_without_memberships():
    clinics = [make_clinic(), make_clinic()]
    superuser = make_staff(is_superuser=True)

    # By name ("Clinic 10" before "Clinic 9": the factory's numbers are strings).
    assert list(staff_clinics(superuser)) == sorted(clinics, key=lambda c: (c.name, c.pk))
    assert all(staff_can_access(superuser, clinic) for clinic in clinics)


def test_a_membership_does_nothing_for_inactive_or_non_staff_users():
    clinic = make_clinic()
    gone = make_staff(clinics=(clinic,), is_active=False)
    patient = make_user()
    StaffMembership.objects.create(user=patient, clinic=clinic)

    for user in (gone, patient):
        assert not staff_clinics(user).exists()
        assert not staff_can_access(user, clinic)


def test_a_user_belongs_to_a_clinic_only_once():
    clinic = make_clinic()
    staff = make_staff(clinics=(clinic,))

    with pytest.raises(IntegrityError):
        StaffMembership.objects.create(user=staff, clinic=clinic, role=StaffRole.CLINIC_ADMIN)


def test_memberships_are_kept_on_the_users_admin_page(client, superuser):
    clinic = make_clinic(name="Lindenhof")
    staff = make_staff(clinics=(clinic,))
    log_in_staff(client, superuser)

    response = client.get(reverse("admin:accounts_user_change", args=[staff.pk]))

    assert response.status_code == 200
    assert "staff_memberships-0-clinic" in response.text


def test_the_membership_admin_offers_staff_accounts_only(client, superuser):
    clinic = make_clinic()
    patient = make_user("patient@example.com")
    log_in_staff(client, superuser)
    url = reverse("admin:scheduling_staffmembership_add")

    assert client.get(reverse("admin:scheduling_staffmembership_changelist")).status_code == 200
    refused = client.post(url, {"user": patient.pk, "clinic": clinic.pk, "role": "staff"})
    added = client.post(url, {"user": superuser.pk, "clinic": clinic.pk, "role": "clinic_admin"})

    assert refused.status_code == 200
    assert "Select a valid choice" in refused.text
    assert added.status_code == 302
    assert StaffMembership.objects.get().user == superuser


# --- The patient sign-in and staff ------------------------------------------------------


def test_the_patient_sign_in_refuses_staff_and_emails_them_the_staff_sign_in_address(client):
    make_staff(EMAIL)

    client.post(reverse("accounts:login"), {"email": EMAIL})

    assert not EmailDevice.objects.exists()
    assert f"{django_settings.SITE_URL}{reverse('staff:login')}" in mail.outbox[-1].body
    with pytest.raises(services.WrongCode):
        services.verify_login_code(email=EMAIL, code="123456", client_address="127.0.0.1")


def test_the_patient_sign_in_page_links_to_the_staff_sign_in(client):
    response = client.get(reverse("accounts:login"))

    assert f'<a href="{reverse("staff:login")}">staff sign-in page</a>' in response.text


def test_the_code_of_the_previous_half_minute_is_accepted_for_clock_drift(client, staff):
    device = make_authenticator(staff)
    enter_password(client)
    with time_machine.travel(time.time() - device.step, tick=False):
        previous_code = code_for(device)

    response = client.post(reverse("staff:login-code"), {"code": previous_code})

    assert response["Location"] == reverse("staff_appointments:home")


def test_the_set_up_page_shows_the_staff_navigation_not_the_patients(client, staff):
    enter_password(client)

    page = client.get(reverse("staff:login-enrol")).text

    nav = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    assert "Find a doctor" not in nav
    assert "Staff sign-in" in nav
    assert "· staff" in page
    assert 'class="manual-key"' in page
