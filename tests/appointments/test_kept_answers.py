"""Answers kept whole (clinic/answers.py): a doctor's free times from the API and the
doctor's week page, served again byte for byte until a version in their key or the clock
changes them, with each visitor's own CSRF token and nothing else of anyone's.

Now is Wed 2026-03-04 09:00 in Berlin (``frozen_now``); doctors work Mon-Fri 9-17 in
30-minute slots; the clinic's minimum notice is 2 hours, its horizon 90 days.
"""

import datetime as dt
import pickle
import re
from typing import Any

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from appointments import api as appointments_api
from appointments import services
from appointments import views as appointments_views
from clinic import answers
from scheduling import services as scheduling_services
from scheduling.models import Doctor
from tests.api.helpers import client_for
from tests.factories import (
    book,
    local,
    log_in,
    make_clinic,
    make_doctor,
    make_patient,
    make_staff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

MONDAY = "2026-03-09"
# Headers a request makes for itself, which no two answers share.
PER_REQUEST = {"X-Request-ID"}
CSRF_VALUE = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[A-Za-z0-9]+')


@pytest.fixture
def doctor() -> Doctor:
    return make_doctor(make_clinic())


def free_times(client: Any, doctor: Doctor, first: str = MONDAY, last: str = MONDAY) -> Any:
    return client.get(f"/api/v1/doctors/{doctor.pk}/availability?from={first}&to={last}")


def starts(response: Any) -> list[str]:
    return [slot["start"] for slot in response.json()]


def week_page(client: Client, doctor: Doctor, week: str = MONDAY, **headers: str) -> Any:
    return client.get(f"/doctors/{doctor.pk}/?week={week}", headers=headers)


def was_kept(response: Any) -> bool:
    return getattr(response, "kept_answer", False)


def headers_of(response: Any) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in PER_REQUEST}


def without_tokens(page: str) -> str:
    return CSRF_VALUE.sub(r"\1TOKEN", page)


def signed_in_patient(**fields: Any) -> Client:
    client = Client()
    log_in(client, make_patient(**fields))
    return client


# --- A kept answer is the fresh one ---------------------------------------------------------


@pytest.mark.parametrize("last", [MONDAY, "2026-03-15"], ids=["one day", "one week"])
def test_the_kept_free_times_are_byte_for_byte_the_fresh_ones(doctor, last):
    api = client_for(make_patient().user)
    made = free_times(api, doctor, last=last)
    kept = free_times(api, doctor, last=last)
    cache.clear()
    fresh = free_times(api, doctor, last=last)

    assert (was_kept(made), was_kept(kept), was_kept(fresh)) == (False, True, False)
    assert kept.status_code == fresh.status_code == 200
    assert kept.content == fresh.content
    assert headers_of(kept) == headers_of(fresh)
    assert kept["Content-Type"] == "application/json"
    assert "no-store" in kept["Cache-Control"]


def test_the_kept_week_page_is_the_fresh_one_but_for_each_requests_csrf_token(doctor):
    client = signed_in_patient()
    made = week_page(client, doctor)
    kept = week_page(client, doctor)
    cache.clear()
    fresh = week_page(client, doctor)

    assert (was_kept(made), was_kept(kept), was_kept(fresh)) == (False, True, False)
    assert without_tokens(kept.text) == without_tokens(fresh.text)
    assert headers_of(kept) == headers_of(fresh)
    assert kept["Content-Type"] == "text/html; charset=utf-8"
    assert "no-store" in kept["Cache-Control"]
    assert "HX-Request" in kept["Vary"]
    assert answers.CSRF_PLACEHOLDER not in kept.text


def test_the_csrf_token_in_a_kept_page_is_the_visitors_own(doctor):
    week_page(signed_in_patient(), doctor)  # kept, for someone else
    client = Client(enforce_csrf_checks=True)
    log_in(client, make_patient())

    page = week_page(client, doctor)
    token = re.search(r'csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', page.text).group(1)  # type: ignore[union-attr]
    switched = client.post(
        reverse("accounts:set-language"), {"language": "de", "csrfmiddlewaretoken": token}
    )

    assert was_kept(page)
    assert switched.status_code == 302  # not 403: the token is this visitor's


def test_nothing_of_a_visitor_is_in_the_shared_cache(doctor, monkeypatch):
    kept: list[bytes] = []
    real_set = cache.set

    def recording_set(key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key.startswith("answer:"):
            kept.append(pickle.dumps(value))
        return real_set(key, value, *args, **kwargs)

    monkeypatch.setattr(cache, "set", recording_set)
    client = Client()
    log_in(client, make_patient(email="erika@example.com", full_name="Erika Mustermann"))
    page = week_page(client, doctor).text
    free_times(client_for(make_patient(full_name="Max Muster").user), doctor)

    assert len(kept) == 2
    token = re.search(r'"X-CSRFToken": "([A-Za-z0-9]+)"', page).group(1)  # type: ignore[union-attr]
    for value in kept:
        for personal in (b"Erika", b"erika@example.com", b"Max Muster", token.encode()):
            assert personal not in value
    assert answers.CSRF_PLACEHOLDER.encode() in kept[0]


# --- The key: versions, rows, visitor, language ----------------------------------------------


def test_a_booking_shows_at_once_in_the_kept_answers_of_everyone(doctor):
    patient = make_patient()
    own, other = client_for(patient.user), client_for(make_patient().user)
    own_page, other_page = Client(), signed_in_patient()
    log_in(own_page, patient)
    ten = "2026-03-09T10:00:00+01:00"
    assert ten in starts(free_times(own, doctor))
    assert ten in starts(free_times(other, doctor))
    assert "start=2026-03-09T09:00:00Z" in week_page(own_page, doctor).text
    assert "start=2026-03-09T09:00:00Z" in week_page(other_page, doctor).text

    booked = own.post(
        "/api/v1/appointments",
        {"doctor": doctor.pk, "appointment_type": doctor.appointment_types.get().pk, "start": ten},
        format="json",
        headers={"Idempotency-Key": "a-booking-shows-at-once"},
    )

    assert booked.status_code == 201
    assert ten not in starts(free_times(own, doctor))  # their own next request
    assert ten not in starts(free_times(other, doctor))  # and anyone else's
    assert "start=2026-03-09T09:00:00Z" not in week_page(own_page, doctor).text
    assert "start=2026-03-09T09:00:00Z" not in week_page(other_page, doctor).text


def test_a_cancel_frees_the_time_at_once_in_the_kept_answers(doctor):
    patient = make_patient()
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10))
    api, page = client_for(make_patient().user), signed_in_patient()
    assert "2026-03-09T10:00:00+01:00" not in starts(free_times(api, doctor))
    assert "start=2026-03-09T09:00:00Z" not in week_page(page, doctor).text
    assert was_kept(free_times(api, doctor))
    assert was_kept(week_page(page, doctor))

    services.cancel_appointment(appointment=appointment, cancelled_by=patient.user)

    assert "2026-03-09T10:00:00+01:00" in starts(free_times(api, doctor))
    assert "start=2026-03-09T09:00:00Z" in week_page(page, doctor).text


def test_hours_and_time_off_changes_show_at_once_in_the_kept_answers(doctor):
    staff = make_staff(clinics=(doctor.clinic,))
    api, page = client_for(make_patient().user), signed_in_patient()
    assert len(starts(free_times(api, doctor))) == 16
    week_page(page, doctor)

    scheduling_services.add_time_off(
        doctor=doctor,
        start_date=dt.date(2026, 3, 9),
        end_date=dt.date(2026, 3, 9),
        start_time=None,
        end_time=None,
        reason="",
        changed_by=staff,
    )

    assert starts(free_times(api, doctor)) == []
    assert "start=2026-03-09T" not in week_page(page, doctor).text

    rule = doctor.weekly_rules.get(weekday=1)
    scheduling_services.change_weekly_interval(
        rule=rule, start_time=dt.time(9), end_time=dt.time(10), changed_by=staff
    )

    assert len(starts(free_times(api, doctor, first="2026-03-10", last="2026-03-10"))) == 2


def test_a_renamed_doctor_or_clinic_shows_at_once_on_the_kept_page(doctor):
    client = signed_in_patient()
    assert doctor.name in week_page(client, doctor).text

    Doctor.objects.filter(pk=doctor.pk).update(name="Dr. Renamed")  # no version bump
    assert "Dr. Renamed" in week_page(client, doctor).text

    type(doctor.clinic).objects.filter(pk=doctor.clinic.pk).update(phone="+49 30 7654321")
    assert "+49 30 7654321" in week_page(client, doctor).text


def test_a_kept_page_is_kept_per_kind_of_visitor_and_language(doctor):
    patient = signed_in_patient()
    anonymous = Client()

    assert "Sign out" in week_page(patient, doctor).text
    assert "Sign out" not in week_page(anonymous, doctor).text
    assert "Sign out" in week_page(patient, doctor).text
    german = week_page(patient, doctor, **{"Accept-Language": "de"}).text
    assert '<html lang="de">' in german
    assert "Freie Termine" in german
    assert '<html lang="en">' in week_page(patient, doctor).text


def test_free_times_asked_for_in_another_form_are_kept_apart(doctor):
    api = client_for(make_patient().user)
    plain = free_times(api, doctor).content
    indented = api.get(
        f"/api/v1/doctors/{doctor.pk}/availability?from={MONDAY}&to={MONDAY}",
        headers={"Accept": "application/json; indent=4"},
    ).content

    assert b"\n    " in indented
    assert b"\n" not in plain
    assert free_times(api, doctor).content == plain


def test_a_page_with_messages_to_show_is_rendered_for_its_visitor_alone(doctor):
    client = signed_in_patient()
    week_page(client, doctor)  # kept
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(constants.SUCCESS, "Booked, Erika.")
    carrier = HttpResponse()
    storage.update(carrier)
    client.cookies["messages"] = carrier.cookies["messages"].value

    own = week_page(client, doctor)
    others = week_page(signed_in_patient(), doctor)

    assert not was_kept(own)
    assert "Booked, Erika." in own.text
    assert was_kept(others)
    assert "Booked, Erika." not in others.text


def test_htmx_requests_for_the_week_are_rendered_fresh(doctor):
    client = signed_in_patient()
    week_page(client, doctor)

    fragment = week_page(client, doctor, **{"HX-Request": "true"})

    assert not was_kept(fragment)
    assert "<html" not in fragment.text


# --- The control: a key without the version would serve the past ------------------------------


def test_the_harness_sees_a_stale_answer_when_the_key_leaves_the_version_out(doctor, monkeypatch):
    def constant_key(kind: str, *parts: object) -> str:
        return f"answer:{kind}:the-same-whatever-changed"

    monkeypatch.setattr(appointments_api, "answer_key", constant_key)
    monkeypatch.setattr(appointments_views, "answer_key", constant_key)
    api, page = client_for(make_patient().user), signed_in_patient()
    assert "2026-03-09T10:00:00+01:00" in starts(free_times(api, doctor))
    assert "start=2026-03-09T09:00:00Z" in week_page(page, doctor).text

    book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))

    # Stale: the booked time is still shown free, as the real key prevents.
    assert "2026-03-09T10:00:00+01:00" in starts(free_times(api, doctor))
    assert "start=2026-03-09T09:00:00Z" in week_page(page, doctor).text


# --- The clock -------------------------------------------------------------------------------


def test_the_kept_free_times_end_when_the_first_one_comes_within_the_notice(doctor, frozen_now):
    api = client_for(make_patient().user)
    today = "2026-03-04"
    frozen_now.move_to("2026-03-04 08:10Z")  # 09:10 in Berlin: 11:30 is the first shown
    first = starts(free_times(api, doctor, today, today))
    assert first[0] == "2026-03-04T11:30:00+01:00"

    frozen_now.move_to("2026-03-04 08:29:59Z")
    just_before = free_times(api, doctor, today, today)
    frozen_now.move_to("2026-03-04 08:30Z")  # 11:30 is as soon as the 2 hours' notice allows
    at_the_moment = free_times(api, doctor, today, today)
    frozen_now.move_to("2026-03-04 08:30:01Z")  # and within it now
    after = free_times(api, doctor, today, today)

    assert was_kept(just_before)
    assert starts(just_before) == first
    # The entry ends at the last moment the time is shown (an instant early, never late).
    assert not was_kept(at_the_moment)
    assert starts(at_the_moment) == first
    assert starts(after) == first[1:]


def test_the_kept_free_times_end_when_the_horizon_reaches_a_new_one(frozen_now):
    # The horizon ends on Friday at 10:00 (2 days and an hour from Wednesday 09:00).
    doctor = make_doctor(make_clinic(booking_horizon=dt.timedelta(days=2, hours=1)))
    api = client_for(make_patient().user)
    friday = "2026-03-06"
    shown = starts(free_times(api, doctor, friday, friday))
    assert shown[-1] == "2026-03-06T10:00:00+01:00"

    frozen_now.move_to("2026-03-04 08:29:59Z")
    just_before = free_times(api, doctor, friday, friday)
    frozen_now.move_to("2026-03-04 08:30Z")  # the horizon reaches Friday 10:30
    at_the_moment = free_times(api, doctor, friday, friday)

    assert was_kept(just_before)
    assert starts(just_before) == shown
    assert not was_kept(at_the_moment)
    assert starts(at_the_moment) == [*shown, "2026-03-06T10:30:00+01:00"]


def test_the_kept_week_page_ends_when_the_clinics_day_changes(doctor, frozen_now):
    frozen_now.move_to("2026-03-04 20:30Z")  # Wednesday 21:30 in Berlin: nothing left today
    client = Client()  # signed out: a session would time out while the clock moves
    evening = week_page(client, doctor, "2026-03-02").text
    assert evening.count(">Past<") == 2  # Monday and Tuesday
    # The first bookable day (2 hours on) changes at 22:00 in Berlin, the last (90 days
    # on, in summer time) at 23:00: the entry is made again at each (a little early).
    frozen_now.move_to("2026-03-04 20:59:59Z")
    assert was_kept(week_page(client, doctor, "2026-03-02"))
    frozen_now.move_to("2026-03-04 21:00Z")
    assert not was_kept(week_page(client, doctor, "2026-03-02"))
    frozen_now.move_to("2026-03-04 22:30Z")
    assert not was_kept(week_page(client, doctor, "2026-03-02"))

    frozen_now.move_to("2026-03-04 22:59:59Z")
    just_before = week_page(client, doctor, "2026-03-02")
    frozen_now.move_to("2026-03-04 23:00Z")  # midnight in Berlin: Wednesday is past too
    after_midnight = week_page(client, doctor, "2026-03-02")

    assert was_kept(just_before)
    assert just_before.text.count(">Past<") == 2
    assert not was_kept(after_midnight)
    assert after_midnight.text.count(">Past<") == 3


def test_a_week_asked_for_without_a_date_is_kept_for_today_only(doctor, frozen_now):
    api = client_for(make_patient().user)
    frozen_now.move_to("2026-03-04 19:00Z")
    path = f"/api/v1/doctors/{doctor.pk}/availability"
    wednesday = api.get(path)
    assert was_kept(api.get(path))

    frozen_now.move_to("2026-03-04 23:00Z")  # Thursday in Berlin: from Thursday on
    thursday = api.get(path)

    assert not was_kept(thursday)
    assert starts(thursday)[0].startswith("2026-03-05T09:00")
    assert starts(thursday) != starts(wednesday)
