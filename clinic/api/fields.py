"""Serializer fields and schema helpers shared by the apps' API modules."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from clinic.dates import EARLIEST_DATE, LATEST_DATE


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field[dt.datetime, dt.datetime, str, Any]):
    """An ISO 8601 instant with its UTC offset (``2026-03-09T10:00:00+01:00``), read
    as UTC. A time without an offset is refused: it would not say which instant it means."""

    default_error_messages = {
        "invalid": "Give the time in ISO 8601 form with its UTC offset, "
        "e.g. 2026-03-09T10:00:00+01:00.",
        "naive": "Give the time with its UTC offset, e.g. 2026-03-09T10:00:00+01:00.",
        "out_of_range": "Give a time in the years 1900 to 2999.",
    }

    def to_internal_value(self, data: Any) -> dt.datetime:
        if not isinstance(data, str) or len(data) > 40:
            self.fail("invalid")
        try:
            parsed = dt.datetime.fromisoformat(data.strip())
        except ValueError:
            self.fail("invalid")
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.fail("naive")
        # Far from any bookable time, and safe from overflow when durations are added.
        if not 1900 <= parsed.year <= 2999:
            self.fail("out_of_range")
        return parsed.astimezone(dt.UTC)

    def to_representation(self, value: dt.datetime) -> str:
        return value.isoformat()


class LocalDateField(serializers.DateField):
    """A date in the clinic's zone, YYYY-MM-DD, from 1900 to 2999."""

    default_error_messages = {
        **serializers.DateField.default_error_messages,
        "out_of_range": f"Give a date from {EARLIEST_DATE} to {LATEST_DATE}.",
    }

    def to_internal_value(self, value: Any) -> dt.date:
        date = super().to_internal_value(value)
        if not EARLIEST_DATE <= date <= LATEST_DATE:
            self.fail("out_of_range")
        return date


class WallClockTimeField(serializers.TimeField):
    """A time of day in the clinic's zone, HH:MM. Seconds are refused rather than kept:
    the time is shown as HH:MM, and a hidden 09:00:30 would make the shown hours lie."""

    default_error_messages = {
        **serializers.TimeField.default_error_messages,
        "not_whole_minute": "Give the time in whole minutes, HH:MM.",
        "offset": "Give the clinic's wall-clock time, HH:MM, without a UTC offset.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)

    def to_internal_value(self, value: Any) -> dt.time:
        if isinstance(value, str) and _has_offset(value):
            # Django's parser would drop the offset silently: 09:00+05:00 is not 09:00.
            self.fail("offset")
        time = super().to_internal_value(value)
        if time.second or time.microsecond:
            self.fail("not_whole_minute")
        return time


def _has_offset(value: str) -> bool:
    try:
        return dt.time.fromisoformat(value.strip()).tzinfo is not None
    except ValueError:
        return False  # not a time at all: TimeField says so


def local_iso(instant: dt.datetime, zone: ZoneInfo) -> str:
    """``instant`` in the clinic's zone, ISO 8601 with that zone's offset at the time."""
    return instant.astimezone(zone).isoformat()


def problems(*statuses: int) -> dict[int, OpenApiResponse]:
    """Schema entries for an operation's own problem statuses (409, 422); the schema
    hook gives each the Problem body."""
    return {status: OpenApiResponse(description="Problem.") for status in statuses}
