"""Times on a clinic's wall clock with their zone's name, the repeated DST hour included.

On the autumn night (Europe/Berlin, the last Sunday of October) 02:00-03:00 happens
twice, first as CEST, then as CET. Django's ``date`` filter and ``dateformat`` blank the
zone name (``T``, and ``e``, ``O``, ``Z``) of such an ambiguous time, because a naive
value could be either; the ``timezone`` template filter also drops the datetime's
``fold``, which says which of the two it is. An aware datetime converted with
``astimezone`` knows which, so here the zone's own ``tzname()`` and ``utcoffset()`` are
used: "02:30 CEST" and, an hour later, "02:30 CET".

Every page, email and message that shows a local time goes through ``local_format`` (or
the template filters in ``clinic/templatetags/local_time.py``, which call it).
"""

import datetime as dt
import zoneinfo

from django.utils import dateformat, formats


class _ZoneDateFormat(dateformat.DateFormat):
    """Django's DateFormat with the zone taken from the value itself, ambiguous or not."""

    def __init__(self, obj: dt.date | dt.datetime) -> None:
        super().__init__(obj)
        if isinstance(obj, dt.datetime) and obj.tzinfo is not None:
            self.timezone = obj.tzinfo


def in_zone(moment: dt.datetime, zone: dt.tzinfo | str) -> dt.datetime:
    """``moment`` on the wall clock of ``zone`` (a tzinfo or an IANA name)."""
    tzinfo = zoneinfo.ZoneInfo(zone) if isinstance(zone, str) else zone
    return moment.astimezone(tzinfo)


def local_format(
    moment: dt.datetime, format_string: str, zone: dt.tzinfo | str | None = None
) -> str:
    """Format ``moment`` like Django's ``date`` filter (a format string or a format
    setting's name, e.g. ``"DATETIME_FORMAT"``, in the active language), in ``zone`` if
    given, else in the zone it carries, with that zone's own name for ``T``."""
    if zone is not None:
        moment = in_zone(moment, zone)
    return _ZoneDateFormat(moment).format(formats.get_format(format_string))
