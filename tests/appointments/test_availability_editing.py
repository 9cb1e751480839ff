"""Staff editing a doctor's hours: weekly intervals, time off, extra hours, types.

Time is frozen at Wednesday 4 March 2026, 08:00 UTC (09:00 in Berlin). Default doctors
work Monday to Friday, 9:00-17:00 Berlin time, in 30-minute consultations. Monday
9 March is the next Monday; Monday 30 March is the first Monday of summer time (CEST).
"""

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.free_times import availability_conflicts, doctor_free_slots
from appointments.models import Status
from scheduling import services
from scheduling.models import AppointmentType, ExtraHours, TimeOff, WeeklyAvailability
from scheduling.services import IntervalOverlaps, add_weekly_interval
from tests.concurrency import run_together
from tests.factories import (
    book,
    consultation,
    local,
    log_in,
    log_in_staff,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
    make_type,
    make_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

HTMX = {"HTTP_HX_REQUEST": "true"}
MONDAY = dt.date(2026, 3, 9)


@pytest.fixture
def doctor():
    return make_doctor(make_clinic())


@pytest.fixture
def staff(client: Client, doctor):
    user = make_staff(clinics=(doctor.clinic,))
    log_in_staff(client, user)
    return user


def url(name: str, *args: Any) -> str:
    # The list of doctors is scheduling's page; a doctor's hours page (it shows the
    # bookings a change leaves out) is the appointments app's.
    namespace = "staff_scheduling" if name == "doctors" else "staff_appointments"
    return reverse(f"{namespace}:{name}", args=args)


def page(client: Client, doctor) -> str:
    response = client.get(url("availability", doctor.pk))
    assert response.status_code == 200
    return response.content.decode()


def monday_rules(doctor) -> list[tuple[dt.time, dt.time]]:
    return list(
        WeeklyAvailability.objects.filter(doctor=doctor, weekday=0)
        .order_by("start_time")
        .values_list("start_time", "end_time")
    )


def free_starts(doctor, day: dt.date) -> list[str]:
    zone = doctor.clinic.zone
    return [
        f"{slot.start.astimezone(zone):%H:%M}"
        for slot in doctor_free_slots(
            doctor=doctor, appointment_type=consultation(doctor), first_day=day, last_day=day
        )
    ]


# --- Doctors list and the page ------------------------------------------------------------


def test_the_doctors_page_lists_only_doctors_of_the_staff_members_clinics(client, doctor, staff):
    other = make_doctor(make_clinic(), name="Dr. Elsewhere")
    response = client.get(url("doctors"))
    content = response.content.decode()
    assert response.status_code == 200
    assert url("availability", doctor.pk) in content
    assert other.name not in content
    assert url("availability", other.pk) not in content


def test_the_staff_home_links_to_the_doctors_hours(client, doctor, staff):
    content = client.get(reverse("staff_appointments:home")).content.decode()
    assert f"{url('doctors')}#doctors-{doctor.clinic.pk}" in content


def test_the_page_shows_the_weekly_hours_per_weekday(client, doctor, staff):
    content = page(client, doctor)
    assert 'id="weekday-0"' in content
    assert 'id="weekday-6"' in content
    assert 'value="09:00"' in content
    assert "Sunday" in content


@pytest.mark.parametrize("path", ["doctors", "availability"])
def test_it_sends_non_staff_to_the_staff_login(client, doctor, path):
    log_in(client, make_patient())
    args = (doctor.pk,) if path == "availability" else ()
    response = client.get(url(path, *args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("staff:login"))


def test_it_sends_staff_without_an_authenticator_code_to_the_staff_login(client, doctor):
    client.force_login(make_staff(clinics=(doctor.clinic,)))
    response = client.get(url("availability", doctor.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("staff:login"))


# --- Weekly intervals -----------------------------------------------------------------------


def test_it_adds_an_interval_and_records_who_and_why(client, doctor, staff):
    response = client.post(
        url("interval-add", doctor.pk),
        {"weekday": 5, "start_time": "09:00", "end_time": "12:00"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#weekday-5")
    rule = WeeklyAvailability.objects.get(doctor=doctor, weekday=5)
    record = rule.history.get()
    assert record.history_user == staff
    assert record.history_change_reason == "added Sat 09:00-12:00"


def test_an_added_interval_answers_htmx_with_the_weekday_block_only(client, doctor, staff):
    response = client.post(
        url("interval-add", doctor.pk),
        {"weekday": 5, "start_time": "09:00", "end_time": "12:00"},
        **HTMX,
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="weekday-5"' in content
    assert 'value="09:00"' in content
    assert 'id="weekday-4"' not in content
    assert "<html" not in content
    assert 'hx-swap-oob="innerHTML:#conflicts"' in content


def test_it_changes_an_interval(client, doctor, staff):
    rule = WeeklyAvailability.objects.get(doctor=doctor, weekday=0)
    response = client.post(
        url("interval-change", doctor.pk, rule.pk), {"start_time": "10:00", "end_time": "16:00"}
    )
    assert response.status_code == 302
    assert monday_rules(doctor) == [(dt.time(10), dt.time(16))]
    record = rule.history.latest()
    assert record.history_user == staff
    assert record.history_change_reason == "changed Mon 09:00-17:00 to 10:00-16:00"
    assert free_starts(doctor, MONDAY)[0] == "10:00"


def test_it_changes_an_interval_with_htmx(client, doctor, staff):
    rule = WeeklyAvailability.objects.get(doctor=doctor, weekday=0)
    response = client.post(
        url("interval-change", doctor.pk, rule.pk),
        {"start_time": "10:00", "end_time": "16:00"},
        **HTMX,
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="weekday-0"' in content
    assert 'value="10:00"' in content
    assert "<html" not in content


def test_it_removes_an_interval_and_records_the_deletion(client, doctor, staff):
    rule = WeeklyAvailability.objects.get(doctor=doctor, weekday=0)
    response = client.post(url("interval-remove", doctor.pk, rule.pk), **HTMX)
    assert response.status_code == 200
    assert 'id="weekday-0"' in response.content.decode()
    assert "Not working." in response.content.decode()
    assert monday_rules(doctor) == []
    record = WeeklyAvailability.history.filter(id=rule.pk).latest()
    assert record.history_type == "-"
    assert record.history_user == staff
    assert record.history_change_reason == "removed Mon 09:00-17:00"
    assert free_starts(doctor, MONDAY) == []


def test_it_refuses_an_overlapping_interval_with_an_inline_error(client, doctor, staff):
    response = client.post(
        url("interval-add", doctor.pk),
        {"weekday": 0, "start_time": "16:00", "end_time": "18:00"},
        **HTMX,
    )
    content = response.content.decode()
    assert response.status_code == 409
    assert "overlaps Mon 09:00-17:00" in content
    assert 'id="weekday-0"' in content
    assert monday_rules(doctor) == [(dt.time(9), dt.time(17))]


def test_it_refuses_an_overlapping_change_without_javascript(client, doctor, staff):
    add_weekly_interval(
        doctor=doctor,
        weekday=0,
        start_time=dt.time(18),
        end_time=dt.time(19),
        changed_by=staff,
    )
    rule = WeeklyAvailability.objects.get(doctor=doctor, weekday=0, start_time=dt.time(18))
    response = client.post(
        url("interval-change", doctor.pk, rule.pk), {"start_time": "16:30", "end_time": "19:00"}
    )
    content = response.content.decode()
    assert response.status_code == 409
    assert "<html" in content
    assert "overlaps Mon 09:00-17:00" in content
    assert monday_rules(doctor) == [(dt.time(9), dt.time(17)), (dt.time(18), dt.time(19))]


def test_it_refuses_an_end_that_is_not_after_the_start(client, doctor, staff):
    response = client.post(
        url("interval-add", doctor.pk),
        {"weekday": 5, "start_time": "12:00", "end_time": "12:00"},
        **HTMX,
    )
    assert response.status_code == 400
    assert "The end must be after the start." in response.content.decode()
    assert not WeeklyAvailability.objects.filter(doctor=doctor, weekday=5).exists()


def test_the_service_refuses_an_overlap_with_a_domain_error(doctor):
    with pytest.raises(IntervalOverlaps):
        add_weekly_interval(
            doctor=doctor,
            weekday=0,
            start_time=dt.time(8),
            end_time=dt.time(9, 30),
            changed_by=make_user(),
        )


def test_an_interval_touching_another_is_not_an_overlap(client, doctor, staff):
    response = client.post(
        url("interval-add", doctor.pk),
        {"weekday": 0, "start_time": "17:00", "end_time": "18:00"},
    )
    assert response.status_code == 302
    assert monday_rules(doctor) == [(dt.time(9), dt.time(17)), (dt.time(17), dt.time(18))]


# --- Time off and extra hours -----------------------------------------------------------


def test_time_off_is_added_listed_and_removes_free_times(client, doctor, staff):
    response = client.post(
        url("time-off-add", doctor.pk),
        {"start_date": "2026-03-09", "end_date": "2026-03-09", "reason": "Conference"},
    )
    assert response.status_code == 302
    assert free_starts(doctor, MONDAY) == []
    time_off = TimeOff.objects.get(doctor=doctor)
    assert time_off.history.get().history_user == staff
    assert "Conference" in page(client, doctor)


def test_time_off_with_times_blocks_only_those_times(client, doctor, staff):
    client.post(
        url("time-off-add", doctor.pk),
        {
            "start_date": "2026-03-09",
            "end_date": "2026-03-09",
            "start_time": "09:00",
            "end_time": "12:00",
        },
    )
    assert free_starts(doctor, MONDAY)[0] == "12:00"


def test_time_off_that_ends_before_it_starts_is_refused(client, doctor, staff):
    response = client.post(
        url("time-off-add", doctor.pk), {"start_date": "2026-03-10", "end_date": "2026-03-09"}
    )
    assert response.status_code == 400
    assert "The end must be after the start." in response.content.decode()
    assert not TimeOff.objects.exists()


def test_removing_time_off_gives_the_free_times_back(client, doctor, staff):
    time_off = TimeOff.objects.create(doctor=doctor, start_date=MONDAY, end_date=MONDAY)
    response = client.post(url("time-off-remove", doctor.pk, time_off.pk))
    assert response.status_code == 302
    assert not TimeOff.objects.exists()
    assert free_starts(doctor, MONDAY)[0] == "09:00"
    record = TimeOff.history.filter(id=time_off.pk).latest()
    assert (record.history_type, record.history_user) == ("-", staff)


def test_past_time_off_is_not_listed(client, doctor, staff):
    TimeOff.objects.create(
        doctor=doctor,
        start_date=dt.date(2026, 2, 2),
        end_date=dt.date(2026, 2, 3),
        reason="Winter holiday",
    )
    assert "Winter holiday" not in page(client, doctor)


def test_extra_hours_are_added_and_give_free_times(client, doctor, staff):
    saturday = dt.date(2026, 3, 7)
    assert free_starts(doctor, saturday) == []
    response = client.post(
        url("extra-hours-add", doctor.pk),
        {"date": "2026-03-07", "start_time": "10:00", "end_time": "11:00"},
    )
    assert response.status_code == 302
    assert free_starts(doctor, saturday) == ["10:00", "10:30"]
    assert ExtraHours.objects.get().history.get().history_user == staff
    assert "Sat 7 Mar 2026" in page(client, doctor)


def test_extra_hours_ending_before_they_start_are_refused(client, doctor, staff):
    response = client.post(
        url("extra-hours-add", doctor.pk),
        {"date": "2026-03-07", "start_time": "11:00", "end_time": "10:00"},
    )
    assert response.status_code == 400
    assert "The end must be after the start." in response.content.decode()
    assert not ExtraHours.objects.exists()


def test_removing_extra_hours_takes_their_free_times_away(client, doctor, staff):
    saturday = dt.date(2026, 3, 7)
    hours = ExtraHours.objects.create(
        doctor=doctor, date=saturday, start_time=dt.time(10), end_time=dt.time(11)
    )
    response = client.post(url("extra-hours-remove", doctor.pk, hours.pk))
    assert response.status_code == 302
    assert free_starts(doctor, saturday) == []


# --- Appointment types ----------------------------------------------------------------------


def test_it_adds_an_appointment_type(client, doctor, staff):
    response = client.post(url("type-add", doctor.pk), {"name": "Check-up", "duration": "45"})
    assert response.status_code == 302
    added = AppointmentType.objects.get(doctor=doctor, name="Check-up")
    assert added.duration == dt.timedelta(minutes=45)
    assert added.is_active


def test_it_refuses_a_type_shorter_than_five_minutes(client, doctor, staff):
    response = client.post(url("type-add", doctor.pk), {"name": "Blink", "duration": "2"})
    assert response.status_code == 400
    assert not AppointmentType.objects.filter(name="Blink").exists()


def test_it_deactivates_a_type_without_deleting_it(client, doctor, staff):
    other = make_type(doctor, 60, "Long")
    response = client.post(url("type-deactivate", doctor.pk, other.pk))
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.is_active is False


def test_it_refuses_to_deactivate_the_last_active_type(client, doctor, staff):
    only = consultation(doctor)
    response = client.post(url("type-deactivate", doctor.pk, only.pk))
    assert response.status_code == 422
    assert "only active appointment type" in response.content.decode()
    only.refresh_from_db()
    assert only.is_active


# --- Conflicts ------------------------------------------------------------------------------


def test_time_off_over_a_booked_appointment_lists_it_as_a_conflict(client, doctor, staff):
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    assert "Conflicts to resolve" not in page(client, doctor)
    client.post(
        url("time-off-add", doctor.pk),
        {"start_date": "2026-03-09", "end_date": "2026-03-09", "booked": "keep"},
    )
    content = page(client, doctor)
    assert "Conflicts to resolve" in content
    # Acted on right there (issue 12): no link into the admin, which staff may not open.
    assert reschedule_url(appointment, doctor) in content
    assert reverse("staff_appointments:cancel", args=[appointment.pk]) in content
    assert "/admin/" not in content
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def test_removing_hours_with_htmx_updates_the_conflicts(client, doctor, staff):
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    rule = WeeklyAvailability.objects.get(doctor=doctor, weekday=0)
    response = client.post(url("interval-remove", doctor.pk, rule.pk), **HTMX)
    assert reverse("staff_appointments:reschedule", args=[appointment.pk]) in response.text
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED


def reschedule_url(appointment, doctor):
    back = url("availability", doctor.pk)
    return f"{reverse('staff_appointments:reschedule', args=[appointment.pk])}?next={back}"


def test_conflicts_follow_the_local_hours_across_a_dst_change(doctor):
    # Monday 30 March 2026 is in summer time: 9:00 local is 07:00 UTC, not 08:00.
    first = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 30, 9))
    last = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 30, 16, 30))
    assert first.starts_at == dt.datetime(2026, 3, 30, 7, tzinfo=dt.UTC)
    now = timezone.now()
    assert availability_conflicts(doctor, now) == []

    rule = WeeklyAvailability.objects.get(doctor=doctor, weekday=0)
    rule.start_time, rule.end_time = dt.time(9, 30), dt.time(16, 30)
    rule.save()
    assert availability_conflicts(doctor, now) == [first, last]


def test_conflicts_include_appointments_in_time_off_and_not_cancelled_ones(doctor):
    kept = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 10, 9))
    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 11, 9))
    TimeOff.objects.create(
        doctor=doctor,
        start_date=dt.date(2026, 3, 10),
        end_date=dt.date(2026, 3, 10),
        start_time=dt.time(9, 15),
        end_time=dt.time(10),
    )
    assert availability_conflicts(doctor, timezone.now()) == [kept]


# --- Clinic isolation -----------------------------------------------------------------------


@pytest.fixture
def foreign(doctor):
    """A doctor of another clinic, with one of each kind of row."""
    other = make_doctor(make_clinic())
    return {
        "doctor": other,
        "rule": WeeklyAvailability.objects.filter(doctor=other).first(),
        "time_off": TimeOff.objects.create(doctor=other, start_date=MONDAY, end_date=MONDAY),
        "extra": ExtraHours.objects.create(
            doctor=other, date=MONDAY, start_time=dt.time(18), end_time=dt.time(19)
        ),
        "type": make_type(other, 60),
    }


def test_staff_of_another_clinic_get_404_on_the_page(client, staff, foreign):
    assert client.get(url("availability", foreign["doctor"].pk)).status_code == 404


@pytest.mark.parametrize(
    ("name", "row", "data"),
    [
        ("interval-add", None, {"weekday": 5, "start_time": "09:00", "end_time": "10:00"}),
        ("interval-change", "rule", {"start_time": "10:00", "end_time": "11:00"}),
        ("interval-remove", "rule", {}),
        ("time-off-add", None, {"start_date": "2026-03-10", "end_date": "2026-03-10"}),
        ("time-off-remove", "time_off", {}),
        (
            "extra-hours-add",
            None,
            {"date": "2026-03-07", "start_time": "9:00", "end_time": "10:00"},
        ),
        ("extra-hours-remove", "extra", {}),
        ("type-add", None, {"name": "Sneaky", "duration": "30"}),
        ("type-deactivate", "type", {}),
    ],
)
def test_staff_of_another_clinic_get_404_on_every_change(client, staff, foreign, name, row, data):
    other = foreign["doctor"]
    args = (other.pk,) if row is None else (other.pk, foreign[row].pk)
    before = history_counts() | {"types": AppointmentType.objects.filter(is_active=True).count()}
    assert client.post(url(name, *args), data).status_code == 404
    after = history_counts() | {"types": AppointmentType.objects.filter(is_active=True).count()}
    assert after == before


def test_a_row_of_another_doctor_is_404_under_ones_own_doctor(client, doctor, staff, foreign):
    response = client.post(url("interval-remove", doctor.pk, foreign["rule"].pk))
    assert response.status_code == 404
    assert WeeklyAvailability.objects.filter(pk=foreign["rule"].pk).exists()


def history_counts() -> dict[str, int]:
    return {
        "weekly": WeeklyAvailability.history.count(),
        "time_off": TimeOff.history.count(),
        "extra": ExtraHours.history.count(),
        "types": AppointmentType.objects.count(),
    }


# --- Two staff at once ----------------------------------------------------------------------

RACERS = 8


def race_for_saturday(doctor, user) -> Counter[str]:
    """Every racer adds a different Saturday interval, all overlapping 10:00-10:30, each on
    its own PostgreSQL connection, started together at a barrier."""

    def attempt(offset: int) -> Callable[[], str]:
        def run() -> str:
            try:
                services.add_weekly_interval(
                    doctor=doctor,
                    weekday=5,
                    start_time=dt.time(9, offset),
                    end_time=dt.time(11, offset),
                    changed_by=user,
                )
                return "added"
            except services.AvailabilityError as error:
                return error.code

        return run

    return Counter(run_together([attempt(offset) for offset in range(RACERS)]))


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_staff_adding_overlapping_intervals_at_once_add_exactly_one(doctor):
    outcomes = race_for_saturday(doctor, make_user())
    assert outcomes == Counter({"added": 1, "interval_overlaps": RACERS - 1})
    assert WeeklyAvailability.objects.filter(doctor=doctor, weekday=5).count() == 1


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_doctor_lock_the_race_makes_overlaps(doctor, monkeypatch):
    check = services._check_interval

    def slow_check(**kwargs: Any) -> None:
        check(**kwargs)
        time.sleep(0.2)  # every racer passes the check before any of them writes

    monkeypatch.setattr(services, "_lock_doctor", lambda doctor: doctor)
    monkeypatch.setattr(services, "_check_interval", slow_check)
    outcomes = race_for_saturday(doctor, make_user())
    assert outcomes["added"] > 1
