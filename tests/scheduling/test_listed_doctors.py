"""The doctors a list or search shows, as the rows of a kept answer's key
(scheduling/selectors.py ``ListedDoctorRows``, ``listed_doctor_rows``): the SQL of each
set of filters is compiled once per process and run on every request, a page is read
with its count in one query, and what a paginator makes of them is what it made of the
ORM's queryset, page for page."""

from typing import Any

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling import selectors
from scheduling.models import Doctor
from tests.factories import make_clinic, make_doctor

pytestmark = pytest.mark.django_db

COLUMNS = selectors.LISTED_DOCTOR_KEY_COLUMNS
PER_PAGE = 4


@pytest.fixture
def doctors():
    """Ten doctors in two clinics, three of them cardiologists speaking German."""
    mitte, nord = make_clinic(slug="mitte"), make_clinic(slug="nord")
    made = []
    for number in range(10):
        cardiologist = number % 3 == 0
        made.append(
            make_doctor(
                mitte if number % 2 else nord,
                name=f"Dr. {'Herz' if cardiologist else 'Haus'} {number:02}",
                specialty="Cardiology" if cardiologist else "General practice",
                languages="de,en" if cardiologist else "en",
            )
        )
    return made


# (the page's number, the count, the number of pages, the page's rows)
Shown = tuple[int, int, int, list[tuple[Any, ...]]]


def paged(filters: selectors.DoctorFilters, page: str | float | None) -> Shown:
    rows = selectors.ListedDoctorRows(filters, COLUMNS, page=page, per_page=PER_PAGE)
    shown = Paginator(rows, PER_PAGE).get_page(page)
    return shown.number, shown.paginator.count, shown.paginator.num_pages, list(shown)


def paged_by_the_orm(filters: selectors.DoctorFilters, page: str | float | None) -> Shown:
    shown = Paginator(filters.doctors().values_list(*COLUMNS), PER_PAGE).get_page(page)
    return shown.number, shown.paginator.count, shown.paginator.num_pages, list(shown)


FILTERS = [
    selectors.DoctorFilters(),
    selectors.DoctorFilters(specialty="Cardiology"),
    selectors.DoctorFilters(name="haus"),
    selectors.DoctorFilters(clinic_slug="mitte"),
    selectors.DoctorFilters(language="de"),
    selectors.DoctorFilters(language="xx"),  # no such language: nobody
    selectors.DoctorFilters(name="nobody by this name"),
]


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize(
    "page", [None, "1", "2", "3", "0", "-1", "99", "x", "last", 2.5, "9" * 40, float("inf")]
)
def test_a_page_is_the_paginators_page_of_the_queryset(doctors, filters, page):
    assert paged(filters, page) == paged_by_the_orm(filters, page)


def test_a_filter_by_clinic_id_finds_that_clinics_doctors(doctors):
    filters = selectors.DoctorFilters(clinic_id=doctors[1].clinic_id)
    assert paged(filters, "1") == paged_by_the_orm(filters, "1")
    assert {row[5] for row in paged(filters, "1")[3]} == {doctors[1].clinic_id}


@pytest.mark.parametrize("page", ["1", "3"])
def test_a_page_and_the_count_are_one_query(doctors, page):
    paged(selectors.DoctorFilters(), "1")  # compiled
    with CaptureQueriesContext(connection) as queries:
        number, count, _pages, rows = paged(selectors.DoctorFilters(), page)
    assert (number, count, len(rows)) == (int(page), 10, 4 if page == "1" else 2)
    assert len(queries) == 1


def test_a_list_of_nobody_is_one_query_and_an_unknown_language_none():
    with CaptureQueriesContext(connection) as queries:
        assert paged(selectors.DoctorFilters(), None)[1:] == (0, 1, [])
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert selectors.listed_doctor_rows(selectors.DoctorFilters(language="xx"), COLUMNS) == ()
    assert len(queries) == 0


def test_the_sql_is_kept_but_the_rows_are_read_again_on_every_call(doctors):
    """Read-your-writes: what is kept between requests is the query, never its rows."""
    everyone = selectors.DoctorFilters()
    before = selectors.listed_doctor_rows(everyone, COLUMNS)
    names = [row[2] for row in before]

    Doctor.objects.filter(pk=doctors[0].pk).update(name="Dr. Aaron Renamed")
    Doctor.objects.filter(pk=doctors[1].pk).update(is_active=False)
    Doctor.objects.filter(pk=doctors[2].pk).update(availability_version=99)
    newcomer = make_doctor(doctors[0].clinic, name="Dr. Neu")
    after = selectors.listed_doctor_rows(everyone, COLUMNS)

    assert len(before) == 10
    assert (
        after
        == selectors.listed_doctor_rows(everyone, COLUMNS)
        == tuple(everyone.doctors().values_list(*COLUMNS))
    )
    assert "Dr. Aaron Renamed" in [row[2] for row in after]
    assert "Dr. Aaron Renamed" not in names
    assert doctors[1].pk not in [row[0] for row in after]
    assert (doctors[2].pk, 99) in [row[:2] for row in after]
    assert newcomer.pk in [row[0] for row in after]


def test_a_page_read_again_shows_a_doctor_added_since(doctors):
    everyone = selectors.DoctorFilters()
    assert paged(everyone, "3")[1] == 10
    make_doctor(doctors[0].clinic, name="Dr. Zz Neu")

    number, count, pages, rows = paged(everyone, "3")

    assert (number, count, pages) == (3, 11, 3)
    assert rows[-1][2] == "Dr. Zz Neu"


def test_the_compiled_queries_are_bounded(doctors, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_COMPILED_LISTINGS", 3)
    monkeypatch.setattr(selectors, "_compiled_listings", {})
    for number in range(10):
        filters = selectors.DoctorFilters(name=f"{number:02}")
        assert selectors.listed_doctor_rows(filters, COLUMNS) == tuple(
            filters.doctors().values_list(*COLUMNS)
        )
        assert len(selectors._compiled_listings) <= 3


def test_a_long_listings_page_and_count_are_read_apart_and_still_afresh(doctors, monkeypatch):
    # Past LONG_LISTING doctors the window function would sort them all to count them.
    monkeypatch.setattr(selectors, "LONG_LISTING", 5)
    filters = selectors.DoctorFilters()
    with CaptureQueriesContext(connection) as first:
        page_one = paged(filters, "1")
    with CaptureQueriesContext(connection) as then:
        page_two = paged(filters, "2")
    assert (page_one, page_two) == (paged_by_the_orm(filters, "1"), paged_by_the_orm(filters, "2"))
    make_doctor(doctors[0].clinic, name="Dr. Anna Aaberg")  # one more
    again = paged(filters, "1")
    every = [row[2] for page in ("1", "2", "3") for row in paged(filters, page)[3]]

    assert "OVER ()" in first.captured_queries[0]["sql"]
    assert len(then) == 2
    assert not [query for query in then.captured_queries if "OVER ()" in query["sql"]]
    assert again == paged_by_the_orm(filters, "1")
    assert again[1] == 11
    assert "Dr. Anna Aaberg" in every


def test_a_short_listing_stays_one_query_after_a_long_one_shrinks(doctors, monkeypatch):
    monkeypatch.setattr(selectors, "LONG_LISTING", 5)
    filters = selectors.DoctorFilters(specialty="Cardiology")  # four: short
    paged(filters, "1")
    with CaptureQueriesContext(connection) as queries:
        shown = paged(filters, "1")
    assert shown == paged_by_the_orm(filters, "1")
    assert len(queries) == 1
