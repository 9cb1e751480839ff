"""A staff member's first sign-in in a real browser: password, setting up an authenticator
app from the key on the page, the staff page, then the admin behind the same sign-in."""

import re
from base64 import b32decode

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from accounts.models import Authenticator
from tests.e2e.conftest import screenshot
from tests.factories import make_clinic, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "nurse.jansen@example.com"
PASSWORD = "staff-password"  # make_staff's


def authenticator_code(manual_key: str) -> str:
    """What an authenticator app shows for the key typed in from the page."""
    key = manual_key.replace(" ", "")
    secret = b32decode(key + "=" * (-len(key) % 8))
    return f"{totp(secret):06d}"


def test_a_staff_member_sets_up_their_authenticator_and_opens_the_calendar(page: Page):
    lindenhof = make_clinic(name="Lindenhof Practice")
    make_clinic(name="Westend Practice")
    staff = make_staff(EMAIL, clinics=(lindenhof,))

    page.goto("/staff/login/")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    screenshot(page, "staff-authenticator-set-up")
    code = authenticator_code(page.locator("#manual-key").inner_text())
    page.get_by_label("6-digit code from your authenticator app").fill(code)
    page.get_by_role("button", name="Confirm and sign in").click()

    expect(page).to_have_url(re.compile(r"/staff/$"))
    assert Authenticator.objects.get(user=staff).confirmed
    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Lindenhof Practice")).to_be_visible()
    expect(page.get_by_text("Westend Practice")).to_have_count(0)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My appointments")).to_have_count(0)
    screenshot(page, "staff-home")

    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)  # superusers only

    page.get_by_role("link", name="Today's appointments calendar").click()
    expect(page).to_have_url(re.compile(rf"/staff/calendar/\?clinic={lindenhof.pk}"))
    expect(page.get_by_role("heading", name="Appointments at Lindenhof Practice")).to_be_visible()


def test_a_superuser_signs_in_on_the_staff_page_and_opens_the_admin(page: Page):
    make_staff(EMAIL, is_superuser=True)

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/staff/login/"))
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    code = authenticator_code(page.locator("#manual-key").inner_text())
    page.get_by_label("6-digit code from your authenticator app").fill(code)
    page.get_by_role("button", name="Confirm and sign in").click()

    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
