"""The doctor list's and the search's results are rendered once for what they show
(clinic/fragments.py): a change to anything they show is on the next page at once.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``).
"""

import pytest
from django.test import Client

from appointments import views
from clinic.fragments import fingerprint, row_facts
from tests.factories import book, consultation, local, make_clinic, make_doctor, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

SEARCH = "/search/?date=2026-03-09"


@pytest.fixture
def doctor():
    return make_doctor(make_clinic(), name="Dr. Anna Berg")


@pytest.mark.parametrize("path", ["/doctors/", SEARCH])
def test_a_renamed_doctor_is_shown_by_the_next_page(client, doctor, path):
    assert "Dr. Anna Berg" in client.get(path).text
    doctor.name = "Dr. Anna Weiss"
    doctor.save()
    page = client.get(path).text
    assert "Dr. Anna Weiss" in page
    assert "Dr. Anna Berg" not in page


@pytest.mark.parametrize("path", ["/doctors/", SEARCH])
def test_a_renamed_appointment_type_is_shown_by_the_next_page(client, doctor, path):
    assert "Consultation" in client.get(path).text
    kind = consultation(doctor)
    kind.name = "Check-up"
    kind.save()
    assert "Check-up" in client.get(path).text


def test_a_booked_time_leaves_the_search_at_once(client, doctor):
    assert 'start=2026-03-09T08:00:00Z"' in client.get(SEARCH).text
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 9))
    assert 'start=2026-03-09T08:00:00Z"' not in client.get(SEARCH).text


def test_the_doctor_lists_next_free_time_moves_when_it_is_booked(client, doctor):
    assert "Wed 4 Mar, 11:00" in client.get("/doctors/").text
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 4, 11))
    page = client.get("/doctors/").text
    assert "Wed 4 Mar, 11:00" not in page
    assert "Wed 4 Mar, 11:30" in page


@pytest.mark.parametrize("path", ["/doctors/", SEARCH])
def test_the_results_are_rendered_in_each_language(doctor, path):
    english = Client().get(path, HTTP_ACCEPT_LANGUAGE="en").text
    german = Client().get(path, HTTP_ACCEPT_LANGUAGE="de").text
    day = {"/doctors/": ("Wed 4 Mar", "Mi, 04.03."), SEARCH: ("Mon 9 Mar", "Mo, 09.03.")}[path]
    assert day[0] in english
    assert day[1] in german
    assert day[0] not in german


def test_control_with_one_key_for_everything_the_rename_is_not_seen(client, doctor, monkeypatch):
    """The harness can see a stale fragment: with a key that names nothing, the page
    goes on showing the old name."""
    monkeypatch.setattr(views, "fingerprint", lambda *parts: "always-the-same")
    assert "Dr. Anna Berg" in client.get("/doctors/").text
    doctor.name = "Dr. Anna Weiss"
    doctor.save()
    assert "Dr. Anna Berg" in client.get("/doctors/").text


def test_a_rows_facts_are_its_columns_but_those_left_out(doctor):
    facts = row_facts(doctor, exclude=("availability_version",))
    assert facts[0] == "scheduling.Doctor"
    assert "Dr. Anna Berg" in facts
    assert len(facts) == len(doctor._meta.concrete_fields)


def test_a_fingerprint_differs_with_the_language():
    from django.utils import translation

    with translation.override("en"):
        english = fingerprint("same")
    with translation.override("de"):
        german = fingerprint("same")
    assert english != german
