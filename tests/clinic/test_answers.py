"""The mechanism of answers kept whole (clinic/answers.py), without any view: what is
kept, until when, and what each request gets back."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from clinic import answers

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)


def test_the_key_names_its_parts_and_the_language():
    with translation.override("en"):
        english = answers.answer_key("page", 1, "a")
        assert answers.answer_key("page", 1, "a") == english
        assert answers.answer_key("page", 2, "a") != english
        assert answers.answer_key("other", 1, "a") != english
    with translation.override("de"):
        assert answers.answer_key("page", 1, "a") != english
    assert english.startswith("answer:page:")


def test_a_kept_answer_is_served_until_its_moment_and_not_after():
    with time_machine.travel(NOW, tick=False) as clock:
        response = HttpResponse(b'{"a": 1}', content_type="application/json")
        answers.keep_answer("answer:t:1", response, until=NOW + dt.timedelta(minutes=5))

        clock.move_to(NOW + dt.timedelta(minutes=4, seconds=59))
        kept = answers.kept_answer("answer:t:1")
        clock.move_to(NOW + dt.timedelta(minutes=5))
        ended = answers.kept_answer("answer:t:1")

    assert kept is not None
    assert kept.content == b'{"a": 1}'
    assert kept["Content-Type"] == "application/json"
    assert ended is None


def test_the_stored_moment_is_checked_whatever_the_cache_still_holds():
    with time_machine.travel(NOW, tick=False) as clock:
        cache.set("answer:t:2", (NOW.timestamp() + 60, b"old", ()), 3600)
        clock.move_to(NOW + dt.timedelta(minutes=1))

        assert answers.kept_answer("answer:t:2") is None


def test_an_answer_is_kept_at_most_an_hour():
    with time_machine.travel(NOW, tick=False) as clock:
        answers.keep_answer("answer:t:3", HttpResponse(b"x"), until=None)
        clock.move_to(NOW + dt.timedelta(seconds=answers.KEPT_ANSWER_SECONDS - 1))
        assert answers.kept_answer("answer:t:3") is not None
        clock.move_to(NOW + dt.timedelta(seconds=answers.KEPT_ANSWER_SECONDS))
        assert answers.kept_answer("answer:t:3") is None


@pytest.mark.parametrize(
    "response",
    [
        HttpResponse(b"error", status=400),
        HttpResponse(b"moved", status=302),
    ],
    ids=["a 400", "a redirect"],
)
def test_only_a_plain_200_is_kept(response):
    answers.keep_answer("answer:t:4", response, until=None)

    assert answers.kept_answer("answer:t:4") is None


def test_an_answer_that_sets_a_cookie_is_not_kept():
    response = HttpResponse(b"hello")
    response.set_cookie("who", "erika")

    answers.keep_answer("answer:t:5", response, until=None)

    assert answers.kept_answer("answer:t:5") is None


def test_an_answer_that_would_end_within_a_second_is_not_kept():
    with time_machine.travel(NOW, tick=False):
        answers.keep_answer(
            "answer:t:6", HttpResponse(b"x"), until=NOW + dt.timedelta(milliseconds=900)
        )
        assert answers.kept_answer("answer:t:6") is None


def test_each_request_gets_its_own_csrf_token_in_place_of_the_placeholder():
    page = f'<input name="csrfmiddlewaretoken" value="{answers.CSRF_PLACEHOLDER}">'.encode()
    first, second = RequestFactory().get("/"), RequestFactory().get("/")

    made = answers.keep_answer("answer:t:7", HttpResponse(page), until=None, request=first)
    kept = answers.kept_answer("answer:t:7", second)

    assert kept is not None
    assert answers.CSRF_PLACEHOLDER.encode() not in made.content
    assert answers.CSRF_PLACEHOLDER.encode() not in kept.content
    assert first.META["CSRF_COOKIE"] != second.META["CSRF_COOKIE"]
    assert cache.get("answer:t:7")[1] == page  # the placeholder, never a token


def test_the_request_id_and_cookies_are_not_kept_with_the_headers():
    response = HttpResponse(b"x", headers={"X-Request-ID": "abc", "Vary": "HX-Request"})

    answers.keep_answer("answer:t:8", response, until=None)
    kept = answers.kept_answer("answer:t:8")

    assert kept is not None
    assert "X-Request-ID" not in kept
    assert kept["Vary"] == "HX-Request"


def test_the_counts_say_what_was_found_missed_and_kept():
    before = answers.counts()
    answers.kept_answer("answer:counted:1")
    answers.keep_answer("answer:counted:1", HttpResponse(b"x"), until=None)
    answers.kept_answer("answer:counted:1")
    after = answers.counts()

    for what in ("miss", "kept", "hit"):
        assert after[("counted", what)] == before.get(("counted", what), 0) + 1


@pytest.mark.parametrize(
    ("now", "offsets", "expected"),
    [
        # Wednesday 09:00 in Berlin: the date changes at midnight, 23:00 UTC in winter.
        (NOW, (), dt.datetime(2026, 3, 4, 23, 0, tzinfo=dt.UTC)),
        # Two hours' notice: the first bookable date changes at 22:00 in Berlin.
        (NOW, (dt.timedelta(hours=2),), dt.datetime(2026, 3, 4, 21, 0, tzinfo=dt.UTC)),
        # A horizon of 90 days ends in summer time: midnight there is 22:00 UTC.
        (NOW, (dt.timedelta(days=90),), dt.datetime(2026, 3, 4, 22, 0, tzinfo=dt.UTC)),
        # The night the clocks go forward (29 March): midnight before it is still CET.
        (
            dt.datetime(2026, 3, 28, 12, 0, tzinfo=dt.UTC),
            (),
            dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC),
        ),
        # ...and the next midnight is CEST's.
        (
            dt.datetime(2026, 3, 29, 12, 0, tzinfo=dt.UTC),
            (),
            dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC),
        ),
    ],
    ids=["today", "notice", "horizon", "before-dst", "after-dst"],
)
def test_the_next_date_change_is_the_clinics_midnight(now, offsets, expected):
    assert answers.next_date_change(BERLIN, now, *offsets) == expected


def test_the_earliest_of_some_moments_ignores_the_unknown():
    assert answers.earliest(None, NOW, NOW + dt.timedelta(1)) == NOW
    assert answers.earliest(None, None) is None
