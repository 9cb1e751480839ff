"""``free_slots`` as a pure function: no database, every case built by hand.

Dates are in 2026. Monday 2 March is an ordinary week; Europe/Berlin springs forward on
Sunday 29 March (02:00 -> 03:00) and falls back on Sunday 25 October (03:00 -> 02:00);
America/New_York changes on Sunday 8 March and Sunday 1 November.
"""

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.availability import (
    BookingWindow,
    DateHours,
    Interval,
    LocalPeriod,
    WeeklyHours,
    free_slots,
)

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

MONDAY, TUESDAY, WEDNESDAY, SATURDAY, SUNDAY = 0, 1, 2, 5, 6
A_MONDAY = dt.date(2026, 3, 2)
BERLIN_SPRING_FORWARD = dt.date(2026, 3, 29)
BERLIN_FALL_BACK = dt.date(2026, 10, 25)
NEW_YORK_SPRING_FORWARD = dt.date(2026, 3, 8)
NEW_YORK_FALL_BACK = dt.date(2026, 11, 1)

# A window that lets every slot of 2026 through, for tests about something else.
ANY_TIME = BookingWindow(
    now=dt.datetime(2020, 1, 1, tzinfo=UTC),
    min_notice=dt.timedelta(0),
    horizon=dt.timedelta(days=365 * 20),
)


def hours(weekday: int, start: str, end: str) -> WeeklyHours:
    return WeeklyHours(weekday, dt.time.fromisoformat(start), dt.time.fromisoformat(end))


def date_hours(day: dt.date, start: str, end: str) -> DateHours:
    return DateHours(day, dt.time.fromisoformat(start), dt.time.fromisoformat(end))


def wall(day: dt.date, time: str) -> dt.datetime:
    """A naive local wall-clock time, as ``LocalPeriod`` takes it."""
    return dt.datetime.combine(day, dt.time.fromisoformat(time))


def at(day: dt.date, time: str, zone: ZoneInfo = BERLIN) -> dt.datetime:
    """An aware instant at a wall-clock time that exists exactly once in ``zone``."""
    return wall(day, time).replace(tzinfo=zone)


def booked(day: dt.date, start: str, end: str, zone: ZoneInfo = BERLIN) -> Interval:
    return Interval(at(day, start, zone).astimezone(UTC), at(day, end, zone).astimezone(UTC))


def slots(
    *,
    weekly: tuple[WeeklyHours, ...] = (hours(MONDAY, "09:00", "17:00"),),
    first_day: dt.date = A_MONDAY,
    last_day: dt.date | None = None,
    minutes: int = 30,
    step_minutes: int | None = None,
    zone: ZoneInfo = BERLIN,
    window: BookingWindow = ANY_TIME,
    **kwargs,
) -> list[Interval]:
    return free_slots(
        weekly=weekly,
        zone=zone,
        first_day=first_day,
        last_day=last_day or first_day,
        duration=dt.timedelta(minutes=minutes),
        step=dt.timedelta(minutes=step_minutes) if step_minutes else None,
        window=window,
        **kwargs,
    )


def local_times(result: list[Interval], zone: ZoneInfo = BERLIN) -> list[str]:
    return [slot.start.astimezone(zone).strftime("%H:%M") for slot in result]


def local_days_and_times(result: list[Interval], zone: ZoneInfo = BERLIN) -> list[str]:
    return [slot.start.astimezone(zone).strftime("%d %H:%M") for slot in result]


def half_hours(first: str, last: str) -> list[str]:
    """'09:00'..'16:30' every 30 minutes, inclusive."""
    start = dt.datetime.combine(A_MONDAY, dt.time.fromisoformat(first))
    end = dt.datetime.combine(A_MONDAY, dt.time.fromisoformat(last))
    times = []
    while start <= end:
        times.append(start.strftime("%H:%M"))
        start += dt.timedelta(minutes=30)
    return times


# The grid ---------------------------------------------------------------------------


def test_a_working_day_is_cut_into_back_to_back_slots():
    result = slots()

    assert len(result) == 16
    assert local_times(result) == half_hours("09:00", "16:30")


def test_slots_start_every_step_when_the_step_is_shorter_than_the_duration():
    result = slots(weekly=(hours(MONDAY, "09:00", "11:00"),), minutes=30, step_minutes=15)

    assert local_times(result) == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15", "10:30"]
    assert all(slot.end - slot.start == dt.timedelta(minutes=30) for slot in result)


def test_a_slot_must_fit_entirely_inside_the_working_hours():
    result = slots(weekly=(hours(MONDAY, "09:00", "10:00"),), minutes=45)

    assert local_times(result) == ["09:00"]


def test_a_slot_that_would_run_past_closing_time_is_not_offered():
    result = slots(weekly=(hours(MONDAY, "09:00", "10:15"),), minutes=30)

    assert local_times(result) == ["09:00", "09:30"]


def test_a_split_shift_restarts_the_grid_after_the_break():
    # On one grid counted from 9:00, 45-minute slots would fall at 12:45 and 13:30.
    result = slots(
        weekly=(hours(MONDAY, "09:00", "12:00"), hours(MONDAY, "13:00", "17:00")), minutes=45
    )

    assert local_times(result) == [
        *["09:00", "09:45", "10:30", "11:15"],
        *["13:00", "13:45", "14:30", "15:15", "16:00"],
    ]


def test_no_slot_spans_the_lunch_break():
    result = slots(weekly=(hours(MONDAY, "09:00", "12:00"), hours(MONDAY, "13:00", "17:00")))

    assert "12:00" not in local_times(result)
    assert "12:30" not in local_times(result)
    assert all(
        slot.end <= at(A_MONDAY, "12:00") or slot.start >= at(A_MONDAY, "13:00") for slot in result
    )


def test_overlapping_rules_merge_into_one_grid_without_duplicates():
    result = slots(
        weekly=(hours(MONDAY, "09:00", "12:00"), hours(MONDAY, "11:00", "14:00")), minutes=45
    )

    assert local_times(result) == ["09:00", "09:45", "10:30", "11:15", "12:00", "12:45"]


def test_touching_rules_merge_so_a_slot_can_span_the_seam():
    result = slots(
        weekly=(hours(MONDAY, "09:00", "10:00"), hours(MONDAY, "10:00", "11:00")), minutes=45
    )

    assert local_times(result) == ["09:00", "09:45"]


def test_a_rule_given_twice_gives_each_slot_once():
    rule = hours(MONDAY, "09:00", "17:00")

    assert slots(weekly=(rule, rule)) == slots(weekly=(rule,))


def test_days_without_rules_have_no_slots():
    assert slots(first_day=A_MONDAY + dt.timedelta(days=1)) == []


def test_no_rules_at_all_means_no_slots():
    assert slots(weekly=(), first_day=A_MONDAY, last_day=A_MONDAY + dt.timedelta(days=6)) == []


def test_every_day_in_the_range_gets_its_own_slots():
    weekdays = tuple(hours(day, "09:00", "17:00") for day in range(5))

    result = slots(weekly=weekdays, first_day=A_MONDAY, last_day=A_MONDAY + dt.timedelta(days=6))

    days = [slot.start.astimezone(BERLIN).date() for slot in result]
    assert len(result) == 5 * 16
    assert sorted(set(days)) == [A_MONDAY + dt.timedelta(days=n) for n in range(5)]
    assert all(days.count(day) == 16 for day in set(days))


def test_the_first_and_last_day_are_both_included():
    weekdays = tuple(hours(day, "09:00", "10:00") for day in range(7))

    result = slots(weekly=weekdays, first_day=A_MONDAY, last_day=A_MONDAY + dt.timedelta(days=2))

    assert local_days_and_times(result) == [
        *["02 09:00", "02 09:30"],
        *["03 09:00", "03 09:30"],
        *["04 09:00", "04 09:30"],
    ]


def test_extra_hours_add_slots_on_a_weekend_day():
    saturday = A_MONDAY + dt.timedelta(days=5)

    result = slots(first_day=saturday, extra=(date_hours(saturday, "10:00", "12:00"),))

    assert local_times(result) == ["10:00", "10:30", "11:00", "11:30"]
    assert {slot.start.astimezone(BERLIN).date() for slot in result} == {saturday}


def test_extra_hours_apply_only_on_their_own_date():
    saturday = A_MONDAY + dt.timedelta(days=5)

    result = slots(
        weekly=(),
        first_day=A_MONDAY,
        last_day=saturday + dt.timedelta(days=7),
        extra=(date_hours(saturday, "10:00", "11:00"),),
    )

    assert local_days_and_times(result) == ["07 10:00", "07 10:30"]


def test_extra_hours_merge_with_the_weekly_hours():
    result = slots(
        weekly=(hours(MONDAY, "09:00", "12:00"),),
        extra=(date_hours(A_MONDAY, "11:00", "13:00"),),
    )

    assert local_times(result) == half_hours("09:00", "12:30")


def test_extra_hours_can_extend_the_day_past_the_weekly_hours():
    # One 45-minute grid from 9:00 runs on through 17:00 (16:30-17:15 spans the seam)
    # instead of restarting at 17:00.
    result = slots(
        weekly=(hours(MONDAY, "09:00", "17:00"),),
        extra=(date_hours(A_MONDAY, "17:00", "18:30"),),
        minutes=45,
    )

    assert local_times(result)[-3:] == ["15:45", "16:30", "17:15"]


# Time off ---------------------------------------------------------------------------


def test_a_whole_day_off_removes_every_slot_of_that_day():
    weekdays = tuple(hours(day, "09:00", "17:00") for day in range(5))
    tuesday = A_MONDAY + dt.timedelta(days=1)

    result = slots(
        weekly=weekdays,
        first_day=A_MONDAY,
        last_day=A_MONDAY + dt.timedelta(days=2),
        time_off=(
            LocalPeriod(wall(tuesday, "00:00"), wall(tuesday + dt.timedelta(days=1), "00:00")),
        ),
    )

    days = [slot.start.astimezone(BERLIN).date() for slot in result]
    assert tuesday not in days
    assert days.count(A_MONDAY) == 16
    assert days.count(tuesday + dt.timedelta(days=1)) == 16


def test_an_afternoon_off_leaves_the_morning_bookable():
    result = slots(time_off=(LocalPeriod(wall(A_MONDAY, "14:00"), wall(A_MONDAY, "17:00")),))

    assert local_times(result) == half_hours("09:00", "13:30")


def test_time_off_across_several_days_covers_the_days_between():
    weekdays = tuple(hours(day, "09:00", "17:00") for day in range(5))
    wednesday = A_MONDAY + dt.timedelta(days=2)

    result = slots(
        weekly=weekdays,
        first_day=A_MONDAY,
        last_day=wednesday,
        time_off=(LocalPeriod(wall(A_MONDAY, "12:00"), wall(wednesday, "12:00")),),
    )

    assert local_days_and_times(result) == [
        *[f"02 {time}" for time in half_hours("09:00", "11:30")],
        *[f"04 {time}" for time in half_hours("12:00", "16:30")],
    ]


def test_a_slot_partly_inside_time_off_is_removed():
    result = slots(time_off=(LocalPeriod(wall(A_MONDAY, "10:15"), wall(A_MONDAY, "10:45")),))

    assert "10:00" not in local_times(result)
    assert "10:30" not in local_times(result)
    assert "09:30" in local_times(result)
    assert "11:00" in local_times(result)
    assert len(result) == 14


def test_time_off_ending_as_a_slot_starts_leaves_that_slot():
    result = slots(time_off=(LocalPeriod(wall(A_MONDAY, "09:00"), wall(A_MONDAY, "10:00")),))

    assert local_times(result)[0] == "10:00"


def test_time_off_on_another_day_changes_nothing():
    tuesday = A_MONDAY + dt.timedelta(days=1)

    result = slots(time_off=(LocalPeriod(wall(tuesday, "00:00"), wall(tuesday, "23:00")),))

    assert len(result) == 16


# Booked time --------------------------------------------------------------------------


def test_a_booked_slot_is_not_offered_again():
    result = slots(booked=(booked(A_MONDAY, "10:00", "10:30"),))

    assert "10:00" not in local_times(result)
    assert "09:30" in local_times(result)
    assert "10:30" in local_times(result)
    assert len(result) == 15


def test_back_to_back_bookings_leave_their_neighbours_free():
    result = slots(booked=(booked(A_MONDAY, "10:00", "10:30"), booked(A_MONDAY, "10:30", "11:00")))

    assert "10:00" not in local_times(result)
    assert "10:30" not in local_times(result)
    assert "09:30" in local_times(result)
    assert "11:00" in local_times(result)
    assert len(result) == 14


def test_a_booking_off_the_grid_removes_both_slots_it_touches():
    result = slots(booked=(booked(A_MONDAY, "10:10", "10:40"),))

    assert "10:00" not in local_times(result)
    assert "10:30" not in local_times(result)
    assert len(result) == 14


def test_a_longer_booking_removes_every_slot_under_it():
    result = slots(booked=(booked(A_MONDAY, "10:00", "11:30"),))

    assert local_times(result) == [*half_hours("09:00", "09:30"), *half_hours("11:30", "16:30")]


def test_a_booking_on_another_day_changes_nothing():
    tuesday = A_MONDAY + dt.timedelta(days=1)

    result = slots(booked=(booked(tuesday, "10:00", "10:30"),))

    assert len(result) == 16


def test_bookings_and_time_off_given_in_any_order_all_block():
    result = slots(
        booked=(booked(A_MONDAY, "15:00", "15:30"), booked(A_MONDAY, "09:00", "09:30")),
        time_off=(LocalPeriod(wall(A_MONDAY, "12:00"), wall(A_MONDAY, "13:00")),),
    )

    assert local_times(result) == [
        *half_hours("09:30", "11:30"),
        *half_hours("13:00", "14:30"),
        *half_hours("15:30", "16:30"),
    ]


# Booking window -----------------------------------------------------------------------


def test_no_slot_is_offered_sooner_than_the_minimum_notice():
    window = BookingWindow(
        now=at(A_MONDAY, "10:05"), min_notice=dt.timedelta(hours=2), horizon=dt.timedelta(days=90)
    )

    result = slots(window=window)

    assert local_times(result) == half_hours("12:30", "16:30")


def test_a_slot_exactly_at_the_minimum_notice_is_offered():
    window = BookingWindow(
        now=at(A_MONDAY, "10:00"), min_notice=dt.timedelta(hours=2), horizon=dt.timedelta(days=90)
    )

    result = slots(window=window)

    assert local_times(result)[0] == "12:00"


def test_no_slot_is_offered_in_the_past():
    window = BookingWindow(
        now=at(A_MONDAY, "18:00"), min_notice=dt.timedelta(0), horizon=dt.timedelta(days=90)
    )

    assert slots(window=window) == []


def test_no_slot_is_offered_beyond_the_horizon():
    weekdays = tuple(hours(day, "09:00", "17:00") for day in range(5))
    window = BookingWindow(
        now=at(A_MONDAY, "08:00"), min_notice=dt.timedelta(0), horizon=dt.timedelta(days=2, hours=2)
    )

    result = slots(
        weekly=weekdays, first_day=A_MONDAY, last_day=A_MONDAY + dt.timedelta(days=4), window=window
    )

    # The horizon ends Wednesday 10:00; a slot starting exactly then is still offered.
    assert local_days_and_times(result)[-3:] == ["04 09:00", "04 09:30", "04 10:00"]
    assert len(result) == 16 + 16 + 3


# Daylight saving time ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "monday", "utc_hour"),
    [
        pytest.param(BERLIN, dt.date(2026, 3, 23), 8, id="Berlin before spring forward"),
        pytest.param(BERLIN, dt.date(2026, 3, 30), 7, id="Berlin after spring forward"),
        pytest.param(BERLIN, dt.date(2026, 10, 19), 7, id="Berlin before fall back"),
        pytest.param(BERLIN, dt.date(2026, 10, 26), 8, id="Berlin after fall back"),
        pytest.param(NEW_YORK, dt.date(2026, 3, 2), 14, id="New York before spring forward"),
        pytest.param(NEW_YORK, dt.date(2026, 3, 9), 13, id="New York after spring forward"),
        pytest.param(NEW_YORK, dt.date(2026, 10, 26), 13, id="New York before fall back"),
        pytest.param(NEW_YORK, dt.date(2026, 11, 2), 14, id="New York after fall back"),
    ],
)
def test_a_weekly_rule_keeps_its_local_hours_across_a_dst_change(zone, monday, utc_hour):
    assert monday.weekday() == MONDAY

    result = slots(first_day=monday, zone=zone)

    assert local_times(result, zone) == half_hours("09:00", "16:30")
    assert result[0].start.astimezone(zone).date() == monday
    assert result[0].start.hour == utc_hour
    assert result[0].start.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("zone", "sunday", "expected"),
    [
        pytest.param(
            BERLIN,
            BERLIN_SPRING_FORWARD,
            [("01:00", "CET"), ("01:30", "CET"), ("03:00", "CEST"), ("03:30", "CEST")],
            id="Berlin",
        ),
        pytest.param(
            NEW_YORK,
            NEW_YORK_SPRING_FORWARD,
            [("01:00", "EST"), ("01:30", "EST"), ("03:00", "EDT"), ("03:30", "EDT")],
            id="New York",
        ),
    ],
)
def test_the_hour_skipped_in_spring_has_no_slots(zone, sunday, expected):
    result = slots(weekly=(hours(SUNDAY, "01:00", "04:00"),), first_day=sunday, zone=zone)

    local = [slot.start.astimezone(zone) for slot in result]
    assert [(time.strftime("%H:%M"), time.tzname()) for time in local] == expected
    # Two real hours hold four back-to-back slots.
    assert [b.start - a.start for a, b in itertools.pairwise(result)] == [
        dt.timedelta(minutes=30)
    ] * 3


@pytest.mark.parametrize(
    ("zone", "sunday", "expected"),
    [
        pytest.param(
            BERLIN,
            BERLIN_FALL_BACK,
            [
                *[("01:00", "CEST"), ("01:30", "CEST"), ("02:00", "CEST"), ("02:30", "CEST")],
                *[("02:00", "CET"), ("02:30", "CET"), ("03:00", "CET"), ("03:30", "CET")],
            ],
            id="Berlin",
        ),
        pytest.param(
            NEW_YORK,
            NEW_YORK_FALL_BACK,
            [
                *[("01:00", "EDT"), ("01:30", "EDT")],
                *[("01:00", "EST"), ("01:30", "EST"), ("02:00", "EST"), ("02:30", "EST")],
                *[("03:00", "EST"), ("03:30", "EST")],
            ],
            id="New York",
        ),
    ],
)
def test_the_hour_repeated_in_autumn_has_slots_twice(zone, sunday, expected):
    result = slots(weekly=(hours(SUNDAY, "01:00", "04:00"),), first_day=sunday, zone=zone)

    local = [slot.start.astimezone(zone) for slot in result]
    assert [(time.strftime("%H:%M"), time.tzname()) for time in local] == expected
    # Four real hours hold eight back-to-back slots, each a distinct instant.
    assert [b.start - a.start for a, b in itertools.pairwise(result)] == [
        dt.timedelta(minutes=30)
    ] * 7


def test_berlins_repeated_slots_are_distinct_utc_instants():
    result = slots(weekly=(hours(SUNDAY, "01:00", "04:00"),), first_day=BERLIN_FALL_BACK)

    assert [slot.start.strftime("%d %H:%M") for slot in result] == [
        "24 23:00", "24 23:30", "25 00:00", "25 00:30",
        "25 01:00", "25 01:30", "25 02:00", "25 02:30",
    ]  # fmt: skip


def test_a_rule_starting_in_the_skipped_hour_starts_one_hour_later_on_the_wall_clock():
    # 02:30 does not exist on 29 March in Berlin; PEP 495 fold=0 reads it as 03:30 CEST.
    result = slots(weekly=(hours(SUNDAY, "02:30", "05:00"),), first_day=BERLIN_SPRING_FORWARD)

    local = [slot.start.astimezone(BERLIN) for slot in result]
    assert [(time.strftime("%H:%M"), time.tzname()) for time in local] == [
        ("03:30", "CEST"),
        ("04:00", "CEST"),
        ("04:30", "CEST"),
    ]


def test_a_rule_starting_in_the_repeated_hour_starts_at_its_first_occurrence():
    # 02:30 happens twice on 25 October in Berlin; the rule starts at the first (CEST) one,
    # and runs to 03:30 CET: two real hours.
    result = slots(weekly=(hours(SUNDAY, "02:30", "03:30"),), first_day=BERLIN_FALL_BACK)

    local = [slot.start.astimezone(BERLIN) for slot in result]
    assert [(time.strftime("%H:%M"), time.tzname()) for time in local] == [
        ("02:30", "CEST"),
        ("02:00", "CET"),
        ("02:30", "CET"),
        ("03:00", "CET"),
    ]


def test_time_off_in_wall_time_covers_both_runs_of_the_repeated_hour():
    result = slots(
        weekly=(hours(SUNDAY, "01:00", "04:00"),),
        first_day=BERLIN_FALL_BACK,
        time_off=(LocalPeriod(wall(BERLIN_FALL_BACK, "02:00"), wall(BERLIN_FALL_BACK, "03:00")),),
    )

    local = [slot.start.astimezone(BERLIN) for slot in result]
    assert [(time.strftime("%H:%M"), time.tzname()) for time in local] == [
        ("01:00", "CEST"),
        ("01:30", "CEST"),
        ("03:00", "CET"),
        ("03:30", "CET"),
    ]


def test_time_off_across_the_skipped_hour_covers_the_real_time_between():
    # 01:30 CET to 03:30 CEST is one real hour: it takes the 01:30 and 03:00 slots.
    result = slots(
        weekly=(hours(SUNDAY, "01:00", "04:00"),),
        first_day=BERLIN_SPRING_FORWARD,
        time_off=(
            LocalPeriod(wall(BERLIN_SPRING_FORWARD, "01:30"), wall(BERLIN_SPRING_FORWARD, "03:30")),
        ),
    )

    local = [slot.start.astimezone(BERLIN) for slot in result]
    assert [(time.strftime("%H:%M"), time.tzname()) for time in local] == [
        ("01:00", "CET"),
        ("03:30", "CEST"),
    ]


def test_a_whole_day_off_on_the_fall_back_sunday_covers_all_25_hours():
    next_day = BERLIN_FALL_BACK + dt.timedelta(days=1)

    result = slots(
        weekly=(hours(SUNDAY, "22:00", "23:30"), hours(MONDAY, "00:00", "01:00")),
        first_day=BERLIN_FALL_BACK,
        last_day=next_day,
        time_off=(LocalPeriod(wall(BERLIN_FALL_BACK, "00:00"), wall(next_day, "00:00")),),
    )

    assert local_days_and_times(result) == ["26 00:00", "26 00:30"]


def test_a_whole_day_off_on_the_spring_forward_sunday_ends_at_monday_midnight():
    next_day = BERLIN_SPRING_FORWARD + dt.timedelta(days=1)

    result = slots(
        weekly=(hours(SUNDAY, "22:00", "23:30"), hours(MONDAY, "00:00", "01:00")),
        first_day=BERLIN_SPRING_FORWARD,
        last_day=next_day,
        time_off=(LocalPeriod(wall(BERLIN_SPRING_FORWARD, "00:00"), wall(next_day, "00:00")),),
    )

    assert local_days_and_times(result) == ["30 00:00", "30 00:30"]


# What comes back ----------------------------------------------------------------------


def test_slots_come_back_sorted_whatever_order_the_rules_are_given_in():
    weekly = (
        hours(WEDNESDAY, "13:00", "15:00"),
        hours(MONDAY, "14:00", "16:00"),
        hours(WEDNESDAY, "08:00", "10:00"),
        hours(TUESDAY, "09:00", "11:00"),
        hours(MONDAY, "08:00", "10:00"),
    )
    saturday = A_MONDAY + dt.timedelta(days=5)

    result = slots(
        weekly=weekly,
        first_day=A_MONDAY,
        last_day=saturday,
        extra=(date_hours(saturday, "10:00", "11:00"), date_hours(A_MONDAY, "11:00", "12:00")),
    )

    starts = [slot.start for slot in result]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)
    assert len(result) == 4 + 2 + 4 + 4 + 4 + 4 + 2


def test_slots_are_aware_utc_instants_of_the_requested_duration():
    result = slots(zone=NEW_YORK, minutes=20)

    assert result
    for slot in result:
        assert slot.start.tzinfo is UTC
        assert slot.end.tzinfo is UTC
        assert slot.end - slot.start == dt.timedelta(minutes=20)


@pytest.mark.parametrize("minutes", [0, -30])
def test_a_duration_that_is_not_positive_is_refused(minutes):
    with pytest.raises(ValueError, match="duration must be positive"):
        slots(minutes=minutes)


@pytest.mark.parametrize("step", [dt.timedelta(0), dt.timedelta(minutes=-15)])
def test_a_step_that_is_not_positive_is_refused(step):
    with pytest.raises(ValueError, match="step must be positive"):
        free_slots(
            weekly=(hours(MONDAY, "09:00", "17:00"),),
            zone=BERLIN,
            first_day=A_MONDAY,
            last_day=A_MONDAY,
            duration=dt.timedelta(minutes=30),
            step=step,
            window=ANY_TIME,
        )


# Properties -------------------------------------------------------------------------

FIVE_MINUTES = dt.timedelta(minutes=5)
ZONES = [BERLIN, NEW_YORK, ZoneInfo("UTC")]
# Weeks around every 2026 change in both zones, and one plain week.
FIRST_DAYS = [
    dt.date(2026, 3, 2),
    dt.date(2026, 3, 6),
    dt.date(2026, 3, 27),
    dt.date(2026, 10, 23),
    dt.date(2026, 10, 30),
    dt.date(2026, 6, 15),
]


def times(minimum: int = 0, maximum: int = 24 * 12 - 1) -> st.SearchStrategy[dt.time]:
    """Wall-clock times on a five-minute grid."""
    return st.integers(minimum, maximum).map(lambda n: dt.time(n * 5 // 60, n * 5 % 60))


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    zone = draw(st.sampled_from(ZONES))
    first_day = draw(st.sampled_from(FIRST_DAYS)) + dt.timedelta(days=draw(st.integers(0, 3)))
    last_day = first_day + dt.timedelta(days=draw(st.integers(0, 4)))
    days = [first_day + dt.timedelta(days=n) for n in range((last_day - first_day).days + 1)]

    def pair() -> st.SearchStrategy[list[dt.time]]:
        return st.tuples(times(), times()).map(sorted).filter(lambda p: p[0] < p[1])

    weekly = [
        WeeklyHours(weekday, start, end)
        for weekday, (start, end) in draw(
            st.lists(st.tuples(st.integers(0, 6), pair()), min_size=1, max_size=8)
        )
    ]
    extra = [
        DateHours(day, start, end)
        for day, (start, end) in draw(
            st.lists(st.tuples(st.sampled_from(days), pair()), max_size=3)
        )
    ]
    time_off = []
    for day, off_at, length in draw(
        st.lists(st.tuples(st.sampled_from(days), times(), st.integers(1, 24 * 12)), max_size=3)
    ):
        local_start = dt.datetime.combine(day, off_at)
        time_off.append(LocalPeriod(local_start, local_start + length * FIVE_MINUTES))
    range_start = dt.datetime.combine(first_day, dt.time(), tzinfo=zone).astimezone(UTC)
    booked = []
    for offset, length in draw(
        st.lists(st.tuples(st.integers(0, 5 * 24 * 12), st.integers(1, 36)), max_size=8)
    ):
        booked_at = range_start + offset * FIVE_MINUTES
        booked.append(Interval(booked_at, booked_at + length * FIVE_MINUTES))
    window = BookingWindow(
        now=range_start + draw(st.integers(-24 * 12, 24 * 12)) * FIVE_MINUTES,
        min_notice=draw(st.integers(0, 48)) * FIVE_MINUTES,
        horizon=draw(st.integers(24 * 12, 10 * 24 * 12)) * FIVE_MINUTES,
    )
    return {
        "weekly": weekly,
        "extra": extra,
        "time_off": time_off,
        "booked": booked,
        "zone": zone,
        "first_day": first_day,
        "last_day": last_day,
        "duration": draw(st.integers(1, 24)) * FIVE_MINUTES,
        "step": draw(st.none() | st.integers(1, 12).map(lambda n: n * FIVE_MINUTES)),
        "window": window,
    }


def working_pieces(scenario: dict[str, Any]) -> list[Interval]:
    """Every rule's own interval, unmerged, read as the module docstring says (fold=0)."""
    zone = scenario["zone"]
    pieces = []
    day = scenario["first_day"]
    while day <= scenario["last_day"]:
        rules = [(r.start, r.end) for r in scenario["weekly"] if r.weekday == day.weekday()]
        rules += [(h.start, h.end) for h in scenario["extra"] if h.date == day]
        for start, end in rules:
            pieces.append(
                Interval(
                    dt.datetime.combine(day, start, tzinfo=zone).astimezone(UTC),
                    dt.datetime.combine(day, end, tzinfo=zone).astimezone(UTC),
                )
            )
        day += dt.timedelta(days=1)
    return pieces


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_every_slot_is_inside_working_hours_and_clear_of_time_off_and_bookings(scenario):
    result = free_slots(**scenario)

    zone = scenario["zone"]
    time_off = [
        Interval(p.start.replace(tzinfo=zone), p.end.replace(tzinfo=zone))
        for p in scenario["time_off"]
    ]
    pieces = working_pieces(scenario)
    window = scenario["window"]
    for slot in result:
        assert slot.end - slot.start == scenario["duration"]
        assert window.earliest <= slot.start <= window.latest
        assert not any(slot.overlaps(blocked) for blocked in scenario["booked"])
        assert not any(slot.overlaps(period) for period in time_off)
        # Covered by working hours: every five minutes of it lie inside some rule.
        moment = slot.start
        while moment < slot.end:
            assert any(
                piece.start <= moment and moment + FIVE_MINUTES <= piece.end for piece in pieces
            )
            moment += FIVE_MINUTES
        local_day = slot.start.astimezone(zone).date()
        assert scenario["first_day"] <= local_day <= scenario["last_day"]
    starts = [slot.start for slot in result]
    assert starts == sorted(set(starts))


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_more_bookings_never_make_more_slots(scenario):
    with_bookings = free_slots(**scenario)
    without_bookings = free_slots(**{**scenario, "booked": [], "time_off": []})

    assert set(with_bookings) <= set(without_bookings)
