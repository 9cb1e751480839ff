"""Search across doctors (``appointments.search``, ``GET /api/v1/slots``): the soonest
free times of every doctor who fits, the same times each doctor's own page shows.

Time is frozen at Wednesday 4 March 2026, 08:00 UTC (09:00 in Berlin); with two hours'
notice the first bookable time in Berlin is 11:00 (10:00 UTC).
"""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from appointments.free_times import doctor_free_slots
from appointments.search import search_free_times
from scheduling.models import Doctor, TimeOff
from tests.api.helpers import assert_problem
from tests.factories import book, consultation, local, make_clinic, make_doctor, make_patient

pytestmark = pytest.mark.django_db

WEDNESDAY = dt.date(2026, 3, 4)


def starts(found) -> list[dt.datetime]:
    return [each.start for each in found]


def test_it_lists_the_soonest_times_across_doctors_in_start_order(frozen_now):
    clinic = make_clinic()
    morning = make_doctor(clinic, name="Dr. Anna Weber")
    afternoon = make_doctor(clinic, name="Dr. Lena Koch", hours=(dt.time(14), dt.time(17)))

    found = search_free_times(first_day=WEDNESDAY, last_day=WEDNESDAY)

    assert starts(found) == sorted(starts(found))
    assert found[0].doctor == morning
    assert found[0].start == local(clinic, 2026, 3, 4, 11)
    first_afternoon = next(each for each in found if each.doctor == afternoon)
    assert first_afternoon.start == local(clinic, 2026, 3, 4, 14)
    assert {each.doctor for each in found} == {morning, afternoon}


def test_times_at_the_same_moment_come_by_surname(frozen_now):
    clinic = make_clinic()
    make_doctor(clinic, name="Dr. Anna Zimmer")
    make_doctor(clinic, name="Dr. Zoe Adler")

    found = search_free_times(first_day=WEDNESDAY, last_day=WEDNESDAY)

    assert [each.doctor.name for each in found[:2]] == ["Dr. Zoe Adler", "Dr. Anna Zimmer"]


def test_each_doctors_times_are_exactly_those_of_their_own_page(frozen_now):
    berlin = make_clinic()
    tokyo = make_clinic(timezone="Asia/Tokyo", booking_horizon=dt.timedelta(days=5))
    doctors = [make_doctor(berlin), make_doctor(tokyo), make_doctor(berlin, weekdays=(4,))]
    book(make_patient(), doctors[0], local(berlin, 2026, 3, 5, 10))
    TimeOff.objects.create(doctor=doctors[1], start_date=WEDNESDAY, end_date=dt.date(2026, 3, 5))
    last = WEDNESDAY + dt.timedelta(days=9)

    found = search_free_times(first_day=WEDNESDAY, last_day=last)

    assert starts(found) == sorted(starts(found))
    for doctor in doctors:
        own = doctor_free_slots(
            doctor=doctor, appointment_type=consultation(doctor), first_day=WEDNESDAY, last_day=last
        )
        assert [each.slot for each in found if each.doctor == doctor] == own


def test_it_respects_the_minimum_notice_the_horizon_and_time_off(frozen_now):
    clinic = make_clinic(min_notice=dt.timedelta(hours=4), booking_horizon=dt.timedelta(days=2))
    doctor = make_doctor(clinic)
    TimeOff.objects.create(
        doctor=doctor,
        start_date=WEDNESDAY,
        end_date=WEDNESDAY,
        start_time=dt.time(14),
        end_time=dt.time(15),
    )

    found = search_free_times(first_day=WEDNESDAY, last_day=WEDNESDAY + dt.timedelta(days=20))

    assert found[0].start == local(clinic, 2026, 3, 4, 13)  # four hours after 09:00
    assert all(each.start <= local(clinic, 2026, 3, 6, 9) for each in found)  # two days ahead
    assert local(clinic, 2026, 3, 4, 14) not in starts(found)
    assert local(clinic, 2026, 3, 4, 14, 30) not in starts(found)
    assert local(clinic, 2026, 3, 4, 15) in starts(found)


def test_booked_times_are_not_offered(frozen_now):
    doctor = make_doctor()
    taken = local(doctor.clinic, 2026, 3, 4, 11)
    book(make_patient(), doctor, taken)

    found = search_free_times(first_day=WEDNESDAY, last_day=WEDNESDAY)

    assert taken not in starts(found)
    assert found[0].start == local(doctor.clinic, 2026, 3, 4, 11, 30)


def test_it_filters_by_specialty_clinic_language_and_type(frozen_now):
    berlin, vienna = make_clinic(slug="berlin"), make_clinic(slug="vienna")
    dermatologist = make_doctor(berlin, specialty="Dermatology", languages="de,tr")
    make_doctor(berlin, specialty="Cardiology", languages="de")
    viennese = make_doctor(vienna, specialty="Dermatology", languages="en")
    viennese.appointment_types.create(name="Skin check", duration=dt.timedelta(minutes=20))

    def doctors(**filters) -> set[Doctor]:
        found = search_free_times(first_day=WEDNESDAY, last_day=WEDNESDAY, **filters)
        return {each.doctor for each in found}

    assert doctors(specialty="Dermatology") == {dermatologist, viennese}
    assert doctors(clinic_slug="vienna") == {viennese}
    assert doctors(clinic_id=berlin.pk, specialty="Dermatology") == {dermatologist}
    assert doctors(language="tr") == {dermatologist}
    assert doctors(language="en") == {viennese}
    assert doctors(type_name="skin CHECK") == {viennese}
    skin = search_free_times(first_day=WEDNESDAY, last_day=WEDNESDAY, type_name="Skin check")
    assert {each.appointment_type.name for each in skin} == {"Skin check"}
    assert skin[1].start - skin[0].start == dt.timedelta(minutes=20)


def test_without_dates_it_searches_a_week_from_today(frozen_now):
    doctor = make_doctor()

    found = search_free_times()

    assert found[0].start == local(doctor.clinic, 2026, 3, 4, 11)
    assert found[-1].start.astimezone(doctor.clinic.zone).date() == dt.date(2026, 3, 10)


def test_it_stops_at_the_limit_with_the_soonest_times(frozen_now):
    berlin = make_clinic()
    tokyo = make_clinic(timezone="Asia/Tokyo")
    make_doctor(berlin)
    make_doctor(tokyo)
    everything = search_free_times(first_day=WEDNESDAY, last_day=WEDNESDAY + dt.timedelta(days=20))

    first = search_free_times(
        first_day=WEDNESDAY, last_day=WEDNESDAY + dt.timedelta(days=20), limit=7
    )

    assert first == everything[:7]


@pytest.mark.parametrize("count", [1, 10])
def test_the_queries_do_not_grow_with_the_number_of_doctors(
    frozen_now, django_assert_max_num_queries, count
):
    clinics = [make_clinic(), make_clinic(timezone="America/New_York")]
    for number in range(count):
        doctor = make_doctor(clinics[number % 2])
        if number < 4:
            book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
        TimeOff.objects.create(doctor=doctor, start_date=WEDNESDAY, end_date=WEDNESDAY)

    last = WEDNESDAY + dt.timedelta(days=30)
    # Doctors and their types (2); windows of 1, 2, 4, 8, 16 days, each a read of the
    # cache and its bookings; the hours, once (3); the entries stored (a count and an
    # upsert, in a savepoint in the test's transaction).
    with django_assert_max_num_queries(19):
        found = search_free_times(first_day=WEDNESDAY, last_day=last)
    # From the cache: the doctors and their types, a read of each window's entries.
    with django_assert_max_num_queries(7):
        again = search_free_times(first_day=WEDNESDAY, last_day=last)

    assert len(found) > 0
    assert again == found


def test_a_booking_leaves_the_cached_search_at_once(frozen_now):
    doctor = make_doctor()
    first = search_free_times(first_day=WEDNESDAY, last_day=WEDNESDAY)[0]  # now cached

    book(make_patient(), doctor, first.start)

    assert first.start not in starts(search_free_times(first_day=WEDNESDAY, last_day=WEDNESDAY))


# --- The API ----------------------------------------------------------------------------


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def test_the_api_answers_the_soonest_times_a_page_at_a_time(frozen_now, anonymous):
    doctor = make_doctor(name="Dr. Anna Weber", specialty="Dermatology")

    response = anonymous.get(
        "/api/v1/slots", {"specialty": "Dermatology", "from": "2026-03-04", "page_size": 3}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 12 + 4 * 16  # Wed 11:00-17:00, then Thu, Fri, Mon, Tue
    assert body["next"]
    assert body["results"][0] == {
        "doctor": {
            "id": doctor.pk,
            "name": "Dr. Anna Weber",
            "specialty": "Dermatology",
            "clinic": doctor.clinic_id,
        },
        "appointment_type": {
            "id": consultation(doctor).pk,
            "name": "Consultation",
            "duration_minutes": 30,
        },
        "start": "2026-03-04T11:00:00+01:00",
        "end": "2026-03-04T11:30:00+01:00",
    }


def test_the_api_filters_by_language_and_clinic(frozen_now, anonymous):
    clinic = make_clinic()
    turkish = make_doctor(clinic, languages="de,tr")
    make_doctor(clinic, languages="de")
    make_doctor(languages="tr")

    response = anonymous.get("/api/v1/slots", {"language": "tr", "clinic": clinic.pk})

    assert response.status_code == 200, response.content
    assert {item["doctor"]["id"] for item in response.json()["results"]} == {turkish.pk}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-03-04", "to": "2026-04-04"}, "to"),  # 32 days
        ({"to": "2026-06-01"}, "to"),
        ({"from": "2026-03-10", "to": "2026-03-09"}, "to"),
        ({"from": "2026-02-30"}, "from"),
        ({"from": "tomorrow"}, "from"),
        ({"from": "0001-01-01"}, "from"),
        ({"language": "xx"}, "language"),
        ({"clinic": "berlin"}, "clinic"),
    ],
)
def test_bad_ranges_and_filters_are_a_400_that_names_the_field(frozen_now, anonymous, query, field):
    make_doctor()

    response = anonymous.get("/api/v1/slots", query)

    body = assert_problem(response, 400, "invalid_request")
    assert field in str(body), body


def test_thirty_one_days_are_allowed(frozen_now, anonymous):
    make_doctor()

    response = anonymous.get("/api/v1/slots", {"from": "2026-03-04", "to": "2026-04-03"})

    assert response.status_code == 200, response.content


def test_the_api_doctor_list_shows_and_filters_languages(anonymous):
    speaker = make_doctor(languages="de,tr")
    make_doctor(languages="en")

    response = anonymous.get("/api/v1/doctors", {"language": "tr"})

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [item["id"] for item in results] == [speaker.pk]
    assert results[0]["languages"] == ["de", "tr"]
