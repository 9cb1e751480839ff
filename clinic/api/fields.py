"""Serializer fields and schema helpers shared by the apps' API modules."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers


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


def local_iso(instant: dt.datetime, zone: ZoneInfo) -> str:
    """``instant`` in the clinic's zone, ISO 8601 with that zone's offset at the time."""
    return instant.astimezone(zone).isoformat()


def problems(*statuses: int) -> dict[int, OpenApiResponse]:
    """Schema entries for an operation's own problem statuses (409, 422); the schema
    hook gives each the Problem body."""
    return {status: OpenApiResponse(description="Problem.") for status in statuses}
