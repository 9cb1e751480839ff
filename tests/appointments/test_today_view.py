"""The today view on /staff/: today's appointments, those to mark, today's
cancellations and the coming week's conflicts. Now is Mon 2026-03-09 10:45 in Berlin."""

import datetime as dt

import pytest
from django.urls import reverse

from appointments.services import cancel_appointment
from tests.factories import book, local, log_in_staff, make_patient

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

HOME = reverse("staff_appointments:home")


@pytest.fixture
def monday(client, clinic, anna, staff, frozen_now):
    started = book(make_patient(full_name="Petra Pohl"), anna, local(clinic, 2026, 3, 9, 10))
    later = book(make_patient(full_name="Max Meier"), anna, local(clinic, 2026, 3, 9, 15))
    gone = book(make_patient(full_name="Nina Neu"), anna, local(clinic, 2026, 3, 9, 16))
    cancel_appointment(appointment=gone, cancelled_by=staff, reason="Ill", by_clinic=True)
    tuesday = book(make_patient(full_name="Tom Tuesday"), anna, local(clinic, 2026, 3, 10, 9))
    anna.weekly_rules.filter(weekday=1).delete()  # Tuesday's hours gone: a conflict
    frozen_now.move_to(dt.datetime(2026, 3, 9, 9, 45, tzinfo=dt.UTC))
    log_in_staff(client, staff)
    return started, later, gone, tuesday


def test_it_lists_what_to_mark_what_comes_the_cancellations_and_conflicts(client, monday):
    _started, _later, _gone, tuesday = monday

    page = client.get(HOME).text

    to_mark, rest = page.split("Coming up today", 1)
    assert "Petra Pohl" in to_mark
    assert "Came<span" in to_mark
    coming, rest = rest.split("Today's cancellations", 1)
    assert "Max Meier" in coming
    cancelled, conflicts = rest.split("Open conflicts this week", 1)
    assert "Nina Neu" in cancelled
    assert "Tom Tuesday" in conflicts
    assert reverse("staff_appointments:reschedule", args=[tuesday.pk]) in conflicts
    assert "3 appointments today" not in page  # the cancelled one does not count
    assert "2 appointments today" in page


def test_marking_from_the_today_view_comes_back_to_it(client, monday):
    started = monday[0]

    response = client.post(
        reverse("staff_appointments:attendance", args=[started.pk]),
        {"status": "completed", "next": HOME},
    )

    assert response["Location"] == HOME
    assert "Petra Pohl" not in client.get(HOME).text.split("Coming up today")[0]
