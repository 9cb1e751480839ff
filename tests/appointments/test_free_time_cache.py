"""Cached free times (appointments.free_times, docs/performance.md): keyed by the doctor's
``availability_version``, which every change bumps in its own transaction, so that what
anyone reads after a commit is never the cached past; the booking path never reads the
cache at all.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``); doctors work Mon-Fri 9-17 in
30-minute slots.
"""

import datetime as dt
import html
import re
import time
from urllib.parse import unquote

import pytest
from django.core.cache import cache
from django.test import Client

from appointments import free_times, notifications, services
from appointments.exceptions import SlotUnavailable
from appointments.models import Appointment, Status
from scheduling import services as scheduling_services
from scheduling.models import Doctor
from scheduling.selectors import bookable_doctors
from tests.factories import (
    book,
    consultation,
    local,
    log_in,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

SLOT_LINK = re.compile(r'href="(/appointments/new/\?[^"]+)"')


@pytest.fixture
def doctor() -> Doctor:
    return make_doctor(make_clinic())


def monday(doctor: Doctor, hour: int, minute: int = 0) -> dt.datetime:
    at: dt.datetime = local(doctor.clinic, 2026, 3, 9, hour, minute)
    return at


def version(doctor: Doctor) -> int:
    return Doctor.objects.get(pk=doctor.pk).availability_version


def fresh(doctor: Doctor) -> Doctor:
    """The doctor as a request loads it: with the current version."""
    return bookable_doctors().get(pk=doctor.pk)


def shown_week(doctor: Doctor) -> list[dt.datetime]:
    return [
        slot.start
        for slot in free_times.shown_free_slots(
            doctor=fresh(doctor),
            appointment_type=consultation(doctor),
            first_day=dt.date(2026, 3, 9),
            last_day=dt.date(2026, 3, 15),
        )
    ]


def starts_on_week_page(client: Client, doctor: Doctor) -> set[str]:
    page = client.get(f"/doctors/{doctor.pk}/?week=2026-03-09").text
    links = [unquote(html.unescape(link)) for link in SLOT_LINK.findall(page)]
    return {re.search(r"start=([^&]+)", link).group(1) for link in links}  # type: ignore[union-attr]


def starts_from_api(client: Client, doctor: Doctor) -> set[dt.datetime]:
    response = client.get(f"/api/v1/doctors/{doctor.pk}/availability?from=2026-03-09&to=2026-03-09")
    return {dt.datetime.fromisoformat(slot["start"]) for slot in response.json()}


# --- The cached answer is the uncached one ---------------------------------------------


def test_the_cached_week_equals_the_database_one(doctor):
    book(make_patient(), doctor, monday(doctor, 10))
    computed = free_times.doctor_free_slots(
        doctor=doctor,
        appointment_type=consultation(doctor),
        first_day=dt.date(2026, 3, 9),
        last_day=dt.date(2026, 3, 15),
    )

    assert shown_week(doctor) == [slot.start for slot in computed]  # stored
    assert shown_week(doctor) == [slot.start for slot in computed]  # read back


def test_a_cached_week_needs_no_query(doctor, django_assert_num_queries):
    shown_week(doctor)
    loaded, kind = fresh(doctor), consultation(doctor)

    with django_assert_num_queries(1):  # the cache's own read
        free_times.shown_free_slots(
            doctor=loaded,
            appointment_type=kind,
            first_day=dt.date(2026, 3, 9),
            last_day=dt.date(2026, 3, 15),
        )


def test_times_that_became_too_soon_leave_the_cached_answer_as_the_clock_moves(doctor, frozen_now):
    today = dt.date(2026, 3, 4)
    loaded, kind = fresh(doctor), consultation(doctor)
    before = free_times.shown_free_slots(
        doctor=loaded, appointment_type=kind, first_day=today, last_day=today
    )
    frozen_now.shift(dt.timedelta(hours=3))  # 12:00 in Berlin; nothing was booked

    after = free_times.shown_free_slots(
        doctor=loaded, appointment_type=kind, first_day=today, last_day=today
    )

    assert version(doctor) == loaded.availability_version  # the same entry
    assert after == free_times.doctor_free_slots(
        doctor=loaded, appointment_type=kind, first_day=today, last_day=today
    )
    assert len(after) < len(before)


def test_the_next_free_time_moves_on_when_the_cached_one_became_too_soon(doctor, frozen_now):
    first = free_times.next_free_slots([fresh(doctor)])[doctor.pk]
    frozen_now.shift(dt.timedelta(hours=1))

    later = free_times.next_free_slots([fresh(doctor)])[doctor.pk]

    assert first is not None
    assert later is not None
    assert later.start > first.start
    assert (
        later
        == free_times.doctor_free_slots(
            doctor=doctor,
            appointment_type=consultation(doctor),
            first_day=dt.date(2026, 3, 4),
            last_day=dt.date(2026, 3, 17),
        )[0]
    )


def test_the_next_free_time_is_found_after_the_days_a_stored_entry_covered(doctor, frozen_now):
    # An entry stops at the first day with a bookable time (Wednesday): once Wednesday's
    # times are all too soon, the entry cannot answer and is made again.
    free_times.next_free_slots([fresh(doctor)])
    frozen_now.shift(dt.timedelta(hours=8))  # 17:00 in Berlin: Wednesday is over

    found = free_times.next_free_slots([fresh(doctor)])[doctor.pk]

    assert found is not None
    assert found.start == local(doctor.clinic, 2026, 3, 5, 9)


# --- Every change bumps the version, in its transaction -------------------------------


def test_booking_cancelling_rescheduling_and_attendance_each_bump_the_version(doctor, frozen_now):
    patient = make_patient()
    staff = make_staff(clinics=(doctor.clinic,))
    seen = [version(doctor)]

    appointment = book(patient, doctor, monday(doctor, 10))
    seen.append(version(doctor))
    appointment = services.reschedule_appointment(
        appointment=appointment, starts_at=monday(doctor, 11), rescheduled_by=patient.user
    )
    seen.append(version(doctor))
    services.cancel_appointment(appointment=appointment, cancelled_by=patient.user)
    seen.append(version(doctor))
    attended = book(make_patient(), doctor, monday(doctor, 12))
    seen.append(version(doctor))
    frozen_now.move_to(monday(doctor, 12, 30))
    services.mark_attendance(appointment=attended, status=Status.COMPLETED, marked_by=staff)
    seen.append(version(doctor))

    assert seen == sorted(set(seen))  # each step bumped it
    assert len(seen) == 6


def test_changes_of_hours_and_time_off_bump_the_version(doctor):
    staff = make_staff(clinics=(doctor.clinic,))
    seen = [version(doctor)]

    rule = scheduling_services.add_weekly_interval(
        doctor=doctor, weekday=5, start_time=dt.time(9), end_time=dt.time(12), changed_by=staff
    )
    seen.append(version(doctor))
    scheduling_services.remove_weekly_interval(rule=rule, changed_by=staff)
    seen.append(version(doctor))
    time_off = scheduling_services.add_time_off(
        doctor=doctor,
        start_date=dt.date(2026, 3, 10),
        end_date=dt.date(2026, 3, 10),
        start_time=None,
        end_time=None,
        reason="Training",
        changed_by=staff,
    )
    seen.append(version(doctor))
    scheduling_services.remove_time_off(time_off=time_off, changed_by=staff)
    seen.append(version(doctor))
    scheduling_services.add_extra_hours(
        doctor=doctor,
        date=dt.date(2026, 3, 14),
        start_time=dt.time(9),
        end_time=dt.time(12),
        changed_by=staff,
    )
    seen.append(version(doctor))

    assert seen == sorted(set(seen))
    assert len(seen) == 6


def test_a_sick_day_bumps_the_version_and_empties_the_cached_day(doctor, frozen_now):
    staff = make_staff(clinics=(doctor.clinic,))
    book(make_patient(), doctor, monday(doctor, 10))
    assert shown_week(doctor)

    services.close_doctor_time(
        doctor=doctor,
        start_date=dt.date(2026, 3, 9),
        end_date=dt.date(2026, 3, 15),
        start_time=None,
        end_time=None,
        reason="Ill",
        cancel_booked=True,
        changed_by=staff,
    )

    assert shown_week(doctor) == []


def test_a_booking_that_rolls_back_leaves_the_version_as_it_was(doctor, monkeypatch):
    # The bump is inside the booking's transaction: it commits with the booking or not at all.
    before = version(doctor)

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the outbox is broken")

    monkeypatch.setattr(notifications, "queue_for_change", fail)
    with pytest.raises(RuntimeError):
        book(make_patient(), doctor, monday(doctor, 10))

    assert version(doctor) == before
    assert not Appointment.objects.exists()


def test_a_failed_booking_does_not_bump_the_version(doctor):
    book(make_patient(), doctor, monday(doctor, 10))
    before = version(doctor)

    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor, monday(doctor, 10))

    assert version(doctor) == before


# --- Read-your-writes through the pages and the API ---------------------------------------


def test_a_patient_never_sees_their_own_booked_time_as_free_on_the_next_request(doctor):
    client = Client()
    patient = make_patient()
    log_in(client, patient)
    ten = "2026-03-09T09:00:00Z"  # Monday 10:00 CET
    assert ten in starts_on_week_page(client, doctor)  # now cached

    page = client.get(
        f"/appointments/new/?doctor={doctor.pk}&type={consultation(doctor).pk}&start={ten}"
    ).text
    key = re.search(r'name="booking_key" value="([0-9a-f]{32})"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        f"/appointments/new/?doctor={doctor.pk}&type={consultation(doctor).pk}&start={ten}",
        {"reason": "Cough", "booking_key": key},
    )
    assert response.status_code == 303

    assert ten not in starts_on_week_page(client, doctor)
    assert monday(doctor, 10) not in starts_from_api(client, doctor)


def test_another_user_sees_the_time_taken_on_their_next_request(doctor):
    other = Client()
    log_in(other, make_patient())
    ten = "2026-03-09T09:00:00Z"
    assert ten in starts_on_week_page(other, doctor)
    assert monday(doctor, 10) in starts_from_api(other, doctor)

    book(make_patient(), doctor, monday(doctor, 10))

    assert ten not in starts_on_week_page(other, doctor)
    assert monday(doctor, 10) not in starts_from_api(other, doctor)


def test_a_cancelled_time_is_free_again_on_the_next_request(doctor):
    patient = make_patient()
    appointment = book(patient, doctor, monday(doctor, 10))
    client = Client()
    assert monday(doctor, 10) not in starts_from_api(client, doctor)

    services.cancel_appointment(appointment=appointment, cancelled_by=patient.user)

    assert monday(doctor, 10) in starts_from_api(client, doctor)


def test_the_doctor_list_shows_the_next_free_time_after_a_booking_took_the_first(doctor):
    client = Client()
    before = client.get("/doctors/").text  # stores the next free time
    first = free_times.next_free_slots([fresh(doctor)])[doctor.pk]
    assert first is not None

    book(make_patient(), doctor, first.start)

    after = free_times.next_free_slots([fresh(doctor)])[doctor.pk]
    assert after is not None
    assert after.start > first.start
    assert client.get("/doctors/").text != before


# --- The booking path never trusts the cache ----------------------------------------------


def test_booking_re_checks_the_database_even_when_the_cache_says_free(doctor):
    ten = monday(doctor, 10)
    assert ten in shown_week(doctor)
    # A write that did not bump the version (as no service would): the cache still shows
    # the time as free, the booking still refuses it.
    Appointment.objects.create(
        patient=make_patient(),
        doctor=doctor,
        appointment_type=consultation(doctor),
        starts_at=ten,
        ends_at=ten + dt.timedelta(minutes=30),
    )
    assert ten in shown_week(doctor)

    with pytest.raises(SlotUnavailable):
        book(make_patient(), doctor, ten)


# --- The database cache's writes -----------------------------------------------------------


def test_set_many_stores_any_number_of_keys_in_the_same_few_queries(
    django_assert_max_num_queries,
):
    cache.set_many({"one": 1})
    with django_assert_max_num_queries(4):  # count, upsert, and the test's savepoint
        cache.set_many({f"key-{n}": n for n in range(50)})

    assert cache.get_many(["one", "key-0", "key-49"]) == {"one": 1, "key-0": 0, "key-49": 49}


def test_set_many_overwrites_what_was_there():
    cache.set("key", "old")
    cache.set_many({"key": "new"})

    assert cache.get("key") == "new"


# --- The week's rendered days -------------------------------------------------------------


def test_the_rendered_week_changes_with_what_it_shows(doctor):
    client = Client()
    before = starts_on_week_page(client, doctor)
    assert starts_on_week_page(client, doctor) == before  # rendered from the fragment cache

    book(make_patient(), doctor, monday(doctor, 10))

    assert starts_on_week_page(client, doctor) == before - {"2026-03-09T09:00:00Z"}


def test_with_redis_the_rendered_week_is_shared_and_still_changes_with_what_it_shows(
    doctor, settings, redis_url
):
    # As with REDIS_URL (clinic/settings.py): the fragments in Redis, under a prefix.
    settings.CACHES = settings.CACHES | {
        "fragments": {
            "BACKEND": "clinic.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"fragments-test-{doctor.pk}-{time.time_ns()}",
        }
    }
    before = starts_on_week_page(Client(), doctor)
    assert starts_on_week_page(Client(), doctor) == before  # another client, from Redis

    book(make_patient(), doctor, monday(doctor, 10))

    assert starts_on_week_page(Client(), doctor) == before - {"2026-03-09T09:00:00Z"}


def test_the_week_fingerprint_names_every_slot_and_the_zone(doctor):
    kind = consultation(doctor)
    week = free_times.free_week(
        doctor=fresh(doctor), appointment_type=kind, day=dt.date(2026, 3, 9)
    )
    book(make_patient(), doctor, monday(doctor, 10))
    booked = free_times.free_week(
        doctor=fresh(doctor), appointment_type=kind, day=dt.date(2026, 3, 9)
    )
    tokyo = make_doctor(make_clinic(timezone="Asia/Tokyo"))
    elsewhere = free_times.free_week(
        doctor=fresh(tokyo), appointment_type=consultation(tokyo), day=dt.date(2026, 3, 9)
    )

    assert len({week.fingerprint, booked.fingerprint, elsewhere.fingerprint}) == 3
