import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import make_clinic, make_doctor, make_type

pytestmark = pytest.mark.django_db


def home_page(client: Client) -> str:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_it_lists_the_clinics_active_doctors_and_hides_inactive_ones(client):
    clinic = make_clinic(name="Lindenhof Medical Centre")
    make_doctor(clinic, name="Dr. Anna Weber", specialty="Dermatology")
    make_doctor(clinic, name="Dr. Retired Person", is_active=False)

    page = home_page(client)

    assert "Dr. Anna Weber" in page
    assert "Dermatology" in page
    assert "Dr. Retired Person" not in page


def test_it_shows_how_to_reach_the_clinic_and_its_time_zone(client):
    make_clinic(
        name="Hudson Street Family Practice",
        address="210 Hudson Street\nNew York",
        phone="+1 212 555 0142",
        email="desk@example.com",
        timezone="America/New_York",
    )

    page = home_page(client)

    assert "210 Hudson Street<br>New York" in page
    assert 'href="tel:+12125550142"' in page
    assert "mailto:desk@example.com" in page
    assert "America/New_York" in page


def test_it_shows_what_each_doctor_can_be_booked_for(client):
    doctor = make_doctor(make_clinic())
    make_type(doctor, 15, "Follow-up")
    retired = make_type(doctor, 45, "Old check-up")
    retired.is_active = False
    retired.save()

    page = home_page(client)

    assert "Consultation, 30 min" in page
    assert "Follow-up, 15 min" in page
    assert "Old check-up" not in page


def test_a_single_clinic_is_the_page_itself_with_no_list_of_clinics(client):
    make_clinic(name="Lindenhof Medical Centre")

    page = home_page(client)

    assert '<h1 id="clinic-name">Lindenhof Medical Centre</h1>' in page
    assert "Our clinics" not in page
    assert 'aria-label="Clinics"' not in page


def test_several_clinics_are_listed_each_with_its_doctors(client):
    berlin = make_clinic(name="Berlin Practice", slug="berlin")
    tokyo = make_clinic(name="Tokyo Practice", slug="tokyo", timezone="Asia/Tokyo")
    make_doctor(berlin, name="Dr. Lena Koch")
    make_doctor(tokyo, name="Dr. Ren Sato")

    page = home_page(client)

    assert "Our clinics" in page
    assert 'href="#clinic-berlin"' in page
    assert 'href="#clinic-tokyo"' in page
    assert (
        page.index("Dr. Lena Koch") < page.index('id="clinic-tokyo"') < page.index("Dr. Ren Sato")
    )


def test_it_says_so_when_no_clinic_is_set_up_yet(client):
    assert "No clinic has been set up yet" in home_page(client)


def test_it_takes_the_same_few_queries_however_many_doctors_there_are(client):
    clinic = make_clinic()
    make_doctor(clinic)
    with CaptureQueriesContext(connection) as one_doctor:
        home_page(client)
    for _ in range(5):
        make_doctor(clinic)
    make_doctor(make_clinic())

    with CaptureQueriesContext(connection) as many_doctors:
        home_page(client)

    # Clinics, their doctors, the doctors' types; and the header's clinic name.
    assert len(many_doctors) == len(one_doctor) == 4


def test_the_page_is_accessible_and_ready_for_htmx(client):
    make_clinic()

    page = home_page(client)

    assert '<html lang="en">' in page
    assert 'class="skip-link" href="#main"' in page
    assert '<main id="main"' in page
    assert "<header" in page
    assert "<footer" in page
    assert 'src="/static/js/htmx.min.js" defer' in page
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
