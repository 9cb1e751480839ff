"""Staff endpoints: a doctor's weekly hours, time off and calendar, for their clinics only."""

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from appointments.models import Appointment, Status
from appointments.services import cancel_appointment
from scheduling.models import Clinic, Doctor, TimeOff, WeeklyAvailability
from tests.api.helpers import assert_problem, client_for
from tests.factories import book, local, make_clinic, make_doctor, make_patient, make_staff

pytestmark = pytest.mark.django_db

# With time frozen at Wednesday 2026-03-04, these are next week's dates.
MONDAY, TUESDAY, SATURDAY = "2026-03-09", "2026-03-10", "2026-03-14"
NINE_TO_FIVE = [{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)]


def hours_url(doctor: Doctor) -> str:
    return f"/api/v1/doctors/{doctor.pk}/weekly-availability"


def time_off_url(doctor: Doctor) -> str:
    return f"/api/v1/doctors/{doctor.pk}/time-off"


def free_times(doctor: Doctor, day: str) -> list[str]:
    """The local start times (HH:MM) the public availability endpoint offers on ``day``."""
    response = APIClient().get(f"/api/v1/doctors/{doctor.pk}/availability?from={day}&to={day}")
    assert response.status_code == 200, response.content
    return [slot["start"][11:16] for slot in response.json()]


def put_hours(api: APIClient, doctor: Doctor, intervals: list[dict[str, Any]]) -> Any:
    return api.put(hours_url(doctor), {"intervals": intervals}, format="json")


def rules_of(doctor: Doctor) -> list[tuple[int, dt.time, dt.time]]:
    return list(
        doctor.weekly_rules.order_by("weekday", "start_time").values_list(
            "weekday", "start_time", "end_time"
        )
    )


def error_fields(body: dict[str, Any]) -> set[str]:
    return {error["field"] for error in body["errors"]}


@pytest.fixture
def clinic() -> Clinic:
    return make_clinic()


@pytest.fixture
def doctor(clinic: Clinic) -> Doctor:
    return make_doctor(clinic)


@pytest.fixture
def staff(clinic: Clinic) -> Any:
    return make_staff(clinics=(clinic,))


@pytest.fixture
def api(staff: Any) -> APIClient:
    return client_for(staff)


# --- Weekly hours -----------------------------------------------------------------------


def test_staff_see_a_doctors_weekly_hours_as_local_times(api, doctor):
    response = api.get(hours_url(doctor))

    assert response.status_code == 200, response.content
    assert response.json() == {
        "doctor": doctor.pk,
        "timezone": "Europe/Berlin",
        "intervals": NINE_TO_FIVE,
        "conflicts": [],
    }


def test_a_put_replaces_the_week_keeping_the_intervals_that_stay(api, staff, doctor, frozen_now):
    kept = {rule.weekday: rule.pk for rule in doctor.weekly_rules.all()}
    assert free_times(doctor, TUESDAY)
    assert free_times(doctor, SATURDAY) == []
    new_week = [{"weekday": day, "start": "09:00", "end": "17:00"} for day in (0, 2, 3, 4)] + [
        {"weekday": 5, "start": "10:00", "end": "12:00"}
    ]

    response = put_hours(api, doctor, new_week)

    assert response.status_code == 200, response.content
    assert response.json()["intervals"] == new_week
    rules = {rule.weekday: rule for rule in doctor.weekly_rules.all()}
    assert sorted(rules) == [0, 2, 3, 4, 5]
    for weekday in (0, 2, 3, 4):
        assert rules[weekday].pk == kept[weekday]
    assert not WeeklyAvailability.objects.filter(pk=kept[1]).exists()
    # The free times follow at once: no Tuesday, a Saturday morning.
    assert free_times(doctor, TUESDAY) == []
    assert free_times(doctor, SATURDAY) == ["10:00", "10:30", "11:00", "11:30"]
    assert free_times(doctor, MONDAY)[0] == "09:00"


def test_each_change_of_the_week_is_in_the_history_with_who_and_why(api, staff, doctor):
    tuesday = doctor.weekly_rules.get(weekday=1)
    monday = doctor.weekly_rules.get(weekday=0)
    new_week = [item for item in NINE_TO_FIVE if item["weekday"] != 1] + [
        {"weekday": 5, "start": "10:00", "end": "12:00"}
    ]

    put_hours(api, doctor, new_week)

    removed = WeeklyAvailability.history.get(id=tuesday.pk, history_type="-")
    assert removed.history_user == staff
    assert removed.history_change_reason == "removed Tue 09:00-17:00"
    saturday = doctor.weekly_rules.get(weekday=5)
    added = WeeklyAvailability.history.get(id=saturday.pk, history_type="+")
    assert added.history_user == staff
    assert added.history_change_reason == "added Sat 10:00-12:00"
    # An interval that stays is not touched: only the record of its creation.
    assert list(
        WeeklyAvailability.history.filter(id=monday.pk).values_list("history_type", flat=True)
    ) == ["+"]


def test_changing_the_times_of_a_day_removes_the_old_interval_and_adds_the_new(api, staff, doctor):
    monday = doctor.weekly_rules.get(weekday=0)
    new_week = [{"weekday": 0, "start": "08:00", "end": "12:00"}, *NINE_TO_FIVE[1:]]

    response = put_hours(api, doctor, new_week)

    assert response.status_code == 200, response.content
    assert not WeeklyAvailability.objects.filter(pk=monday.pk).exists()
    assert rules_of(doctor)[0] == (0, dt.time(8), dt.time(12))
    reasons = set(
        WeeklyAvailability.history.filter(history_user=staff).values_list(
            "history_change_reason", flat=True
        )
    )
    assert reasons == {"removed Mon 09:00-17:00", "added Mon 08:00-12:00"}


def test_a_split_shift_is_two_intervals_that_touch(api, doctor):
    split_monday = [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "12:00", "end": "17:00"},
    ]

    response = put_hours(api, doctor, split_monday)

    assert response.status_code == 200, response.content
    assert response.json()["intervals"] == split_monday


def test_two_overlapping_intervals_on_one_weekday_are_refused_and_nothing_changes(api, doctor):
    before = set(doctor.weekly_rules.values_list("pk", flat=True))

    response = put_hours(
        api,
        doctor,
        [
            {"weekday": 0, "start": "13:00", "end": "17:00"},
            {"weekday": 0, "start": "09:00", "end": "13:30"},
            {"weekday": 3, "start": "09:00", "end": "17:00"},
        ],
    )

    body = assert_problem(response, 409, "interval_overlaps")
    assert "Mon 09:00-13:30" in body["detail"]
    assert set(doctor.weekly_rules.values_list("pk", flat=True)) == before
    assert WeeklyAvailability.history.filter(history_type="-").count() == 0


def test_the_same_interval_sent_twice_overlaps_itself(api, doctor):
    response = put_hours(api, doctor, [NINE_TO_FIVE[0], *NINE_TO_FIVE])

    assert_problem(response, 409, "interval_overlaps")
    assert len(rules_of(doctor)) == 5


def test_the_same_hours_on_different_weekdays_do_not_overlap(api, doctor):
    response = put_hours(
        api,
        doctor,
        [
            {"weekday": 0, "start": "09:00", "end": "13:30"},
            {"weekday": 1, "start": "09:00", "end": "13:30"},
        ],
    )

    assert response.status_code == 200, response.content
    assert rules_of(doctor) == [(0, dt.time(9), dt.time(13, 30)), (1, dt.time(9), dt.time(13, 30))]


@pytest.mark.parametrize("end", ["08:00", "09:00"])
def test_an_interval_that_does_not_end_after_it_starts_is_refused(api, doctor, end):
    response = put_hours(
        api, doctor, [*NINE_TO_FIVE[:4], {"weekday": 5, "start": "09:00", "end": end}]
    )

    body = assert_problem(response, 422, "end_not_after_start")
    assert "Sat 09:00" in body["detail"]
    assert len(rules_of(doctor)) == 5
    assert 4 in doctor.weekly_rules.values_list("weekday", flat=True)


@pytest.mark.parametrize(
    ("interval", "field"),
    [
        ({"weekday": 7, "start": "09:00", "end": "17:00"}, "intervals.1.weekday"),
        ({"weekday": -1, "start": "09:00", "end": "17:00"}, "intervals.1.weekday"),
        ({"weekday": "monday", "start": "09:00", "end": "17:00"}, "intervals.1.weekday"),
        ({"weekday": 1, "start": "25:00", "end": "17:00"}, "intervals.1.start"),
        ({"weekday": 1, "start": "09:00", "end": "noon"}, "intervals.1.end"),
        ({"weekday": 1, "start": "09:00"}, "intervals.1.end"),
        # Shown as HH:MM, a stored 09:00:30 would make the hours on screen lie.
        ({"weekday": 1, "start": "09:00:30", "end": "17:00"}, "intervals.1.start"),
    ],
)
def test_a_bad_interval_is_a_400_naming_its_field(api, doctor, interval, field):
    response = put_hours(api, doctor, [NINE_TO_FIVE[0], interval])

    body = assert_problem(response, 400, "invalid_request")
    assert error_fields(body) == {field}
    assert len(rules_of(doctor)) == 5


def test_a_put_without_intervals_is_a_400(api, doctor):
    response = api.put(hours_url(doctor), {}, format="json")

    body = assert_problem(response, 400, "invalid_request")
    assert error_fields(body) == {"intervals"}


def test_an_empty_week_leaves_the_doctor_without_hours(api, staff, doctor, frozen_now):
    response = put_hours(api, doctor, [])

    assert response.status_code == 200, response.content
    assert response.json()["intervals"] == []
    assert rules_of(doctor) == []
    assert free_times(doctor, MONDAY) == []
    assert WeeklyAvailability.history.filter(history_type="-", history_user=staff).count() == 5


def test_a_booked_appointment_outside_the_new_hours_is_a_conflict_and_stays_booked(
    api, clinic, doctor, frozen_now
):
    outside = book(make_patient(), doctor, local(clinic, 2026, 3, 9, 10))
    inside = book(make_patient(), doctor, local(clinic, 2026, 3, 10, 10))

    response = put_hours(api, doctor, NINE_TO_FIVE[1:])  # no more Mondays

    assert response.status_code == 200, response.content
    conflict = {
        "id": outside.pk,
        "start": "2026-03-09T10:00:00+01:00",
        "end": "2026-03-09T10:30:00+01:00",
    }
    assert response.json()["conflicts"] == [conflict]
    assert api.get(hours_url(doctor)).json()["conflicts"] == [conflict]
    outside.refresh_from_db()
    inside.refresh_from_db()
    assert outside.status == inside.status == Status.BOOKED


def test_a_conflict_is_gone_once_the_appointment_is_cancelled(api, clinic, doctor, frozen_now):
    patient = make_patient()
    appointment = book(patient, doctor, local(clinic, 2026, 3, 9, 10))
    put_hours(api, doctor, NINE_TO_FIVE[1:])

    cancel_appointment(appointment=appointment, cancelled_by=patient.user, reason="")

    assert api.get(hours_url(doctor)).json()["conflicts"] == []


# --- Time off ---------------------------------------------------------------------------


def test_staff_see_the_time_off_that_has_not_ended(api, doctor, frozen_now):
    TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 3, 2), end_date=dt.date(2026, 3, 3)
    )
    ends_today = TimeOff.objects.create(
        doctor=doctor,
        start_date=dt.date(2026, 3, 2),
        end_date=dt.date(2026, 3, 4),
        start_time=dt.time(8),
        end_time=dt.time(12, 30),
        reason="Conference",
    )
    later = TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 4, 10)
    )

    response = api.get(time_off_url(doctor))

    assert response.status_code == 200, response.content
    assert response.json() == [
        {
            "id": ends_today.pk,
            "doctor": doctor.pk,
            "start_date": "2026-03-02",
            "end_date": "2026-03-04",
            "start_time": "08:00",
            "end_time": "12:30",
            "reason": "Conference",
        },
        {
            "id": later.pk,
            "doctor": doctor.pk,
            "start_date": "2026-04-01",
            "end_date": "2026-04-10",
            "start_time": None,
            "end_time": None,
            "reason": "",
        },
    ]


def test_time_off_hides_the_free_times_inside_it_until_it_is_removed(
    api, staff, doctor, frozen_now
):
    assert free_times(doctor, MONDAY)[:2] == ["09:00", "09:30"]

    created = api.post(
        time_off_url(doctor),
        {
            "start_date": MONDAY,
            "end_date": MONDAY,
            "start_time": "09:00",
            "end_time": "12:00",
            "reason": "Training",
        },
        format="json",
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert body == {
        "id": body["id"],
        "doctor": doctor.pk,
        "start_date": MONDAY,
        "end_date": MONDAY,
        "start_time": "09:00",
        "end_time": "12:00",
        "reason": "Training",
        "cancelled": [],
        "conflicts": [],
    }
    assert free_times(doctor, MONDAY)[0] == "12:00"
    assert free_times(doctor, TUESDAY)[0] == "09:00"
    assert [item["id"] for item in api.get(time_off_url(doctor)).json()] == [body["id"]]

    removed = api.delete(f"/api/v1/time-off/{body['id']}")

    assert removed.status_code == 204, removed.content
    assert free_times(doctor, MONDAY)[:2] == ["09:00", "09:30"]
    assert api.get(time_off_url(doctor)).json() == []
    history = TimeOff.history.filter(id=body["id"]).order_by("history_date")
    assert [(record.history_type, record.history_user) for record in history] == [
        ("+", staff),
        ("-", staff),
    ]
    assert history[0].history_change_reason.startswith("added time off")
    assert history[1].history_change_reason.startswith("removed time off")


def test_whole_days_of_time_off_leave_no_free_time_on_those_days(api, doctor, frozen_now):
    response = api.post(
        time_off_url(doctor),
        {"start_date": MONDAY, "end_date": TUESDAY, "reason": "Holiday"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["start_time"] is None
    assert free_times(doctor, MONDAY) == []
    assert free_times(doctor, TUESDAY) == []
    assert free_times(doctor, "2026-03-11")[0] == "09:00"


def test_time_off_that_ends_before_it_starts_is_refused(api, doctor, frozen_now):
    response = api.post(
        time_off_url(doctor),
        {"start_date": MONDAY, "end_date": MONDAY, "start_time": "12:00", "end_time": "09:00"},
        format="json",
    )

    assert_problem(response, 422, "end_not_after_start")
    assert not TimeOff.objects.exists()
    assert free_times(doctor, MONDAY)[0] == "09:00"


def test_time_off_inside_the_spring_forward_gap_is_refused_as_no_time_at_all(api, doctor):
    # Berlin skips 02:00-03:00 on 2027-03-28: those wall-clock times never happen.
    day = "2027-03-28"
    gap = {"start_date": day, "end_date": day, "start_time": "02:00", "end_time": "03:00"}
    around = gap | {"start_time": "01:30", "end_time": "03:30"}

    assert_problem(api.post(time_off_url(doctor), gap, format="json"), 422, "end_not_after_start")
    assert api.post(time_off_url(doctor), around, format="json").status_code == 201
    assert TimeOff.objects.count() == 1


def test_time_off_whose_end_date_is_before_its_start_date_is_refused(api, doctor):
    response = api.post(
        time_off_url(doctor), {"start_date": TUESDAY, "end_date": MONDAY}, format="json"
    )

    assert_problem(response, 422, "end_not_after_start")
    assert not TimeOff.objects.exists()


def test_time_off_longer_than_a_year_is_refused(api, doctor):
    response = api.post(
        time_off_url(doctor), {"start_date": "2026-03-09", "end_date": "2062-03-09"}, format="json"
    )

    assert_problem(response, 422, "time_off_too_long")
    assert not TimeOff.objects.exists()


def test_times_of_time_off_with_seconds_are_refused(api, doctor):
    response = api.post(
        time_off_url(doctor),
        {"start_date": MONDAY, "end_date": MONDAY, "start_time": "10:00:30", "end_time": "11:00"},
        format="json",
    )

    body = assert_problem(response, 400, "invalid_request")
    assert error_fields(body) == {"start_time"}


@pytest.mark.parametrize("start", ["09:00+05:00", "09:00Z", "09:00:00-03:00"])
def test_weekly_hours_with_a_utc_offset_are_refused_not_shifted_silently(api, doctor, start):
    before = list(WeeklyAvailability.objects.filter(doctor=doctor).values_list("pk", flat=True))

    response = put_hours(api, doctor, [{"weekday": 0, "start": start, "end": "17:00"}])

    body = assert_problem(response, 400, "invalid_request")
    assert "without a UTC offset" in body["errors"][0]["message"]
    after = list(WeeklyAvailability.objects.filter(doctor=doctor).values_list("pk", flat=True))
    assert after == before


def test_whole_minutes_may_be_sent_with_zero_seconds(api, doctor):
    response = api.post(
        time_off_url(doctor),
        {"start_date": MONDAY, "end_date": MONDAY, "start_time": "10:00:00", "end_time": "11:00"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["start_time"] == "10:00"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_time_off_at_the_ends_of_the_calendar_is_a_400_not_a_crash(api, doctor, day):
    response = api.post(time_off_url(doctor), {"start_date": day, "end_date": day}, format="json")

    body = assert_problem(response, 400, "invalid_request")
    assert error_fields(body) == {"start_date", "end_date"}
    assert not TimeOff.objects.exists()


def test_removing_time_off_twice_is_a_404(api, doctor):
    time_off = TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 4, 1)
    )
    assert api.delete(f"/api/v1/time-off/{time_off.pk}").status_code == 204

    assert_problem(api.delete(f"/api/v1/time-off/{time_off.pk}"), 404, "not_found")


# --- Calendar ---------------------------------------------------------------------------


def test_the_calendar_lists_the_doctors_booked_appointments_on_local_dates(api, clinic, frozen_now):
    # Working all day, so appointments can sit at the edges of local dates.
    doctor = make_doctor(clinic, weekdays=tuple(range(7)), hours=(dt.time(0), dt.time(23, 59)))
    colleague = make_doctor(clinic)
    patient = make_patient(full_name="Ada Lovelace", phone="+49 170 1111111")
    late_monday = book(patient, doctor, local(clinic, 2026, 3, 9, 23))
    # Midnight in Berlin is still Monday in UTC: it belongs to Tuesday here.
    midnight_tuesday = book(make_patient(), doctor, local(clinic, 2026, 3, 10, 0))
    cancelled = book(make_patient(), doctor, local(clinic, 2026, 3, 9, 10))
    cancel_appointment(appointment=cancelled, cancelled_by=None, reason="Ill", by_clinic=True)
    book(make_patient(), colleague, local(clinic, 2026, 3, 9, 10))

    response = api.get(f"/api/v1/doctors/{doctor.pk}/calendar?from={MONDAY}&to={MONDAY}")

    assert response.status_code == 200, response.content
    (listed,) = response.json()
    assert listed["id"] == late_monday.pk
    assert listed["start"] == "2026-03-09T23:00:00+01:00"
    assert listed["status"] == "booked"
    assert listed["patient"] == {
        "id": patient.pk,
        "full_name": "Ada Lovelace",
        "email": patient.user.email,
        "phone": "+491701111111",  # stored in E.164 (issue 12)
    }
    tuesday = api.get(f"/api/v1/doctors/{doctor.pk}/calendar?from={TUESDAY}&to={TUESDAY}")
    assert [item["id"] for item in tuesday.json()] == [midnight_tuesday.pk]


def test_the_calendar_covers_at_most_31_days(api, doctor):
    url = f"/api/v1/doctors/{doctor.pk}/calendar"

    assert api.get(f"{url}?from=2026-03-01&to=2026-03-31").status_code == 200
    body = assert_problem(api.get(f"{url}?from=2026-03-01&to=2026-04-01"), 400, "invalid_request")
    assert error_fields(body) == {"to"}


@pytest.mark.parametrize(
    ("query", "field"), [("from=0001-01-01&to=0001-01-02", "from"), ("to=9999-12-31", "to")]
)
def test_a_calendar_at_the_ends_of_the_calendar_is_a_400_not_a_crash(api, doctor, query, field):
    response = api.get(f"/api/v1/doctors/{doctor.pk}/calendar?{query}")

    body = assert_problem(response, 400, "invalid_request")
    assert field in error_fields(body)


def test_a_calendar_that_ends_before_it_starts_is_a_400(api, doctor):
    response = api.get(f"/api/v1/doctors/{doctor.pk}/calendar?from={TUESDAY}&to={MONDAY}")

    body = assert_problem(response, 400, "invalid_request")
    assert error_fields(body) == {"to"}


# --- Who may call them ------------------------------------------------------------------


def staff_requests(doctor: Doctor, time_off: TimeOff) -> list[tuple[str, str, dict[str, Any]]]:
    """Every staff endpoint, as (method, path, body), aimed at ``doctor``'s records."""
    return [
        ("get", hours_url(doctor), {}),
        ("put", hours_url(doctor), {"intervals": []}),
        ("get", time_off_url(doctor), {}),
        ("post", time_off_url(doctor), {"start_date": MONDAY, "end_date": MONDAY}),
        ("delete", f"/api/v1/time-off/{time_off.pk}", {}),
        ("get", f"/api/v1/doctors/{doctor.pk}/calendar?from={MONDAY}&to={MONDAY}", {}),
    ]


@pytest.fixture
def other_clinics_doctor(frozen_now) -> tuple[Doctor, TimeOff, Appointment]:
    clinic_b = make_clinic()
    doctor_b = make_doctor(clinic_b)
    time_off = TimeOff.objects.create(
        doctor=doctor_b, start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 4, 1)
    )
    appointment = book(make_patient(), doctor_b, local(clinic_b, 2026, 3, 9, 10))
    return doctor_b, time_off, appointment


def test_staff_of_one_clinic_find_nothing_of_another_clinics_doctors(api, other_clinics_doctor):
    doctor_b, time_off, _appointment = other_clinics_doctor
    rules_before = rules_of(doctor_b)

    for method, path, body in staff_requests(doctor_b, time_off):
        response = getattr(api, method)(path, body, format="json")
        assert_problem(response, 404, "not_found")

    assert rules_of(doctor_b) == rules_before
    assert list(doctor_b.time_off.all()) == [time_off]


def test_staff_of_one_clinic_find_nothing_of_another_clinics_appointments(
    api, other_clinics_doctor
):
    _doctor, _time_off, appointment = other_clinics_doctor

    for path in (
        f"/api/v1/appointments/{appointment.pk}",
        f"/api/v1/appointments/{appointment.pk}/history",
    ):
        assert_problem(api.get(path), 404, "not_found")
    cancel = api.post(
        f"/api/v1/appointments/{appointment.pk}/cancel", {"reason": "Closed"}, format="json"
    )
    assert_problem(cancel, 404, "not_found")
    appointment.refresh_from_db()
    assert appointment.status == Status.BOOKED
    assert api.get("/api/v1/appointments").json()["results"] == []


def test_a_patient_token_may_not_use_the_staff_endpoints(doctor, frozen_now):
    time_off = TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 4, 1)
    )
    patient_api = client_for(make_patient().user)

    for method, path, body in staff_requests(doctor, time_off):
        response = getattr(patient_api, method)(path, body, format="json")
        assert_problem(response, 403, "staff_only")

    assert len(rules_of(doctor)) == 5
    assert doctor.time_off.count() == 1


def test_the_staff_endpoints_need_a_token(doctor, frozen_now):
    time_off = TimeOff.objects.create(
        doctor=doctor, start_date=dt.date(2026, 4, 1), end_date=dt.date(2026, 4, 1)
    )

    for method, path, body in staff_requests(doctor, time_off):
        response = getattr(APIClient(), method)(path, body, format="json")
        assert_problem(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'

    assert len(rules_of(doctor)) == 5
    assert doctor.time_off.count() == 1


def test_staff_of_two_clinics_manage_the_doctors_of_both(clinic, doctor, frozen_now):
    second = make_clinic()
    doctor_b = make_doctor(second)
    api = client_for(make_staff(clinics=(clinic, second)))

    for each in (doctor, doctor_b):
        assert api.get(hours_url(each)).status_code == 200
        assert put_hours(api, each, NINE_TO_FIVE[:1]).status_code == 200
