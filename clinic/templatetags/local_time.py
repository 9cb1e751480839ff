"""Local times with their zone's name, the repeated DST hour included (``clinic.local_time``).

``{{ value|in_zone:clinic.timezone|local_date:"l j F Y, H:i T" }}`` instead of Django's
``timezone`` and ``date`` filters, which lose CET/CEST in the hour that happens twice;
``{% local_now clinic.timezone "D j M, H:i T" %}`` instead of ``{% now %}``.
"""

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from clinic.local_time import in_zone as to_zone
from clinic.local_time import local_format

register = template.Library()


class _ZonedDatetime(dt.datetime):
    """A datetime the template engine must not convert to the current time zone again
    (the flag Django's own ``timezone`` filter sets)."""

    convert_to_local_time = False


@register.filter
def in_zone(value: Any, zone: Any) -> Any:
    """The same instant on ``zone``'s wall clock, keeping which of a repeated hour's two
    times it is (Django's ``timezone`` filter forgets that)."""
    if not isinstance(value, dt.datetime) or not zone:
        return ""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        local = to_zone(value, zone)
    except (ValueError, KeyError):  # an unknown zone name, like Django's filter
        return ""
    return _ZonedDatetime(
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        local.microsecond,
        local.tzinfo,
        fold=local.fold,
    )


@register.filter(expects_localtime=True, is_safe=False)
def local_date(value: Any, format_string: str = "DATETIME_FORMAT") -> str:
    """Django's ``date`` filter, with the zone's name (``T``) even in the repeated hour."""
    if not isinstance(value, dt.datetime):
        return ""
    return local_format(value, format_string)


@register.simple_tag
def local_now(zone: Any, format_string: str) -> str:
    """Now on ``zone``'s wall clock, formatted by ``local_date``."""
    return local_format(timezone.now(), format_string, zone)
