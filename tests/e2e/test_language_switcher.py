"""The language switcher in a real browser (issue 13): reached and used with the
keyboard alone, with JavaScript off, it turns the page German and stays on it; the
browser's own language (Accept-Language) is honoured from the first page."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_clinic, make_doctor

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_switcher_works_by_keyboard_without_javascript(open_page, live_server):
    doctor = make_doctor(make_clinic(), name="Dr. Anna Weber")
    page = open_page(javascript=False)
    page.goto(f"/doctors/{doctor.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    switcher = page.get_by_role("button", name="Deutsch")
    for _ in range(40):  # Tab through the page until the switcher has the focus.
        page.keyboard.press("Tab")
        if switcher.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("The language switcher cannot be reached with Tab.")
    page.keyboard.press("Enter")

    expect(page.locator("html")).to_have_attribute("lang", "de")
    assert page.url == f"{live_server.url}/doctors/{doctor.pk}/"
    expect(page.get_by_role("heading", name="Freie Termine")).to_be_visible()
    expect(page.get_by_role("button", name="English")).to_be_visible()


def test_a_german_browser_gets_german_pages(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="de-DE")
    try:
        page = context.new_page()
        page.goto("/login/")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_role("button", name="Code per E-Mail senden")).to_be_visible()
    finally:
        context.close()
