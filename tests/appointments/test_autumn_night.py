"""Pages on the autumn DST night (Berlin, Sunday 25 October 2026): 02:00-03:00 happens
twice, and each time is shown with its zone's name, 02:30 CEST and then 02:30 CET."""

import datetime as dt

import pytest
from django.urls import reverse

from tests.factories import (
    book,
    log_in,
    log_in_staff,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
)

pytestmark = pytest.mark.django_db

FIRST_0230 = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)  # 02:30 CEST
SECOND_0230 = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)  # 02:30 CET


@pytest.fixture(autouse=True)
def the_week_before(frozen_now):
    frozen_now.move_to(dt.datetime(2026, 10, 20, 8, 0, tzinfo=dt.UTC))


@pytest.fixture
def clinic():
    return make_clinic(name="Lindenhof Practice")


@pytest.fixture
def night_doctor(clinic):
    """Works Sunday nights, 00:00-06:00 on the clinic's clock."""
    return make_doctor(clinic, name="Dr. Anna Weber", weekdays=(6,), hours=(dt.time(0), dt.time(6)))


def test_the_patients_appointment_page_names_the_winter_time(client, night_doctor):
    patient = make_patient()
    appointment = book(patient, night_doctor, SECOND_0230)
    log_in(client, patient)

    page = client.get(reverse("appointments:detail", args=[appointment.pk])).text

    assert "Sunday 25 October 2026, 02:30 CET" in page


def test_the_doctors_week_offers_both_0230s_each_with_its_zone(client, night_doctor):
    page = client.get(
        reverse("appointments:doctor", args=[night_doctor.pk]) + "?week=2026-10-19"
    ).text

    assert '02:30<span class="visually-hidden"> on Sunday 25 October 2026, CEST</span>' in page
    assert '02:30<span class="visually-hidden"> on Sunday 25 October 2026, CET</span>' in page


def test_the_staff_detail_page_names_both_ends_zones(client, clinic, night_doctor):
    appointment = book(make_patient(), night_doctor, FIRST_0230)
    log_in_staff(client, make_staff("desk@example.com", clinics=(clinic,)))

    page = client.get(reverse("staff_appointments:detail", args=[appointment.pk])).text

    # 02:30 CEST to 02:00 CET: the half hour that crosses the change.
    assert "Sunday 25 October 2026, 02:30 CEST</time> to 02:00 CET" in page
