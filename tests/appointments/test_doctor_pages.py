"""Finding a doctor: the list of doctors and a doctor's page with its week of free times.

Time is frozen at Wednesday 4 March 2026, 08:00 UTC (09:00 in Berlin): with two hours'
notice the first bookable time is Wednesday 11:00 CET. Default doctors work Monday to
Friday, 9:00-17:00 Berlin time, in 30-minute consultations.
"""

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from scheduling.models import Doctor, TimeOff
from tests.factories import (
    book,
    consultation,
    local,
    make_clinic,
    make_doctor,
    make_patient,
    make_type,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def get(client: Client, url: str, status: int = 200, **headers: Any) -> str:
    response = client.get(url, **headers)
    assert response.status_code == status
    return response.content.decode()


def doctors_page(client: Client, query: str = "", **headers: Any) -> str:
    return get(client, reverse("appointments:doctors") + query, **headers)


def doctor_page(client: Client, doctor: Doctor, query: str = "", **headers: Any) -> str:
    return get(client, reverse("appointments:doctor", args=[doctor.pk]) + query, **headers)


def slot_link(doctor: Doctor, start_utc: str, type_id: int | None = None) -> str:
    type_id = type_id or consultation(doctor).pk
    return f'href="/appointments/new/?doctor={doctor.pk}&amp;type={type_id}&amp;start={start_utc}"'


def times_of(page: str, day_heading: str) -> list[str]:
    """The visible times listed under one day's heading."""
    section = page.split(f">{day_heading}</h3>", 1)[1].split("</h3>", 1)[0]
    return re.findall(r'class="slot"[^>]*>(\d\d:\d\d)<', section)


# --- The list of doctors ----------------------------------------------------------------


def test_it_lists_active_doctors_with_their_next_free_time(client, frozen_now):
    clinic = make_clinic()
    anna = make_doctor(clinic, name="Dr. Anna Weber", specialty="Dermatology")
    make_doctor(clinic, name="Dr. Retired Person", is_active=False)

    page = doctors_page(client)

    assert "<h1>Find a doctor</h1>" in page
    assert "Dr. Anna Weber" in page
    assert "Dermatology" in page
    assert "Consultation, 30 min" in page
    assert (
        'Next free time: <strong><time datetime="2026-03-04T10:00:00+00:00">'
        "Wed 4 Mar, 11:00 CET</time>"
    ) in page
    assert f'href="/doctors/{anna.pk}/?week=2026-03-04"' in page
    assert "Dr. Retired Person" not in page
    assert "1 doctor<" in page


def test_the_next_free_time_is_shown_in_the_clinics_zone(client, frozen_now):
    # 03:00 in New York: the first time is 9:00 EST the same day.
    make_doctor(make_clinic(timezone="America/New_York"))

    assert "Wed 4 Mar, 09:00 EST" in doctors_page(client)


def test_a_doctor_without_free_times_says_so(client, frozen_now):
    doctor = make_doctor()
    TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 3, 1), end_date=dt.date(2026, 3, 31)
    )

    page = doctors_page(client)

    assert "No free times in the next 14 days" in page
    assert "Next free time" not in page
    assert f'href="/doctors/{doctor.pk}/?week=2026-03-18"' in page


def test_it_filters_by_specialty_with_a_select_of_the_existing_ones(client, frozen_now):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Skin", specialty="Dermatology")
    make_doctor(clinic, name="Dr. Heart", specialty="Cardiology")

    page = doctors_page(client, "?specialty=Dermatology")

    assert "Dr. Skin" in page
    assert "Dr. Heart" not in page
    assert "<option selected>Dermatology</option>" in page
    assert "<option>Cardiology</option>" in page


def test_it_searches_by_name_ignoring_case(client, frozen_now):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Lena Koch")
    make_doctor(clinic, name="Dr. Ren Sato")

    page = doctors_page(client, "?q=koch")

    assert "Dr. Lena Koch" in page
    assert "Dr. Ren Sato" not in page
    assert 'value="koch"' in page


def test_it_says_so_when_nothing_matches(client, frozen_now):
    make_doctor(name="Dr. Lena Koch")

    page = doctors_page(client, "?q=nobody")

    assert "No doctor matches your search." in page
    assert "No doctors found" in page


def test_the_clinic_filter_appears_only_when_there_are_several_clinics(client, frozen_now):
    berlin = make_clinic(name="Berlin Practice", slug="berlin")
    make_doctor(berlin, name="Dr. Lena Koch")
    assert 'name="clinic"' not in doctors_page(client)

    tokyo = make_clinic(name="Tokyo Practice", slug="tokyo", timezone="Asia/Tokyo")
    make_doctor(tokyo, name="Dr. Ren Sato")
    page = doctors_page(client, "?clinic=tokyo")

    assert 'name="clinic"' in page
    assert '<option value="tokyo" selected>Tokyo Practice</option>' in page
    assert "Dr. Ren Sato" in page
    assert "Dr. Lena Koch" not in page
    assert "Thu 5 Mar, 09:00 JST" in page


def test_the_search_form_works_without_javascript_and_swaps_only_results_with_htmx(
    client, frozen_now
):
    make_doctor()

    page = doctors_page(client)

    form = page.split('<form class="doctor-search"', 1)[1].split(">", 1)[0]
    assert 'method="get" action="/doctors/"' in form
    assert 'hx-get="/doctors/"' in form
    assert 'hx-target="#results"' in form
    assert 'hx-push-url="true"' in form
    assert 'type="submit"' in page
    assert '<label for="q">Name</label>' in page
    assert '<label for="specialty">Specialty</label>' in page


def test_an_htmx_request_gets_only_the_results(client, frozen_now):
    make_doctor(name="Dr. Lena Koch", specialty="Dermatology")
    make_doctor(name="Dr. Ren Sato", specialty="Cardiology")

    response = client.get(reverse("appointments:doctors") + "?specialty=Dermatology", **HTMX)
    fragment = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in fragment
    assert "<form" not in fragment
    assert "Dr. Lena Koch" in fragment
    assert "Dr. Ren Sato" not in fragment
    # The count above the results is updated out of band, for screen readers.
    assert '<span hx-swap-oob="innerHTML:#result-count">1 doctor found</span>' in fragment
    assert "HX-Request" in response["Vary"]


def test_going_back_to_a_pushed_url_gets_the_whole_page(client, frozen_now):
    make_doctor()

    page = doctors_page(
        client, "?q=dr", HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )

    assert "<html" in page


def test_the_list_takes_the_same_few_queries_however_many_doctors_there_are(
    client, frozen_now, django_assert_max_num_queries
):
    # A minute past the hour: the first free times (on the hour and half hour) come
    # within the minimum notice in 29 minutes, so the whole answer is kept.
    frozen_now.shift(dt.timedelta(minutes=1))
    berlin = make_clinic()
    tokyo = make_clinic(timezone="Asia/Tokyo")
    first = make_doctor(berlin)
    make_doctor(tokyo)
    with CaptureQueriesContext(connection) as two_doctors:
        doctors_page(client)
    with CaptureQueriesContext(connection) as two_doctors_again:
        doctors_page(client)
    for number in range(12):
        doctor = make_doctor(berlin if number % 2 else tokyo)
        make_type(doctor, 15, "Follow-up")
    book(make_patient(), first, local(berlin, 2026, 3, 4, 11, 30))

    # The header's clinic name and the form's choices (the catalogue: clinics,
    # specialties, the languages spoken, type names), the page's doctors as rows with
    # their count (the kept answer's key, one query) and the kept answer's read; none
    # kept yet: the doctors with their clinics, their types, the cached next free times
    # (one get_many); none cached yet: weekly hours, extra hours, time off and
    # appointments, then one set_many and the answer kept (a count and one upsert each,
    # in a savepoint here, inside the test's transaction).
    with django_assert_max_num_queries(21):
        page = doctors_page(client)
    # The same page again: the rows with their count and the kept answer.
    with CaptureQueriesContext(connection) as again:
        assert doctors_page(client).count('class="doctor-card"') == 12

    assert len(two_doctors) == 21
    assert len(again) == len(two_doctors_again) == 2
    assert page.count('class="doctor-card"') == 12
    assert "14 doctors" in page


def test_the_list_comes_in_pages_of_twelve_that_keep_the_search(client, frozen_now):
    clinic = make_clinic()
    for number in range(14):
        make_doctor(clinic, name=f"Dr. Page {number:02}", specialty="Cardiology")

    first = doctors_page(client, "?specialty=Cardiology")
    second = doctors_page(client, "?specialty=Cardiology&page=2")

    assert first.count('class="doctor-card"') == 12
    assert 'href="?specialty=Cardiology&amp;page=2"' in first
    assert "Page 1 of 2" in first
    assert second.count('class="doctor-card"') == 2
    assert "Dr. Page 13" in second
    assert "Dr. Page 13" not in first
    assert 'href="?specialty=Cardiology&amp;page=1"' in second


def test_a_page_number_out_of_range_shows_the_last_page(client, frozen_now):
    clinic = make_clinic()
    for _ in range(13):
        make_doctor(clinic)

    page = doctors_page(client, "?page=99")

    assert page.count('class="doctor-card"') == 1
    assert "Page 2 of 2" in page


# --- A doctor's page ---------------------------------------------------------------------


def test_it_shows_the_doctor_and_how_to_reach_the_clinic(client, frozen_now):
    clinic = make_clinic(
        name="Lindenhof", address="Lindenstraße 34\nBerlin", phone="+49 30 2589 4410"
    )
    doctor = make_doctor(
        clinic, name="Dr. Anna Weber", specialty="Dermatology", bio="Skin, mostly."
    )
    make_type(doctor, 15, "Follow-up")

    page = doctor_page(client, doctor)

    assert '<h1 id="doctor-name">Dr. Anna Weber</h1>' in page
    assert "Dermatology" in page
    assert "Skin, mostly." in page
    assert "Lindenhof" in page
    assert "Lindenstraße 34<br>Berlin" in page
    assert 'href="tel:+493025894410"' in page
    assert "Follow-up, 15 min" in page
    assert "Consultation, 30 min" in page


def test_it_shows_this_weeks_free_times_in_the_clinics_time_with_links_to_book(client, frozen_now):
    doctor = make_doctor()

    page = doctor_page(client, doctor)

    assert "week of 2&ndash;8 March 2026" in page
    assert "Times are in Berlin time (CET)." in page
    assert times_of(page, "Monday 2 March") == []
    assert "No free times" in page
    wednesday = times_of(page, "Wednesday 4 March")
    assert wednesday[0] == "11:00"
    assert wednesday[-1] == "16:30"
    assert times_of(page, "Sunday 8 March") == []
    link = slot_link(doctor, "2026-03-04T10:00:00Z")
    assert (
        f'<a class="slot" {link}>11:00'
        '<span class="visually-hidden"> on Wednesday 4 March 2026, CET</span></a>'
    ) in page


def test_the_slots_link_to_the_booking_page(client, frozen_now):
    doctor = make_doctor()

    page = doctor_page(client, doctor)

    try:
        booking_page = reverse("appointments:book")
    except NoReverseMatch:  # the booking page is not wired up yet
        booking_page = "/appointments/new/"
    assert f'href="{booking_page}?doctor={doctor.pk}&amp;type=' in page


def test_any_date_shows_the_week_it_falls_in(client, frozen_now):
    doctor = make_doctor()

    page = doctor_page(client, doctor, "?week=2026-03-12")

    assert "week of 9&ndash;15 March 2026" in page
    assert times_of(page, "Monday 9 March")[:2] == ["09:00", "09:30"]
    assert slot_link(doctor, "2026-03-09T08:00:00Z") in page


def test_it_offers_the_next_week_but_not_a_week_before_this_one(client, frozen_now):
    doctor = make_doctor()

    this_week = doctor_page(client, doctor)
    next_week = doctor_page(client, doctor, "?week=2026-03-09")
    type_id = consultation(doctor).pk

    assert '<nav aria-label="Weeks"' in this_week
    assert 'id="previous-week"' not in this_week
    assert f'href="/doctors/{doctor.pk}/?type={type_id}&amp;week=2026-03-09"' in this_week
    assert f'href="/doctors/{doctor.pk}/?type={type_id}&amp;week=2026-03-02"' in next_week
    assert f'href="/doctors/{doctor.pk}/?type={type_id}&amp;week=2026-03-16"' in next_week


def test_it_stops_at_the_booking_horizon(client, frozen_now):
    # 90 days from Wednesday 4 March is Tuesday 2 June: its week is the last.
    doctor = make_doctor()

    last_week = doctor_page(client, doctor, "?week=2026-06-01")
    beyond = doctor_page(client, doctor, "?week=2027-01-01")
    before = doctor_page(client, doctor, "?week=2026-01-01")

    assert 'id="next-week"' not in last_week
    assert 'id="previous-week"' in last_week
    assert times_of(last_week, "Tuesday 2 June")[0] == "09:00"
    assert times_of(last_week, "Wednesday 3 June") == []
    assert "week of 1&ndash;7 June 2026" in beyond
    assert "week of 2&ndash;8 March 2026" in before


def test_the_week_links_and_the_type_picker_swap_only_the_slot_list(client, frozen_now):
    doctor = make_doctor()

    page = doctor_page(client, doctor)

    assert '<div id="slot-list" class="slot-list" aria-live="polite">' in page
    next_link = page.split('id="next-week"', 1)[1].split(">", 1)[0]
    assert 'hx-target="#slot-list"' in next_link
    assert 'hx-push-url="true"' in next_link
    form = page.split('<form id="type-form"', 1)[1].split(">", 1)[0]
    assert f'method="get" action="/doctors/{doctor.pk}/"' in form
    assert 'hx-target="#slot-list"' in form
    assert 'hx-push-url="true"' in form
    # The shown week goes along with a change of type, with or without JavaScript.
    assert '<input type="hidden" name="week" value="2026-03-02" form="type-form">' in page


def test_an_htmx_request_gets_only_the_slot_list(client, frozen_now):
    doctor = make_doctor(name="Dr. Anna Weber")

    response = client.get(
        reverse("appointments:doctor", args=[doctor.pk]) + "?week=2026-03-09", **HTMX
    )
    fragment = response.content.decode()

    assert response.status_code == 200
    assert "<html" not in fragment
    assert "<h1" not in fragment
    assert "Type of appointment" not in fragment
    assert "Monday 9 March" in fragment
    assert slot_link(doctor, "2026-03-09T08:00:00Z") in fragment
    assert 'value="2026-03-09" form="type-form"' in fragment
    assert "HX-Request" in response["Vary"]


def test_focus_moves_to_the_week_when_the_link_used_is_gone(client, frozen_now):
    # From the second week back to the first: "Previous week" is no longer there.
    doctor = make_doctor()

    first_week = doctor_page(
        client, doctor, "?week=2026-03-02", HTTP_HX_TRIGGER="previous-week", **HTMX
    )
    second_week = doctor_page(
        client, doctor, "?week=2026-03-09", HTTP_HX_TRIGGER="previous-week", **HTMX
    )
    by_type = doctor_page(client, doctor, "?week=2026-03-02", HTTP_HX_TRIGGER="type-form", **HTMX)

    assert 'tabindex="-1" autofocus' in first_week
    assert "autofocus" not in second_week
    assert "autofocus" not in by_type


def test_the_type_changes_the_length_of_the_slots(client, frozen_now):
    doctor = make_doctor()
    long_visit = make_type(doctor, 60, "Long visit")

    default = doctor_page(client, doctor, "?week=2026-03-09")
    long = doctor_page(client, doctor, f"?week=2026-03-09&type={long_visit.pk}")

    assert times_of(default, "Monday 9 March")[:3] == ["09:00", "09:30", "10:00"]
    assert times_of(long, "Monday 9 March") == [f"{hour:02}:00" for hour in range(9, 17)]
    assert slot_link(doctor, "2026-03-09T08:00:00Z", long_visit.pk) in long
    assert f'value="{long_visit.pk}" checked' in long
    assert "Long visit, week of 9" in long


def test_booked_times_and_time_off_are_not_offered(client, frozen_now):
    doctor = make_doctor()
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 3, 10), end_date=dt.date(2026, 3, 10)
    )
    TimeOff.objects.create(
        doctor=doctor,
        start_date=dt.date(2026, 3, 11),
        end_date=dt.date(2026, 3, 11),
        start_time=dt.time(12),
        end_time=dt.time(17),
    )

    page = doctor_page(client, doctor, "?week=2026-03-09")

    monday = times_of(page, "Monday 9 March")
    assert "10:00" not in monday
    assert "09:30" in monday
    assert "10:30" in monday
    assert slot_link(doctor, "2026-03-09T09:00:00Z") not in page
    assert times_of(page, "Tuesday 10 March") == []
    assert times_of(page, "Wednesday 11 March")[-1] == "11:30"


def test_times_after_the_spring_clock_change_are_summer_time(client, frozen_now):
    # Berlin moves to CEST on Sunday 29 March 2026: Monday 9:00 is 07:00 UTC.
    doctor = make_doctor()

    page = doctor_page(client, doctor, "?week=2026-03-30")
    change_week = doctor_page(client, doctor, "?week=2026-03-23")

    assert "Times are in Berlin time (CEST)." in page
    link = slot_link(doctor, "2026-03-30T07:00:00Z")
    assert (
        f'<a class="slot" {link}>09:00'
        '<span class="visually-hidden"> on Monday 30 March 2026, CEST</span></a>'
    ) in page
    assert "Times are in Berlin time (CET, and CEST from Sunday 29 March)." in change_week
    assert slot_link(doctor, "2026-03-23T08:00:00Z") in change_week


@pytest.mark.parametrize(
    "query",
    [
        "?week=garbage",
        "?week=2026-02-30",
        "?week=0001-01-01",
        "?week=9999-12-31",
        "?week=",
        "?type=999999",
        "?type=abc",
        "?type=",
        "?type=99999999999999999999999",
        "?type=1&type=2&week=x&week=y",
    ],
)
def test_bad_parameters_fall_back_to_the_first_type_and_this_week(client, frozen_now, query):
    doctor = make_doctor()

    page = doctor_page(client, doctor, query)

    assert f'value="{consultation(doctor).pk}" checked' in page
    assert "Consultation, week of" in page


def test_another_doctors_type_falls_back_to_this_doctors_first(client, frozen_now):
    doctor = make_doctor()
    other = make_type(make_doctor(), 60, "Someone else's")

    page = doctor_page(client, doctor, f"?type={other.pk}")

    assert "Someone else" not in page
    assert f'value="{consultation(doctor).pk}" checked' in page
    assert f"type={other.pk}" not in page


def test_inactive_and_unknown_doctors_are_not_found(client, frozen_now):
    retired = make_doctor(is_active=False)

    get(client, reverse("appointments:doctor", args=[retired.pk]), status=404)
    get(client, reverse("appointments:doctor", args=[retired.pk + 1000]), status=404)


def test_a_doctor_without_bookable_types_asks_patients_to_call(client, frozen_now):
    doctor = make_doctor(name="Dr. Anna Weber")
    doctor.appointment_types.update(is_active=False)

    page = doctor_page(client, doctor)

    assert "Dr. Anna Weber cannot be booked online at the moment." in page
    assert 'id="slot-list"' not in page


def test_the_page_is_accessible(client, frozen_now):
    doctor = make_doctor()

    page = doctor_page(client, doctor)

    assert page.count("<h1") == 1
    assert '<main id="main"' in page
    assert '<nav aria-label="Weeks"' in page
    assert "<legend>Type of appointment</legend>" in page
    assert '<h3 class="day__name">Wednesday 4 March</h3>' in page


def test_the_doctor_page_takes_the_same_few_queries_however_busy_the_doctor_is(
    client, frozen_now, django_assert_max_num_queries
):
    doctor = make_doctor()
    make_type(doctor, 15, "Follow-up")
    client.get("/")  # the catalogue each process keeps (scheduling/selectors.py) is read now
    with CaptureQueriesContext(connection) as quiet:
        doctor_page(client, doctor, "?week=2026-03-09")
    for hour in range(9, 17):
        book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, hour))
    TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 3, 10), end_date=dt.date(2026, 3, 10)
    )

    # The doctor with the clinic and its types (one query), the kept page (a miss: the
    # bookings bumped the doctor's version), the cached week (a miss too), then weekly
    # hours, extra hours, time off and appointments, the week's entry stored and the page
    # kept (each a count and one upsert, in a savepoint in the test's transaction; with
    # Redis no cache read or write is a query). The header's clinic name is the
    # catalogue's.
    with django_assert_max_num_queries(15):
        doctor_page(client, doctor, "?week=2026-03-09")
    # Again: the doctor with the clinic and types, the kept page.
    with django_assert_max_num_queries(2):
        doctor_page(client, doctor, "?week=2026-03-09")

    assert len(quiet) == 15
