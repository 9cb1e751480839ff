"""A receptionist books by phone for a caller's daughter in a real browser: from a free
time on the grid, she adds the child on the phone (htmx swaps only "who is the visit
for", so the reason already typed stays), chooses her and confirms; the calendar then
names the child and her parent.

The clock is real (see conftest): the day used is tomorrow in Berlin.
"""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Dependant
from appointments.models import Appointment
from tests.e2e.test_staff_day import EVERY_DAY, at, staff_page
from tests.factories import make_clinic, make_doctor, make_patient, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def clinic():
    return make_clinic(name="Lindenhof Practice")


@pytest.fixture
def tomorrow(clinic) -> dt.date:
    return timezone.localdate(timezone=clinic.zone) + dt.timedelta(days=1)


def test_a_receptionist_adds_the_callers_daughter_and_books_for_her(
    open_page, live_server, clinic, tomorrow
):
    make_doctor(clinic, name="Dr. Bernd Roth", weekdays=EVERY_DAY)
    leon = make_patient("leon.wolf@example.com", full_name="Leon Wolf")
    page = staff_page(open_page, live_server, make_staff(clinics=(clinic,)))

    page.goto(f"/staff/calendar/?date={tomorrow:%Y-%m-%d}")
    when = f"{tomorrow:%a} {tomorrow.day} {tomorrow:%b} 15:00"
    page.get_by_role("button", name=f"Book Dr. Bernd Roth, {when}").click()
    page.get_by_label("Name, email or phone").fill("Leon Wolf")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Book for Leon Wolf").click()

    page.get_by_label("Reason for the visit (optional)").fill("Fever since Sunday")
    page.get_by_text("Someone else in the family? Add them").click()
    page.get_by_label("Their name").fill("Mia Wolf")
    page.get_by_label("Their birth date").fill("2019-06-01")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("button", name="Add and choose them").click()
    expect(page.get_by_role("status")).to_contain_text("Added Mia Wolf")
    assert page.evaluate("window.stillTheSamePage === true")  # swapped, not reloaded
    expect(page.get_by_label("Mia Wolf, child, born 1 June 2019")).to_be_checked()
    expect(page.get_by_label("Reason for the visit (optional)")).to_have_value("Fever since Sunday")
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.get_by_role("status")).to_contain_text("Booked for Mia Wolf (child of Leon Wolf)")
    booked = Appointment.objects.get(patient=leon)
    assert booked.dependant == Dependant.objects.get(patient=leon, full_name="Mia Wolf")
    assert booked.starts_at == at(clinic, tomorrow, 15)
    assert booked.reason == "Fever since Sunday"
    page.goto(f"/staff/calendar/?date={tomorrow:%Y-%m-%d}")
    expect(page.get_by_text("Mia Wolf (child of Leon Wolf)").first).to_be_visible()
