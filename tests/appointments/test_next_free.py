"""``next_free_slots``: every doctor's first free time, for the list of doctors.

Time is frozen at Wednesday 4 March 2026, 08:00 UTC (09:00 in Berlin, 17:00 in Tokyo);
with two hours' notice the first bookable time in Berlin is 11:00.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.free_times import doctor_free_slots, next_free_slots
from scheduling.availability import Interval
from scheduling.models import Clinic, Doctor, TimeOff
from scheduling.selectors import bookable_doctors
from tests.factories import book, local, make_clinic, make_doctor, make_patient, make_type

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def first_of_fortnight(doctor: Doctor) -> Interval | None:
    """What the one-doctor selector says, the reference ``next_free_slots`` must match."""
    appointment_type = doctor.appointment_types.filter(is_active=True).first()
    assert appointment_type is not None
    today = timezone.now().astimezone(doctor.clinic.zone).date()
    slots = doctor_free_slots(
        doctor=doctor,
        appointment_type=appointment_type,
        first_day=today,
        last_day=today + dt.timedelta(days=13),
    )
    return slots[0] if slots else None


def start_of(slot: Interval | None) -> dt.datetime | None:
    return slot.start if slot else None


def away(doctor: Doctor, first_day: dt.date, last_day: dt.date) -> None:
    TimeOff.objects.create(doctor=doctor, start_date=first_day, end_date=last_day)


def test_it_finds_the_first_time_after_the_minimum_notice(frozen_now):
    doctor = make_doctor()

    found = next_free_slots([doctor])

    assert found == {
        doctor.pk: Interval(
            dt.datetime(2026, 3, 4, 10, 0, tzinfo=UTC), dt.datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
        )
    }


def test_it_skips_booked_times(frozen_now):
    doctor = make_doctor()
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 4, 11))

    slot = next_free_slots([doctor])[doctor.pk]

    assert slot is not None
    assert slot.start == local(doctor.clinic, 2026, 3, 4, 11, 30)


def test_it_looks_past_time_off_into_the_following_weeks(frozen_now):
    # Away until Friday 13 March: the first time is on day 12 of the fortnight.
    doctor = make_doctor()
    away(doctor, dt.date(2026, 3, 4), dt.date(2026, 3, 13))

    slot = next_free_slots([doctor])[doctor.pk]

    assert slot is not None
    assert slot.start == local(doctor.clinic, 2026, 3, 16, 9)


def test_it_says_none_when_nothing_is_free_within_the_days(frozen_now):
    doctor = make_doctor()
    away(doctor, dt.date(2026, 3, 4), dt.date(2026, 3, 31))

    assert next_free_slots([doctor]) == {doctor.pk: None}
    assert next_free_slots([doctor], days=40)[doctor.pk] is not None


def test_a_doctor_without_an_active_type_has_no_free_time(frozen_now):
    doctor = make_doctor()
    doctor.appointment_types.update(is_active=False)

    assert next_free_slots([doctor]) == {doctor.pk: None}


def test_it_uses_the_doctors_first_active_type_the_shortest(frozen_now):
    # Twenty minutes a day: room for a 15-minute follow-up, never for the consultation.
    doctor = make_doctor(hours=(dt.time(11), dt.time(11, 20)))
    make_type(doctor, 15, "Follow-up")

    slot = next_free_slots(list(bookable_doctors()))[doctor.pk]

    assert slot == Interval(
        local(doctor.clinic, 2026, 3, 4, 11), local(doctor.clinic, 2026, 3, 4, 11, 15)
    )


def test_each_clinic_counts_from_its_own_today(frozen_now):
    # 17:00 in Tokyo: the doctor's Wednesday is over, Thursday 9:00 JST comes first.
    tokyo = make_doctor(make_clinic(timezone="Asia/Tokyo"))
    new_york = make_doctor(make_clinic(timezone="America/New_York"))

    found = next_free_slots([tokyo, new_york])

    assert found[tokyo.pk] == first_of_fortnight(tokyo)
    assert start_of(found[tokyo.pk]) == local(tokyo.clinic, 2026, 3, 5, 9)
    assert found[new_york.pk] == first_of_fortnight(new_york)
    assert start_of(found[new_york.pk]) == local(new_york.clinic, 2026, 3, 4, 9)


def test_it_agrees_with_the_one_doctor_selector_for_every_doctor(frozen_now):
    berlin = make_clinic()
    doctors = [
        make_doctor(berlin),
        make_doctor(berlin, duration=dt.timedelta(minutes=45)),
        make_doctor(berlin, weekdays=(5,)),  # Saturdays only
        make_doctor(make_clinic(timezone="Asia/Tokyo")),
        make_doctor(make_clinic(timezone="America/New_York"), hours=(dt.time(7), dt.time(8))),
        make_doctor(berlin),
    ]
    for hour in range(11, 17):  # the rest of Wednesday
        for minute in (0, 30):
            book(make_patient(), doctors[0], local(berlin, 2026, 3, 4, hour, minute))
    away(doctors[1], dt.date(2026, 3, 4), dt.date(2026, 3, 10))
    away(doctors[5], dt.date(2026, 3, 1), dt.date(2026, 4, 1))

    found = next_free_slots(doctors)

    assert found == {doctor.pk: first_of_fortnight(doctor) for doctor in doctors}
    assert start_of(found[doctors[0].pk]) == local(berlin, 2026, 3, 5, 9)
    assert found[doctors[5].pk] is None


def test_its_queries_do_not_grow_with_the_number_of_doctors(
    frozen_now, django_assert_max_num_queries
):
    # Away until the second Wednesday, so that the search reads every window of
    # appointments (1, 2, 4 and 7 days) before it finds a time.
    def away_doctor(clinic: Clinic) -> None:
        away(make_doctor(clinic), dt.date(2026, 3, 4), dt.date(2026, 3, 10))

    berlin = make_clinic()
    away_doctor(berlin)
    doctors = list(bookable_doctors())
    with CaptureQueriesContext(connection) as one_doctor:
        next_free_slots(doctors)
    tokyo = make_clinic(timezone="Asia/Tokyo")
    for number in range(20):
        away_doctor(berlin if number % 2 else tokyo)
    # The first doctor by pk: names sort "Dr. Test 100" before "Dr. Test 99".
    first = doctors[0]
    book(make_patient(), first, local(berlin, 2026, 3, 11, 9))
    doctors = list(bookable_doctors())

    # The cache (one get_many), weekly hours, extra hours, time off, the appointments of
    # the fortnight, and the new entries stored (a count and one upsert, in a savepoint
    # inside the test's transaction).
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as many:
        found = next_free_slots(doctors)
    # Then from the cache alone.
    with django_assert_max_num_queries(1):
        assert next_free_slots(doctors) == found

    assert len(one_doctor) == len(many)
    assert len(found) == 21
    assert all(slot is not None for slot in found.values())
    assert start_of(found[first.pk]) == local(berlin, 2026, 3, 11, 9, 30)


def test_it_loads_clinics_and_types_itself_when_they_were_not_prefetched(
    frozen_now, django_assert_max_num_queries
):
    for _ in range(5):
        make_doctor()

    doctors = list(Doctor.objects.all())

    # Clinics, types, the cache, weekly hours, extra hours, time off, appointments, and
    # the entries stored (a count and one upsert in a savepoint).
    with django_assert_max_num_queries(11):
        found = next_free_slots(doctors)

    assert all(slot is not None for slot in found.values())


def test_no_doctors_need_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert next_free_slots([]) == {}
