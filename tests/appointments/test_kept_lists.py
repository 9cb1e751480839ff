"""The doctor list and the search across doctors kept whole (clinic/answers.py): the key
holds the rows of the doctors shown (their availability versions among them), the
address, the visitor kind, the catalogue and the language; the entry ends when the clock
alone would change the answer. A kept answer equals a fresh one but for each request's
own CSRF token, and a booking or a change of hours is seen by the next request, anyone's.

Now is Wed 2026-03-04 09:01 in Berlin (``frozen_now``, shifted a minute): the first free
time, 11:30, comes within the two hours' notice at 09:30, so until then lists are kept.
"""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.middleware.csrf import _unmask_cipher_token  # type: ignore[attr-defined]  # Django has no public unmask
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from appointments import api as appointments_api
from appointments import search
from clinic.templatetags.memo import CSRF_PLACEHOLDER
from scheduling import api as scheduling_api
from scheduling import selectors as scheduling_selectors
from scheduling import services as scheduling_services
from scheduling.api import DoctorSerializer
from scheduling.models import Doctor
from tests.api.helpers import client_for
from tests.factories import book, local, log_in, make_clinic, make_doctor, make_patient, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

LIST = "/doctors/"
SEARCH = "/search/?date=2026-03-09"
SLOTS = "/api/v1/slots?from=2026-03-09&to=2026-03-09"
# The first free times shown: on the list (Wed 4 Mar) and in the search (Mon 9 Mar).
FIRST, SECOND = "Wed 4 Mar, 11:30", "Wed 4 Mar, 12:00"
MONDAY_NINE = "2026-03-09T09:00:00+01:00"

TOKEN = re.compile(rb'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")([^"]+)"')


@pytest.fixture(autouse=True)
def a_minute_past_nine(frozen_now):
    frozen_now.shift(dt.timedelta(minutes=1))


@pytest.fixture
def doctor():
    return make_doctor(make_clinic(), name="Dr. Anna Berg")


def kept(response) -> bool:
    return getattr(response, "kept_answer", False)


def without_tokens(content: bytes) -> bytes:
    return TOKEN.sub(rb'\1-"', content)


def tokens_of(content: bytes) -> set[str]:
    return {match.group(2).decode() for match in TOKEN.finditer(content)}


@pytest.mark.parametrize("path", [LIST, SEARCH])
def test_a_kept_page_is_the_fresh_page_byte_for_byte_but_for_the_csrf_token(client, doctor, path):
    log_in(client, make_patient())
    fresh = client.get(path)
    again = client.get(path)
    cache.clear()  # every entry gone: made again from the database
    remade = client.get(path)

    assert (kept(fresh), kept(again), kept(remade)) == (False, True, False)
    assert without_tokens(again.content) == without_tokens(fresh.content)
    assert without_tokens(remade.content) == without_tokens(fresh.content)
    assert tokens_of(again.content)
    assert CSRF_PLACEHOLDER.encode() not in again.content


def test_a_kept_answer_of_the_search_api_is_the_fresh_answer_byte_for_byte(doctor):
    api = client_for(make_patient().user)
    fresh = api.get(SLOTS)
    again = api.get(SLOTS)
    cache.clear()
    remade = api.get(SLOTS)

    assert (kept(fresh), kept(again), kept(remade)) == (False, True, False)
    assert again.content == fresh.content == remade.content
    assert again["Content-Type"] == fresh["Content-Type"] == "application/json"
    assert MONDAY_NINE in fresh.text


@pytest.mark.parametrize("path", [LIST, SEARCH])
def test_each_visitor_gets_their_own_csrf_token_in_a_kept_page(doctor, path):
    first, second = Client(), Client()
    log_in(first, make_patient())
    log_in(second, make_patient())
    first.get(path)
    page = second.get(path)

    assert kept(page)
    secret = second.cookies[settings.CSRF_COOKIE_NAME].value
    assert tokens_of(page.content)
    assert {_unmask_cipher_token(token) for token in tokens_of(page.content)} == {secret}


def test_a_patients_own_booking_changes_the_next_free_time_they_and_others_see(client, doctor):
    patient = make_patient()
    log_in(client, patient)
    other = Client()
    assert FIRST in client.get(LIST).text
    assert FIRST in other.get(LIST).text
    assert kept(client.get(LIST))

    book(patient, doctor, local(doctor.clinic, 2026, 3, 4, 11, 30))

    for page in (client.get(LIST).text, other.get(LIST).text):
        assert FIRST not in page
        assert SECOND in page


@pytest.mark.parametrize("path", [SEARCH, SLOTS])
def test_a_booking_leaves_the_kept_search_at_once_for_the_patient_and_others(doctor, path):
    patient = make_patient()
    mine, other = Client(), Client()
    log_in(mine, patient)
    start = 'start=2026-03-09T08:00:00Z"' if path == SEARCH else MONDAY_NINE
    assert start in mine.get(path).text
    assert start in other.get(path).text
    assert kept(other.get(path))

    book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 9))

    assert start not in mine.get(path).text
    assert start not in other.get(path).text


def test_a_doctors_time_off_shows_in_the_kept_list_at_once(client, doctor):
    assert FIRST in client.get(LIST).text
    assert kept(client.get(LIST))

    scheduling_services.add_time_off(
        doctor=doctor,
        start_date=dt.date(2026, 3, 4),
        end_date=dt.date(2026, 3, 4),
        start_time=None,
        end_time=None,
        reason="",
        changed_by=make_user(is_staff=True),
    )

    page = client.get(LIST).text
    assert FIRST not in page
    assert "Thu 5 Mar, 09:00" in page


def test_control_without_the_version_in_the_key_the_list_shows_a_booked_time(
    client, doctor, monkeypatch
):
    """The harness sees a stale answer: with the availability version left out of the
    key, the kept list goes on showing the time just booked."""
    columns = tuple(
        name
        for name in scheduling_selectors.LISTED_DOCTOR_KEY_COLUMNS
        if name != "availability_version"
    )
    monkeypatch.setattr(scheduling_selectors, "LISTED_DOCTOR_KEY_COLUMNS", columns)
    assert FIRST in client.get(LIST).text

    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 4, 11, 30))

    stale = client.get(LIST)
    assert kept(stale)
    assert FIRST in stale.text


def test_control_without_the_version_in_the_key_the_search_api_shows_a_booked_time(
    doctor, monkeypatch
):
    columns = tuple(
        name
        for name in scheduling_selectors.LISTED_DOCTOR_KEY_COLUMNS
        if name != "availability_version"
    )
    monkeypatch.setattr(appointments_api, "LISTED_DOCTOR_KEY_COLUMNS", columns)
    monkeypatch.setattr(search, "LISTED_DOCTOR_KEY_COLUMNS", columns)
    api = client_for(make_patient().user)
    assert MONDAY_NINE in api.get(SLOTS).text

    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 9))

    stale = api.get(SLOTS)
    assert kept(stale)
    assert MONDAY_NINE in stale.text


def test_the_kept_list_ends_when_its_first_time_comes_within_the_notice(client, doctor, frozen_now):
    client.get(LIST)
    frozen_now.shift(dt.timedelta(minutes=28))  # 09:29
    assert kept(just_before := client.get(LIST))
    assert FIRST in just_before.text

    frozen_now.shift(dt.timedelta(minutes=1))  # 09:30: the last moment 11:30 is bookable
    assert not kept(client.get(LIST))
    frozen_now.shift(dt.timedelta(seconds=1))
    page = client.get(LIST)

    assert FIRST not in page.text
    assert SECOND in page.text


def test_the_kept_list_ends_when_the_clinics_day_changes(client, frozen_now):
    # Nothing free for weeks: the list says so and links to the first day after them.
    doctor = make_doctor(make_clinic(), weekdays=())
    frozen_now.move_to(dt.datetime(2026, 3, 4, 22, 30, tzinfo=dt.UTC))  # 23:30 in Berlin
    client.get(LIST)
    frozen_now.move_to(dt.datetime(2026, 3, 4, 22, 59, tzinfo=dt.UTC))
    assert kept(client.get(LIST))

    frozen_now.move_to(dt.datetime(2026, 3, 4, 23, 0, tzinfo=dt.UTC))  # Thursday in Berlin
    page = client.get(LIST)

    assert not kept(page)
    assert doctor.name in page.text


def test_a_list_whose_horizon_is_shorter_than_its_fortnight_is_not_kept(client):
    make_doctor(make_clinic(booking_horizon=dt.timedelta(days=7)))
    client.get(LIST)
    assert not kept(client.get(LIST))


def test_the_kept_search_ends_when_its_soonest_time_comes_within_the_notice(doctor, frozen_now):
    api = client_for(make_patient().user)
    today = "/api/v1/slots?from=2026-03-04&to=2026-03-04"
    api.get(today)
    frozen_now.shift(dt.timedelta(minutes=28))  # 09:29
    assert kept(api.get(today))

    frozen_now.shift(dt.timedelta(minutes=1, seconds=1))  # 09:30:01: 11:30 is too soon
    answer = api.get(today)

    assert not kept(answer)
    assert "2026-03-04T11:30:00+01:00" not in answer.text
    assert "2026-03-04T12:00:00+01:00" in answer.text


def test_the_kept_search_ends_when_the_clinics_day_changes(doctor, frozen_now):
    api = client_for(make_patient().user)
    frozen_now.move_to(dt.datetime(2026, 3, 4, 22, 30, tzinfo=dt.UTC))  # 23:30 in Berlin
    api.get(SLOTS)
    frozen_now.move_to(dt.datetime(2026, 3, 4, 22, 59, tzinfo=dt.UTC))
    assert kept(api.get(SLOTS))

    frozen_now.move_to(dt.datetime(2026, 3, 4, 23, 0, tzinfo=dt.UTC))

    assert not kept(api.get(SLOTS))


def test_a_search_that_reaches_the_horizon_is_not_kept():
    make_doctor(make_clinic(booking_horizon=dt.timedelta(days=7)))
    api = client_for(make_patient().user)
    path = "/api/v1/slots?from=2026-03-09&to=2026-03-12"  # the horizon ends on the 11th
    api.get(path)
    assert not kept(api.get(path))


def test_the_search_page_takes_the_same_two_queries_for_one_doctor_or_many(client, doctor):
    def queries() -> int:
        client.get(SEARCH)
        with CaptureQueriesContext(connection) as captured:
            assert kept(client.get(SEARCH))
        return len(captured)

    one = queries()
    for _ in range(8):
        make_doctor(doctor.clinic)
    # The doctors searched as rows (the key) and the kept answer's read (the database
    # cache's, here).
    assert one == queries() == 2


def test_the_doctor_list_api_is_the_doctor_serializers_answer_byte_for_byte(doctor):
    second = make_doctor(doctor.clinic, name="Dr. Bernd Koch", languages="de,en", bio="Hi.")
    api = client_for(make_patient().user)
    listed = scheduling_selectors.find_doctors()

    response = api.get("/api/v1/doctors")

    expected = {
        "count": 2,
        "next": None,
        "previous": None,
        "results": DoctorSerializer(listed, many=True).data,
    }
    assert response.content == JSONRenderer().render(expected)
    assert [row["id"] for row in response.json()["results"]] == [doctor.pk, second.pk]


@pytest.mark.parametrize("path", [LIST, "/api/v1/doctors"])
def test_a_type_added_on_the_staff_pages_shows_in_the_kept_list_at_once(doctor, path):
    api = client_for(make_patient().user)
    api.get(path)
    assert kept(api.get(path))

    scheduling_services.add_appointment_type(
        doctor=doctor, name="Vaccination", duration=dt.timedelta(minutes=15)
    )

    assert "Vaccination" in api.get(path).text


def test_a_kept_doctor_list_api_answer_is_the_fresh_answer_byte_for_byte(doctor):
    api = client_for(make_patient().user)
    fresh = api.get("/api/v1/doctors?page_size=1")
    again = api.get("/api/v1/doctors?page_size=1")
    cache.clear()
    remade = api.get("/api/v1/doctors?page_size=1")

    assert (kept(fresh), kept(again), kept(remade)) == (False, True, False)
    assert again.content == fresh.content == remade.content


def test_a_renamed_doctor_shows_in_the_kept_doctor_list_api_at_once(doctor):
    api = client_for(make_patient().user)
    api.get("/api/v1/doctors")
    doctor.name = "Dr. Anna Weiss"
    doctor.save()

    assert "Dr. Anna Weiss" in api.get("/api/v1/doctors").text


def test_control_with_one_key_for_every_answer_the_doctor_list_api_misses_a_new_type(
    doctor, monkeypatch
):
    monkeypatch.setattr(
        scheduling_api, "answer_key", lambda kind, *parts: f"answer:{kind}:always-the-same"
    )
    api = client_for(make_patient().user)
    api.get("/api/v1/doctors")

    scheduling_services.add_appointment_type(
        doctor=doctor, name="Vaccination", duration=dt.timedelta(minutes=15)
    )

    stale = api.get("/api/v1/doctors")
    assert kept(stale)
    assert "Vaccination" not in stale.text


@pytest.mark.parametrize("path", [LIST, SEARCH, SLOTS, "/api/v1/doctors"])
def test_a_doctor_who_joins_or_leaves_shows_in_the_kept_answers_at_once(doctor, path):
    """The doctors' rows are read on every request (the query's SQL alone is kept by
    each process), so a doctor added or made inactive, even behind the services' back
    (an ``update()`` sends no signal), changes the key of the very next answer."""
    api = client_for(make_patient().user)
    api.get(path)
    assert kept(api.get(path))

    newcomer = make_doctor(doctor.clinic, name="Dr. Carla Neu")
    assert "Dr. Carla Neu" in api.get(path).text
    assert kept(api.get(path))

    Doctor.objects.filter(pk=newcomer.pk).update(is_active=False)
    assert "Dr. Carla Neu" not in api.get(path).text
