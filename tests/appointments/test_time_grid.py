"""The staff calendar as a time grid. Now is Wed 2026-03-04 09:00 in Berlin
(``frozen_now``); Dr. Anna Weber and Dr. Bernd Roth work Monday to Friday 9:00-17:00."""

import datetime as dt

import pytest
from django.urls import reverse

from appointments.staff_selectors import clinic_calendar
from scheduling.models import TimeOff
from tests.factories import book, local, log_in_staff, make_doctor, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

CALENDAR = reverse("staff_appointments:calendar")
MONDAY = dt.date(2026, 3, 9)


def test_each_free_time_is_a_button_named_in_full_that_starts_a_phone_booking(client, staff, anna):
    page = client.get(CALENDAR, {"date": "2026-03-09"}).text

    assert "Book Dr. Anna Weber, Mon 9 Mar 10:30" in page
    assert f'form="book-{anna.pk}" name="start" value="2026-03-09T09:30:00Z"' in page
    kind = anna.appointment_types.get()
    assert (
        f'<form id="book-{anna.pk}" method="get" action="{reverse("staff_appointments:patients")}"'
        in page
    )
    assert f'name="type" value="{kind.pk}"' in page


def test_a_booked_time_is_a_block_sized_by_its_duration_and_not_free(clinic, anna):
    appointment = book(make_patient(full_name="Petra Pohl"), anna, local(clinic, 2026, 3, 9, 10))

    grid = clinic_calendar(clinic=clinic, view="day", day=MONDAY)

    (column,) = [c for c in grid.columns if c.doctor == anna]
    (block,) = column.blocks
    assert block.appointment == appointment
    assert (grid.axis_start + block.top, block.length) == (10 * 60, 30)
    assert local(clinic, 2026, 3, 9, 10) not in [free.start for free in column.free]
    assert (grid.axis_start, grid.axis_end) == (9 * 60, 17 * 60)


def test_time_off_and_hours_outside_work_are_shaded(clinic, anna):
    TimeOff.objects.create(
        doctor=anna,
        start_date=MONDAY,
        end_date=MONDAY,
        start_time=dt.time(12),
        end_time=dt.time(14),
    )

    grid = clinic_calendar(clinic=clinic, view="day", day=MONDAY)

    (column,) = [c for c in grid.columns if c.doctor == anna]
    shades = {(shade.kind, grid.axis_start + shade.top, shade.length) for shade in column.shades}
    assert ("time_off", 12 * 60, 120) in shades
    assert ("closed", 17 * 60, 7 * 60) in shades
    assert not [f for f in column.free if 12 <= f.start.astimezone(clinic.zone).hour < 14]


def test_today_has_a_now_line_and_other_days_none(client, staff, anna):
    today = client.get(CALENDAR).text
    monday = client.get(CALENDAR, {"date": "2026-03-09"}).text

    assert 'class="now-line gt-0"' in today  # 09:00, the axis start
    assert "now-line" not in monday


def test_the_specialty_filter_shows_only_those_doctors(client, staff, clinic, anna):
    make_doctor(clinic, name="Dr. Clara Kinder", specialty="Paediatrics")

    page = client.get(CALENDAR, {"date": "2026-03-09", "specialty": "Paediatrics"}).text

    assert "Book Dr. Clara Kinder" in page
    assert "Book Dr. Anna Weber" not in page


def test_the_week_view_is_one_doctor_in_seven_columns(client, staff, anna, bernd):
    grid_page = client.get(
        CALENDAR, {"date": "2026-03-11", "view": "week", "doctor": bernd.pk}
    ).text

    assert grid_page.count('class="time-grid__column"') == 7
    assert "Dr. Bernd Roth, week of Monday 9 March 2026" in grid_page
    assert "Book Dr. Anna Weber" not in grid_page


def test_a_started_block_can_be_marked_from_the_calendar(client, staff, frozen_now, clinic, anna):
    appointment = book(make_patient(full_name="Petra Pohl"), anna, local(clinic, 2026, 3, 9, 10))
    frozen_now.move_to(dt.datetime(2026, 3, 9, 9, 15, tzinfo=dt.UTC))
    log_in_staff(client, staff)
    url = CALENDAR + "?date=2026-03-09"
    page = client.get(url).text
    assert "Mark Petra Pohl completed" in page

    response = client.post(
        reverse("staff_appointments:attendance", args=[appointment.pk]),
        {"status": "completed", "next": url},
    )

    assert response["Location"] == url
    appointment.refresh_from_db()
    assert appointment.status == "completed"


def test_the_page_prints_a_day_sheet_per_doctor(client, staff, clinic, anna, bernd):
    book(make_patient(full_name="Petra Pohl"), anna, local(clinic, 2026, 3, 9, 10), reason="Cough")

    page = client.get(CALENDAR, {"date": "2026-03-09"}).text

    assert page.count('<section class="day-sheet">') == 2
    assert "Dr. Anna Weber · Monday 9 March 2026" in page
    assert "Cough" in page


def test_the_grid_takes_the_same_number_of_queries_for_many_doctors(
    client, staff, clinic, anna, django_assert_max_num_queries
):
    def queries() -> int:
        with django_assert_max_num_queries(50) as captured:
            assert client.get(CALENDAR, {"date": "2026-03-09"}).status_code == 200
        return len(captured)

    queries()  # what each process keeps (the clinics' names) is kept now
    with_one = queries()
    for number in range(5):
        doctor = make_doctor(clinic, name=f"Dr. More {number}")
        book(make_patient(), doctor, local(clinic, 2026, 3, 9, 10))

    queries()  # the new doctors: the catalogue each process keeps is read again
    assert queries() == with_one
