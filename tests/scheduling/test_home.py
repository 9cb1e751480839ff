import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from scheduling import selectors
from scheduling.models import Clinic, Doctor, sort_name_of
from tests.factories import make_clinic, make_doctor

pytestmark = pytest.mark.django_db


def home_page(client: Client) -> str:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_it_leads_with_the_search_form_that_goes_to_the_search_page(client):
    clinic = make_clinic()
    make_doctor(clinic, specialty="Dermatology", languages="de,tr")

    page = home_page(client)

    assert '<form class="doctor-search time-search" method="get" action="/search/"' in page
    assert page.index('action="/search/"') < page.index('id="specialties-heading"')
    assert '<option value="tr">Turkish</option>' in page
    assert '<option value="Dermatology">Dermatology</option>' in page


def test_it_links_each_specialty_to_its_soonest_times_and_its_doctors(client):
    clinic = make_clinic()
    make_doctor(clinic, specialty="Dermatology")
    make_doctor(clinic, specialty="Dermatology")
    make_doctor(clinic, specialty="Cardiology")
    make_doctor(clinic, specialty="Neurology", is_active=False)

    page = home_page(client)

    assert 'href="/search/?specialty=Dermatology"' in page
    assert 'href="/doctors/?specialty=Dermatology">2 doctors' in page
    assert 'href="/doctors/?specialty=Cardiology">1 doctor<' in page
    assert "Neurology" not in page


def test_it_shows_no_bios(client):
    make_doctor(make_clinic(), name="Dr. Anna Weber", bio="Studied in Heidelberg.")

    page = home_page(client)

    assert "Studied in Heidelberg" not in page
    assert "Dr. Anna Weber" not in page


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


def test_a_single_clinic_is_the_page_itself_with_no_list_of_clinics(client):
    make_clinic(name="Lindenhof Medical Centre")

    page = home_page(client)

    assert '<h1 id="clinic-name">Lindenhof Medical Centre</h1>' in page
    assert "Our clinics" not in page


def test_several_clinics_are_listed_each_a_link_to_its_doctors(client):
    berlin = make_clinic(name="Berlin Practice", slug="berlin")
    make_clinic(name="Tokyo Practice", slug="tokyo", timezone="Asia/Tokyo")
    make_doctor(berlin, name="Dr. Lena Koch")

    page = home_page(client)

    assert "Our clinics" in page
    assert 'href="/doctors/?clinic=berlin">Berlin Practice</a>' in page
    assert 'href="/doctors/?clinic=tokyo">Tokyo Practice</a>' in page
    assert '<option value="tokyo">Tokyo Practice</option>' in page


def test_it_says_so_when_no_clinic_is_set_up_yet(client):
    assert "No clinic has been set up yet" in home_page(client)


def test_it_takes_the_same_few_queries_however_many_doctors_there_are(client):
    clinic = make_clinic()
    make_doctor(clinic)
    home_page(client)  # the catalogue each process keeps (scheduling/selectors.py)
    with CaptureQueriesContext(connection) as one_doctor:
        home_page(client)
    for _ in range(5):
        make_doctor(clinic)
    make_doctor(make_clinic())
    home_page(client)  # the catalogue again, with the new doctors and clinic

    with CaptureQueriesContext(connection) as many_doctors:
        home_page(client)

    # The kept page's one read of the cache (a query on the tests' database cache, none
    # on Redis); the clinics with their doctor counts, the specialties, the form's
    # languages and types and the header's clinic name are the catalogue's.
    assert len(many_doctors) == len(one_doctor) == 1


@pytest.mark.slow
def test_with_200_clinics_of_50_doctors_the_home_page_and_the_doctor_list_stay_small(client):
    clinics = Clinic.objects.bulk_create(
        Clinic(name=f"Clinic {number} Medical Centre", slug=f"clinic-{number}", phone="+49 30 1")
        for number in range(200)
    )
    specialties = ["Dermatology", "Cardiology", "General practice", "Paediatrics", "Neurology"]
    doctors = []
    for clinic in clinics:
        for number in range(50):
            name = f"Dr. Firstname{number} Surname{clinic.pk}x{number}"
            doctors.append(
                Doctor(
                    clinic=clinic,
                    name=name,
                    sort_name=sort_name_of(name),
                    specialty=specialties[number % 5],
                    bio="A long biography. " * 40,
                    languages="de,en",
                )
            )
    Doctor.objects.bulk_create(doctors, batch_size=2000)
    selectors.forget_catalogue()  # bulk_create sends no signals

    home = client.get("/")
    doctors_page = client.get("/doctors/")

    assert home.status_code == doctors_page.status_code == 200
    assert len(home.content) <= 200_000, len(home.content)
    assert len(doctors_page.content) <= 200_000, len(doctors_page.content)
    assert "10000 doctors" in doctors_page.content.decode()
    assert "Clinic 199 Medical Centre" in home.content.decode()


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


def test_the_forms_languages_and_types_are_read_one_row_per_value_not_per_doctor():
    # The model's ordering in a DISTINCT query would make it one row per doctor (10,000
    # rows for 200 clinics of 50: 30 ms of every home and doctor list page).
    clinic = make_clinic()
    for _ in range(3):
        make_doctor(clinic)

    selectors.forget_catalogue()
    with CaptureQueriesContext(connection) as captured:
        selectors.spoken_languages()
        assert selectors.appointment_type_names() == ["Consultation"]

    distinct = [query["sql"] for query in captured if "DISTINCT" in query["sql"]]
    assert len(distinct) == 2
    assert all("ORDER BY" not in sql for sql in distinct)
