"""The search page (/search/): the soonest free times across doctors, or from a date,
with filters; a plain GET form, its results swapped by htmx.

Time is frozen at Wednesday 4 March 2026, 08:00 UTC (09:00 in Berlin)."""

import pytest
from django.test import Client

from tests.factories import consultation, make_clinic, make_doctor

pytestmark = pytest.mark.django_db


def test_it_shows_the_soonest_times_each_a_link_to_its_confirm_page(frozen_now, client: Client):
    doctor = make_doctor(name="Dr. Anna Weber", specialty="Dermatology", languages="de,tr")

    response = client.get("/search/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Wed 4 Mar, 11:00 CET" in page
    assert "Dr. Anna Weber" in page
    assert "Turkish" in page
    link = (
        f"/appointments/new/?doctor={doctor.pk}&amp;type={consultation(doctor).pk}"
        "&amp;start=2026-03-04T10:00:00Z"
    )
    assert link in page
    assert page.index("11:00 CET") < page.index("11:30 CET")


def test_it_filters_by_specialty_and_language(frozen_now, client: Client):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Anna Weber", specialty="Dermatology", languages="de")
    make_doctor(clinic, name="Dr. Emre Yilmaz", specialty="Dermatology", languages="de,tr")
    make_doctor(clinic, name="Dr. Lena Koch", specialty="Cardiology", languages="tr")

    page = client.get("/search/", {"specialty": "Dermatology", "language": "tr"}).content.decode()

    assert "Dr. Emre Yilmaz" in page
    assert "Dr. Anna Weber" not in page
    assert "Dr. Lena Koch" not in page


def test_a_chosen_date_starts_the_times_there(frozen_now, client: Client):
    make_doctor()

    page = client.get("/search/", {"date": "2026-03-10"}).content.decode()

    assert "Tue 10 Mar, 09:00 CET" in page
    assert "Wed 4 Mar" not in page


def test_htmx_gets_only_the_results(frozen_now, client: Client):
    make_doctor(name="Dr. Anna Weber")

    response = client.get("/search/", headers={"HX-Request": "true"})

    page = response.content.decode()
    assert "Dr. Anna Weber" in page
    assert "<form" not in page
    assert "<html" not in page


@pytest.mark.parametrize(
    "query",
    [
        {"date": "2026-02-30"},
        {"date": "0001-01-01"},
        {"specialty": "Astrology"},
        {"language": "xx"},
    ],
)
def test_bad_input_is_a_form_error_with_a_400(frozen_now, client: Client, query):
    make_doctor()

    response = client.get("/search/", query)

    assert response.status_code == 400
    page = response.content.decode()
    assert "field--error" in page
    assert "Please correct the search." in page


def test_no_free_times_says_so(frozen_now, client: Client):
    make_doctor(weekdays=())

    page = client.get("/search/").content.decode()

    assert "No free times found" in page


def test_the_doctor_page_names_the_languages_spoken(client: Client):
    doctor = make_doctor(languages="de,en,tr")

    page = client.get(f"/doctors/{doctor.pk}/").content.decode()

    assert "German, English, Turkish" in page


def test_the_doctor_list_filters_by_language_and_sorts_by_surname(client: Client):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Anna Weber", languages="de,tr")
    make_doctor(clinic, name="Dr. Zoe Adler", languages="tr")
    make_doctor(clinic, name="Dr. Lena Koch", languages="de")

    page = client.get("/doctors/", {"language": "tr"}).content.decode()

    assert "Dr. Lena Koch" not in page
    assert page.index("Dr. Zoe Adler") < page.index("Dr. Anna Weber")
