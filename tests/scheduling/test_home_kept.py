"""The home page kept whole (clinic/answers.py, docs/performance.md "The home page, kept
whole"): its key holds the catalogue it shows (the clinics with their contact facts and
active doctors, the specialties, the form's choices), the kind of visitor and the
language; one clinic's page shows its wall clock to the minute and ends at the next.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``).
"""

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client

from scheduling import selectors
from tests.factories import log_in, make_clinic, make_doctor, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

TOKEN = re.compile(rb'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")([^"]+)"')


def kept(response) -> bool:
    return getattr(response, "kept_answer", False)


def without_tokens(content: bytes) -> bytes:
    return TOKEN.sub(rb'\1-"', content)


def home(client: Client):
    response = client.get("/")
    assert response.status_code == 200
    return response


@pytest.fixture
def two_clinics():
    north, south = make_clinic(name="North Clinic"), make_clinic(name="South Clinic")
    make_doctor(north, specialty="Dermatology")
    make_doctor(south, specialty="Cardiology")
    return north, south


@pytest.mark.parametrize("clinics", [1, 2])
def test_a_kept_home_page_is_the_fresh_page_byte_for_byte_but_for_the_csrf_token(client, clinics):
    for number in range(clinics):
        make_doctor(make_clinic(name=f"Clinic {number}"))
    fresh = home(client)
    again = home(client)
    cache.clear()
    remade = home(client)

    assert (kept(fresh), kept(again), kept(remade)) == (False, True, False)
    assert without_tokens(again.content) == without_tokens(fresh.content)
    assert without_tokens(remade.content) == without_tokens(fresh.content)
    assert TOKEN.search(again.content)


def test_a_clinics_new_phone_shows_on_the_next_request(client, two_clinics):
    north, _south = two_clinics
    home(client)

    north.phone = "+49 30 1234 5678"
    north.save()
    page = home(client)

    assert not kept(page)
    assert "+49 30 1234 5678" in page.text


def test_a_clinics_new_name_shows_on_the_next_request(client, two_clinics):
    north, _south = two_clinics
    home(client)

    north.name = "North Health Centre"
    north.save()

    assert "North Health Centre" in home(client).text


def test_a_clinics_new_doctor_shows_in_its_count_on_the_next_request(client, two_clinics):
    north, _south = two_clinics
    assert "1 doctor<" in home(client).text.replace(" · ", "<")

    make_doctor(north, specialty="")  # no new specialty: only the clinic's count changes
    page = home(client)

    assert not kept(page)
    assert "2 doctors" in page.text


def test_a_new_specialty_shows_on_the_next_request(client, two_clinics):
    north, _south = two_clinics
    home(client)

    make_doctor(north, specialty="Paediatrics")

    assert "Paediatrics" in home(client).text


def test_a_doctor_made_inactive_leaves_the_counts_on_the_next_request(client, two_clinics):
    north, _south = two_clinics
    doctor = north.doctors.get()
    assert "Dermatology" in home(client).text

    doctor.is_active = False
    doctor.save()

    assert "Dermatology" not in home(client).text


def test_a_signed_in_patient_and_a_visitor_get_their_own_pages(client, two_clinics):
    visitor = home(Client())
    log_in(client, make_patient())
    signed_in = home(client)

    assert not kept(signed_in)
    assert without_tokens(signed_in.content) != without_tokens(visitor.content)


def test_the_german_page_is_its_own_entry(client, two_clinics):
    home(client)

    german = client.get("/", HTTP_ACCEPT_LANGUAGE="de")

    assert not kept(german)
    assert '<html lang="de">' in german.text


def test_one_clinics_page_ends_when_its_clock_moves_to_the_next_minute(client, frozen_now):
    make_doctor(make_clinic(name="Only Clinic", timezone="Europe/Berlin"))
    first = home(client)
    frozen_now.shift(dt.timedelta(seconds=59))
    within = home(client)
    frozen_now.shift(dt.timedelta(seconds=1))
    next_minute = home(client)

    assert "09:00" in first.text
    assert kept(within)
    assert not kept(next_minute)
    assert "09:01" in next_minute.text


def test_a_list_of_clinics_shows_no_clock_and_is_kept_across_minutes(
    client, two_clinics, frozen_now
):
    home(client)
    frozen_now.shift(dt.timedelta(minutes=5))

    assert kept(home(client))


def test_a_page_with_a_message_to_show_is_neither_kept_nor_replaced(
    client, two_clinics, settings, frozen_now
):
    home(client)  # kept for visitors
    settings.PATIENT_SESSION_IDLE_SECONDS = 60
    log_in(client, make_patient())
    frozen_now.shift(dt.timedelta(minutes=2))  # idle too long: signed out, and told so

    told = home(client)
    after = home(client)

    assert "You were signed out after a while without activity" in told.text
    assert not kept(told)
    assert "You were signed out" not in after.text
    assert kept(after)


def test_control_with_one_key_for_every_catalogue_a_renamed_clinic_is_not_seen(
    client, two_clinics, monkeypatch
):
    # The harness can see a stale page: without the catalogue in the key, it shows one.
    monkeypatch.setattr(selectors, "catalogue_digest", lambda: "always the same")
    north, _south = two_clinics
    home(client)

    north.name = "North Health Centre"
    north.save()
    page = home(client)

    assert kept(page)
    assert "North Health Centre" not in page.text
