"""Free start times of a doctor, as a pure function.

``free_slots`` knows nothing of the database: it takes the weekly rules, extra hours,
time off and booked intervals, the clinic's zone and "now", and returns the bookable
slots. The booking service calls the same function, so what patients are shown is
exactly what can be booked.

Time-zone rules (all wall-clock input is in the clinic's zone):

- A rule "Mon 9:00-17:00" is 9:00 local on every Monday, whatever the UTC offset.
- Slots are laid out in real (UTC) time from the start of each working interval, so an
  interval that spans a DST change holds as many slots as it has real minutes. On the
  spring-forward night the skipped hour simply has no slots; on the fall-back night the
  repeated hour has slots twice, told apart by the zone abbreviation (CEST/CET).
- A local time that does not exist (02:30 on a spring-forward night) is read as PEP 495
  ``fold=0`` does: shifted forward by the gap (03:30). A repeated local time means its
  first occurrence.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Working hours on a weekday (0 = Monday), local wall-clock time."""

    weekday: int
    start: dt.time
    end: dt.time


@dataclass(frozen=True, slots=True)
class DateHours:
    """Working hours on one date, local wall-clock time."""

    date: dt.date
    start: dt.time
    end: dt.time


@dataclass(frozen=True, slots=True)
class LocalPeriod:
    """A period in local wall-clock time, e.g. time off from Mon 00:00 to Wed 00:00."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class DoctorHours:
    """Everything that says when a doctor works over some local dates: the weekly hours,
    the extra hours and the time off of those dates."""

    weekly: list[WeeklyHours]
    extra: list[DateHours]
    time_off: list[LocalPeriod]


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """A half-open interval [start, end) of aware datetimes."""

    start: dt.datetime
    end: dt.datetime

    def overlaps(self, other: "Interval") -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class BookingWindow:
    """How close to now and how far ahead a slot may start."""

    now: dt.datetime
    min_notice: dt.timedelta
    horizon: dt.timedelta

    @property
    def earliest(self) -> dt.datetime:
        return self.now + self.min_notice

    @property
    def latest(self) -> dt.datetime:
        return self.now + self.horizon


def first_overlap(intervals: Iterable[WeeklyHours]) -> tuple[WeeklyHours, WeeklyHours] | None:
    """The first two intervals that overlap on one weekday (the earlier first), or None.

    The one statement of the rule "a weekday's intervals do not overlap", checked by the
    model (the admin), the services (under the doctor's lock) and the forms alike. An
    interval given twice overlaps itself; touching intervals (9-12, 12-17) do not."""
    ordered = sorted(intervals, key=lambda hours: (hours.weekday, hours.start, hours.end))
    for earlier, later in pairwise(ordered):
        if earlier.weekday == later.weekday and later.start < earlier.end:
            return earlier, later
    return None


def local_to_utc(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=zone).astimezone(UTC)


def working_intervals(
    *,
    weekly: Iterable[WeeklyHours],
    extra: Iterable[DateHours],
    zone: ZoneInfo,
    first_day: dt.date,
    last_day: dt.date,
) -> list[Interval]:
    """The working intervals on local dates ``first_day`` through ``last_day``, in UTC,
    sorted and with overlapping or touching intervals merged."""
    by_weekday: dict[int, list[WeeklyHours]] = {}
    for rule in weekly:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    by_date: dict[dt.date, list[DateHours]] = {}
    for hours in extra:
        by_date.setdefault(hours.date, []).append(hours)

    intervals: list[Interval] = []
    day = first_day
    while day <= last_day:
        pairs = [(r.start, r.end) for r in by_weekday.get(day.weekday(), [])]
        pairs += [(h.start, h.end) for h in by_date.get(day, [])]
        for start, end in pairs:
            if end > start:
                intervals.append(
                    Interval(local_to_utc(day, start, zone), local_to_utc(day, end, zone))
                )
        day += dt.timedelta(days=1)
    return merge(intervals)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if interval.end <= interval.start:
            continue
        if merged and interval.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, interval.end))
        else:
            merged.append(interval)
    return merged


def periods_to_utc(periods: Iterable[LocalPeriod], zone: ZoneInfo) -> list[Interval]:
    return [
        Interval(
            period.start.replace(tzinfo=zone).astimezone(UTC),
            period.end.replace(tzinfo=zone).astimezone(UTC),
        )
        for period in periods
    ]


def free_slots(
    *,
    weekly: Iterable[WeeklyHours],
    extra: Iterable[DateHours] = (),
    time_off: Iterable[LocalPeriod] = (),
    booked: Iterable[Interval] = (),
    zone: ZoneInfo,
    first_day: dt.date,
    last_day: dt.date,
    duration: dt.timedelta,
    step: dt.timedelta | None = None,
    window: BookingWindow,
) -> list[Interval]:
    """Every bookable slot of ``duration`` starting on local dates ``first_day`` through
    ``last_day``, in start order.

    A slot is bookable when it lies inside one working interval, overlaps no time off and
    no booked interval, starts no sooner than the minimum notice and no later than the
    horizon. Start times sit on a grid of ``step`` (default: the duration) counted from
    the start of each working interval.
    """
    if duration <= dt.timedelta(0):
        raise ValueError("duration must be positive")
    step = duration if step is None else step
    if step <= dt.timedelta(0):
        raise ValueError("step must be positive")

    blocked = merge([*periods_to_utc(time_off, zone), *booked])
    slots: list[Interval] = []
    for interval in working_intervals(
        weekly=weekly, extra=extra, zone=zone, first_day=first_day, last_day=last_day
    ):
        start = interval.start
        while start + duration <= interval.end:
            slot = Interval(start, start + duration)
            if window.earliest <= slot.start <= window.latest and not _overlaps_any(slot, blocked):
                slots.append(slot)
            start += step
    return slots


def _overlaps_any(slot: Interval, blocked: Sequence[Interval]) -> bool:
    # ``blocked`` is sorted and merged, so a binary search finds the only candidate.
    low, high = 0, len(blocked)
    while low < high:
        middle = (low + high) // 2
        if blocked[middle].end <= slot.start:
            low = middle + 1
        else:
            high = middle
    return low < len(blocked) and blocked[low].start < slot.end
