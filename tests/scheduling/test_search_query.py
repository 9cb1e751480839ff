"""What the search form makes of a query, remembered per catalogue
(scheduling/forms.py ``search_query``): the form's own verdict and cleaned values,
without making the form again for a query it has seen under the same catalogue."""

import datetime as dt

import pytest
from django.http import QueryDict
from django.test import Client

from scheduling import forms as scheduling_forms
from scheduling.forms import search_form, search_query
from tests.factories import make_clinic, make_doctor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def doctors():
    clinic = make_clinic(slug="mitte")
    make_doctor(clinic, specialty="Cardiology", languages="de")


QUERIES = [
    "",
    "page=2",
    "date=2026-03-09",
    "date=9.3.2026",
    "date=1000-01-01",
    "specialty=Cardiology&date=2026-03-09",
    "specialty=Dermatology",
    "clinic=mitte&language=de",
    "clinic=elsewhere",
    "language=xx",
    "type_name=Consultation",
    "date=2026-03-09&date=bad",
]


@pytest.mark.parametrize("query", QUERIES)
def test_it_is_what_the_form_makes_of_the_query_the_first_time_and_again(query):
    form = search_form(QueryDict(query))
    expected = (form.cleaned_data if form.is_valid() else None) if form.is_bound else {}

    assert search_query(QueryDict(query)) == expected
    assert search_query(QueryDict(query)) == expected


def test_the_values_are_the_forms_own():
    assert search_query(QueryDict("specialty=Cardiology&date=2026-03-09")) == {
        "specialty": "Cardiology",
        "language": "",
        "clinic": "",
        "type_name": "",
        "date": dt.date(2026, 3, 9),
    }


def test_a_specialty_added_is_found_at_once_and_one_gone_refused_at_once():
    client = Client()
    assert client.get("/search/?specialty=Dermatology").status_code == 400
    dermatologist = make_doctor(make_clinic(), specialty="Dermatology")
    assert client.get("/search/?specialty=Dermatology").status_code == 200

    dermatologist.is_active = False
    dermatologist.save()
    assert client.get("/search/?specialty=Dermatology").status_code == 400


def test_a_caller_changing_the_answer_changes_nothing_kept():
    search_query(QueryDict("date=2026-03-09"))["date"] = None  # type: ignore[index]
    assert search_query(QueryDict("date=2026-03-09"))["date"] == dt.date(2026, 3, 9)  # type: ignore[index]


def test_the_queries_remembered_are_bounded(monkeypatch):
    monkeypatch.setattr(scheduling_forms, "MAX_KEPT_SEARCH_QUERIES", 3)
    for day in range(1, 10):
        assert search_query(QueryDict(f"date=2026-03-{day:02}")) == {
            "specialty": "",
            "language": "",
            "clinic": "",
            "type_name": "",
            "date": dt.date(2026, 3, day),
        }
        assert scheduling_forms._search_queries is not None
        assert len(scheduling_forms._search_queries[1]) <= 3
