"""Local times keep their zone's name in the hour that happens twice: Berlin, Sunday
25 October 2026, 02:00-03:00 first in summer time (CEST), then in winter time (CET)."""

import datetime as dt

import pytest
import time_machine
from django.template import Context, Template
from django.utils import dateformat

from clinic.local_time import local_format

BERLIN = "Europe/Berlin"
FIRST_0230 = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)  # 02:30 CEST
SECOND_0230 = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)  # 02:30 CET


def render(source: str, **context) -> str:
    return Template("{% load local_time %}" + source).render(Context(context))


def test_djangos_own_format_blanks_the_zone_of_the_repeated_hour():
    # Why clinic.local_time exists: if this starts passing, Django has fixed it.
    from zoneinfo import ZoneInfo

    local = SECOND_0230.astimezone(ZoneInfo(BERLIN))
    assert dateformat.format(local, "H:i T") == "02:30 "


def test_both_times_of_the_repeated_hour_have_their_zone_names():
    assert local_format(FIRST_0230, "H:i T", BERLIN) == "02:30 CEST"
    assert local_format(SECOND_0230, "H:i T", BERLIN) == "02:30 CET"
    # The offset too, which Django also blanks.
    assert local_format(SECOND_0230, "O", BERLIN) == "+0100"


def test_times_outside_the_repeated_hour_are_formatted_as_django_does():
    noon = dt.datetime(2026, 3, 9, 11, 0, tzinfo=dt.UTC)
    assert local_format(noon, "l j F Y, H:i T", BERLIN) == "Monday 9 March 2026, 12:00 CET"


def test_the_filters_keep_which_of_the_two_times_it_is():
    source = '{{ value|in_zone:zone|local_date:"D j M, H:i T" }}'

    assert render(source, value=FIRST_0230, zone=BERLIN) == "Sun 25 Oct, 02:30 CEST"
    assert render(source, value=SECOND_0230, zone=BERLIN) == "Sun 25 Oct, 02:30 CET"
    # Django's timezone and date filters, for comparison: the name is lost.
    django = "{% load tz %}{{ value|timezone:zone|date:'H:i T' }}"
    assert render(django, value=SECOND_0230, zone=BERLIN) == "02:30 "


def test_the_filters_take_a_zone_object_and_give_nothing_for_an_unknown_zone():
    from zoneinfo import ZoneInfo

    source = '{{ value|in_zone:zone|local_date:"H:i T" }}'
    assert render(source, value=SECOND_0230, zone=ZoneInfo(BERLIN)) == "02:30 CET"
    assert render(source, value=SECOND_0230, zone="Mars/Olympus") == ""
    assert render(source, value="not a time", zone=BERLIN) == ""


@pytest.mark.parametrize(
    ("now", "expected"), [(FIRST_0230, "02:30 CEST"), (SECOND_0230, "02:30 CET")]
)
def test_the_clock_on_the_pages_names_the_zone_in_the_repeated_hour(now, expected):
    with time_machine.travel(now, tick=False):
        assert render('{% local_now zone "H:i T" %}', zone=BERLIN) == expected
